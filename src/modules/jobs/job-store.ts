import type { JobRecord, JobStatus } from "./types.ts";

/** Who holds a job: the instance running it and when it last said so. */
export interface JobLease {
  /** The id of the instance that submitted (and runs) the job. */
  owner: string;
  /** A name for the owner that survives restarts, or null (see {@link SweepOptions.previous}). */
  ownerKey: string | null;
  /** ISO 8601 UTC time of the owner's last heartbeat. */
  heartbeatAt: string;
}

/** How a job ended. */
export interface JobOutcome {
  /** The final status. */
  status: "completed" | "failed" | "canceled";
  /** ISO 8601 UTC end time. */
  finished_at: string;
  /** See {@link JobRecord.error}. */
  error: string | null;
  /** See {@link JobRecord.error_traceback}. */
  error_traceback: string | null;
  /** See {@link JobRecord.artifact_id}. */
  artifact_id: string | null;
}

/** Which abandoned jobs {@link JobStore.sweep} fails. */
export interface SweepOptions {
  /** ISO 8601 UTC time written as `finished_at`. */
  now: string;
  /** Active jobs whose heartbeat is older than this ISO 8601 UTC time are abandoned. */
  staleBefore: string;
  /**
   * Also abandoned: active jobs whose owner key is `key` but whose owner is
   * not `instance`, i.e. left by an earlier run of this same instance.
   */
  previous?: { key: string; instance: string };
}

/** The text that starts the `error` of a job whose owner stopped before it finished. */
export const JOB_INTERRUPTED_PREFIX = "JobInterrupted: Job was interrupted: its instance ";

/** The text that ends the `error` of an interrupted job. */
export const JOB_INTERRUPTED_SUFFIX = " stopped before it finished";

/** The `error` of a job interrupted because its owner instance stopped. */
export function jobInterruptedError(owner: string): string {
  return `${JOB_INTERRUPTED_PREFIX}${owner}${JOB_INTERRUPTED_SUFFIX}`;
}

/**
 * Where a job runner keeps its records. Every state change is conditional
 * on the current status, so a cancel, a finish and a sweep racing for the
 * same job leave exactly one of them applied.
 */
export interface JobStore {
  /** Stores a new job record with its lease. */
  insert(record: JobRecord, lease: JobLease): Promise<void>;
  /** `pending` → `running` with `started_at`; null when the job is no longer pending. */
  start(id: string, startedAt: string): Promise<JobRecord | null>;
  /** Ends a `pending` or `running` job; null when it had already ended or is gone. */
  finish(id: string, outcome: JobOutcome): Promise<JobRecord | null>;
  /** Records the progress of a `running` job; false when it is no longer running. */
  progress(id: string, fraction: number, message: string | null): Promise<boolean>;
  /** The record, or null. */
  get(id: string): Promise<JobRecord | null>;
  /** Records, newest `submitted_at` first, optionally of one status. */
  list(status?: JobStatus): Promise<JobRecord[]>;
  /** Removes the record; true when it existed. */
  delete(id: string): Promise<boolean>;
  /** Refreshes the heartbeat of every active job of `owner`. */
  heartbeat(owner: string, at: string): Promise<void>;
  /** The current status of each of these jobs that still exists. */
  statuses(ids: readonly string[]): Promise<Map<string, JobStatus>>;
  /**
   * Fails every abandoned active job (see {@link SweepOptions}) with
   * {@link jobInterruptedError} and returns them. Atomic per job: a job whose
   * heartbeat is refreshed concurrently is left alone.
   */
  sweep(options: SweepOptions): Promise<JobRecord[]>;
}
