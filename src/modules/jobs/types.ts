/** The state of a job: `pending → running → completed | failed | canceled`. */
export type JobStatus = "pending" | "running" | "completed" | "failed" | "canceled";

/** Every job status, in lifecycle order. */
export const JOB_STATUSES: readonly JobStatus[] = ["pending", "running", "completed", "failed", "canceled"];

/** The statuses of a job that has not finished yet. */
export const ACTIVE_JOB_STATUSES: readonly JobStatus[] = ["pending", "running"];

/** Whether a job in this status has finished (completed, failed or canceled). */
export function isFinishedStatus(status: JobStatus): boolean {
  return status === "completed" || status === "failed" || status === "canceled";
}

/**
 * A job as clients see it (contract §10.1): every key always present, in this
 * order; timestamps ISO 8601 UTC with milliseconds and `Z`.
 */
export interface JobRecord {
  /** ULID of the job. */
  id: string;
  /** Where the job is in its lifecycle. */
  status: JobStatus;
  /** When it was submitted. */
  submitted_at: string;
  /** When it started running, or null. */
  started_at: string | null;
  /** When it completed, failed or was canceled, or null. */
  finished_at: string | null;
  /** On failure: `"<ErrorName>: <last line of the message>"`; otherwise null. */
  error: string | null;
  /** On failure: the stack trace; otherwise null. */
  error_traceback: string | null;
  /** The job's return value when it completed with a ULID (an artifact id); otherwise null. */
  artifact_id: string | null;
  /**
   * The last fraction done (0 to 1) its function reported through
   * {@link JobContext.progress}; absent until it reports one, so jobs that
   * never do keep the contract's eight keys.
   */
  progress?: number;
  /** The message reported with the last progress, when there was one. */
  progress_message?: string;
}

/** What a job function receives. */
export interface JobContext {
  /** The job's id. */
  readonly jobId: string;
  /** Aborted when the job is canceled (or the runner closes); stop work when it fires. */
  readonly signal: AbortSignal;
  /**
   * Reports how far the job is: `fraction` from 0 to 1 and an optional
   * message, shown in the job's record and its `$stream`. Calls in quick
   * succession are coalesced (the latest value wins); the promise resolves
   * once this value or a later one is stored. @throws {RangeError} when
   * `fraction` is not a number from 0 to 1.
   */
  progress(fraction: number, message?: string): Promise<void>;
}

/**
 * The work of a job. Its return value decides `artifact_id`: a ULID is kept,
 * anything else is dropped. A throw fails the job.
 */
export type JobFunction = (context: JobContext) => unknown;

/** Options of {@link JobRunner.list}. */
export interface JobListOptions {
  /** Only jobs in this status. */
  status?: JobStatus;
}

/**
 * Runs jobs in this process and keeps their records (contract §10).
 *
 * @example
 * ```ts ignore
 * const id = await runner.submit(async ({ signal }) => {
 *   const response = await fetch("https://example.org", { signal });
 *   return await response.text();
 * });
 * const record = await runner.wait(id, 10_000);
 * ```
 */
export interface JobRunner {
  /** Records a new `pending` job and schedules `fn`; resolves with the job id. */
  submit(fn: JobFunction): Promise<string>;
  /** The job's record. @throws {NotFoundError} */
  get(id: string): Promise<JobRecord>;
  /** Job records, newest `submitted_at` first. */
  list(options?: JobListOptions): Promise<JobRecord[]>;
  /**
   * Cancels a pending or running job (its signal aborts) and keeps its
   * record, now `canceled`. @throws {NotFoundError} @throws {ConflictError}
   * when the job has already finished.
   */
  cancel(id: string): Promise<JobRecord>;
  /** Cancels the job if it is active, waits for its function to settle, then removes the record. @throws {NotFoundError} */
  delete(id: string): Promise<void>;
  /**
   * Resolves with the record once the job has finished, or with its current
   * (still active) record when `timeoutMs` passes first. @throws {NotFoundError}
   */
  wait(id: string, timeoutMs?: number): Promise<JobRecord>;
  /** Stops heartbeats and sweeps; aborts the jobs still running. */
  close(): Promise<void>;
}
