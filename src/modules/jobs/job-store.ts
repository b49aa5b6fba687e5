import type { JobBackoff, JobRecord, JobStatus } from "./types.ts";

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
  /** True when a named job failed after its last attempt. */
  dead_letter?: boolean;
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

/** A job enqueued by handler name, as the store receives it. */
export interface NewJob {
  /** ULID of the job. */
  id: string;
  /** The handler's name. */
  name: string;
  /** The payload, already checked against the handler's schema. */
  payload: unknown;
  /** Higher first. */
  priority: number;
  /** Attempts allowed. */
  maxAttempts: number;
  /** Back-off between attempts (stored as given). */
  backoff: JobBackoff | null;
  /** Per-attempt timeout in milliseconds, or null. */
  timeoutMs: number | null;
  /** Idempotency key while active, or null. */
  dedupKey: string | null;
  /** Jobs that must complete first. */
  dependsOn: readonly string[];
  /** ISO 8601 UTC submission time. */
  submittedAt: string;
  /** ISO 8601 UTC time from which it may run. */
  runAt: string;
  /** The instance that enqueued it (its owner until one claims it). */
  owner: string;
}

/** A job a runner has claimed: what it needs to run one attempt. */
export interface ClaimedJob {
  /** ULID of the job. */
  id: string;
  /** Null for a job submitted as a function (run from this runner's memory). */
  name: string | null;
  /** As enqueued; the job's handler receives it unchanged. */
  payload: unknown;
  /** This attempt's number, from 1. */
  attempt: number;
  /** Attempts allowed. */
  maxAttempts: number;
  /** Back-off between attempts. */
  backoff: JobBackoff | null;
  /** Per-attempt timeout in milliseconds, or null. */
  timeoutMs: number | null;
  /** Higher first. */
  priority: number;
}

/** What {@link JobStore.claim} takes. */
export interface ClaimOptions {
  /** The claiming instance (written as owner). */
  owner: string;
  /** Its restart-surviving name, or null. */
  ownerKey: string | null;
  /** Handler names this instance runs. */
  names: readonly string[];
  /** Jobs to claim at most. */
  limit: number;
  /** ISO 8601 UTC now: start time, heartbeat, and the bound on `run_at`. */
  now: string;
}

/** One attempt's end, as {@link JobStore.finishMany} applies it. */
export interface AttemptEnd {
  /** ULID of the job. */
  id: string;
  /** The instance that ran the attempt. */
  owner: string;
  /** The attempt's number: an end whose attempt no longer matches (the job moved on) is dropped. */
  attempt: number;
  /** The final outcome, or a retry: back to `pending` at `runAt` with `lastError`. */
  outcome: JobOutcome | { retryAt: string; lastError: string };
}

/** The ends {@link JobStore.finishMany} applied: job id to its record as stored, or null when not asked for. */
export type AppliedEnds = Map<string, JobRecord | null>;

/**
 * Where a job runner keeps its records. Every state change is conditional
 * on the current status (and, for an attempt's end, on its owner and attempt
 * number), so a cancel, a finish and a sweep racing for the same job leave
 * exactly one of them applied, and a claim hands each job to one runner.
 */
export interface JobStore {
  /** Stores a job submitted as a function, `pending`, owned by the instance that holds the function. */
  insert(record: JobRecord, lease: JobLease): Promise<void>;
  /**
   * Stores jobs enqueued by name with their dependencies, in one
   * transaction. A job whose dedup key is held by an active job is not
   * stored: the active job is returned with `created: false`.
   */
  enqueue(jobs: readonly NewJob[]): Promise<{ record: JobRecord; created: boolean }[]>;
  /**
   * Claims up to `limit` eligible pending jobs (run time reached, every
   * dependency completed; named jobs of `names`, and function jobs of
   * `owner`), highest priority first, then oldest: each becomes `running`
   * with one more attempt. Concurrent claims never return the same job.
   */
  claim(options: ClaimOptions): Promise<ClaimedJob[]>;
  /** Ids of the jobs `owner` holds as `running`. */
  runningOf(owner: string): Promise<string[]>;
  /** Gives claimed jobs that never started back to the queue, their attempt uncounted. */
  unclaim(ids: readonly string[], owner: string): Promise<void>;
  /**
   * Applies attempt ends in one statement. Returns the ids applied (an end
   * whose job moved on is not), each with its record as stored when
   * `records` is set (null for a job with dependencies), else null.
   */
  finishMany(ends: readonly AttemptEnd[], options?: { records?: boolean }): Promise<AppliedEnds>;
  /** Ends a `pending` or `running` job (a cancel); null when it had already ended or is gone. */
  finish(id: string, outcome: JobOutcome): Promise<JobRecord | null>;
  /** Fails pending jobs with a dependency that failed, was canceled or is gone; returns their ids. */
  failBlocked(now: string): Promise<string[]>;
  /** A failed or canceled named job back to `pending` with fresh attempts; null when not allowed. */
  requeue(id: string, now: string): Promise<JobRecord | null>;
  /** Records the progress of a `running` job; false when it is no longer running. */
  progress(id: string, fraction: number, message: string | null): Promise<boolean>;
  /** The record, or null. */
  get(id: string): Promise<JobRecord | null>;
  /** Records, newest `submitted_at` first, optionally of one status and dead-letter state. */
  list(status?: JobStatus, deadLetter?: boolean): Promise<JobRecord[]>;
  /** Removes the record; true when it existed. */
  delete(id: string): Promise<boolean>;
  /** Refreshes the heartbeat of every active job of `owner`. */
  heartbeat(owner: string, at: string): Promise<void>;
  /** The current status and owner of each of these jobs that still exists. */
  statuses(ids: readonly string[]): Promise<Map<string, { status: JobStatus; owner: string }>>;
  /**
   * Ends every abandoned active job (see {@link SweepOptions}): a running
   * named job with attempts left goes back to `pending`; the others fail
   * with {@link jobInterruptedError}. Returns the jobs failed. Atomic per
   * job: a job whose heartbeat is refreshed concurrently is left alone.
   */
  sweep(options: SweepOptions): Promise<JobRecord[]>;
}
