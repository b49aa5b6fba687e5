import type { TSchema } from "@sinclair/typebox";

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
  /**
   * The queue fields below are present on jobs enqueued by handler name
   * ({@link JobRunner.enqueue}) and absent on jobs submitted as functions,
   * which keep the contract's shape.
   */
  /** The handler that runs it. */
  name?: string;
  /** The payload the handler receives. */
  payload?: unknown;
  /** Higher runs first; FIFO within a priority. */
  priority?: number;
  /** Attempts started so far. */
  attempts?: number;
  /** Attempts allowed before the job fails for good (a dead letter). */
  max_attempts?: number;
  /** The error of the last failed attempt, or null. */
  last_error?: string | null;
  /** While `pending`: when it becomes eligible to run (a delay or a retry's back-off); otherwise null. */
  next_run_at?: string | null;
  /** True when it failed after using every attempt (listed by `?status_filter=failed&dead_letter=true`). */
  dead_letter?: boolean;
  /** The key that made its enqueue idempotent while it is pending or running, or null. */
  dedup_key?: string | null;
  /** Jobs that must complete before it runs. */
  depends_on?: string[];
}

/** How long to wait before each retry: `delay_ms × factor^(attempt−1)`, capped at `max_ms`, with full jitter. */
export interface JobBackoff {
  /** The first retry's delay in milliseconds (default 1 000). */
  delay_ms?: number;
  /** Growth per attempt (default 2). */
  factor?: number;
  /** The longest delay in milliseconds (default 300 000). */
  max_ms?: number;
  /** Whether to draw each delay uniformly from [delay/2, delay] (default true), so retries of many jobs spread out. */
  jitter?: boolean;
}

/** Options of {@link JobRunner.enqueue}; they override the handler's defaults. */
export interface EnqueueOptions {
  /** Higher runs first (an integer from -1000 to 1000, default 0). */
  priority?: number;
  /** Not before this time (ISO 8601 or a Date). */
  runAt?: string | Date;
  /** Not before this many milliseconds from now. */
  delayMs?: number;
  /** Attempts allowed (default the handler's, else 1). */
  maxAttempts?: number;
  /** Delays between attempts. */
  backoff?: JobBackoff;
  /** Milliseconds an attempt may run before its signal aborts and it fails (default none). */
  timeoutMs?: number;
  /** While a job with this key is pending or running, enqueue returns it instead of adding another. */
  dedupKey?: string;
  /** Ids of jobs that must complete first; if one fails, is canceled or deleted, this job fails. */
  dependsOn?: readonly string[];
}

/** What {@link JobRunner.enqueue} did. */
export interface Enqueued {
  /** The new job, or the pending or running job with the same dedup key. */
  record: JobRecord;
  /** False when an existing job with the same dedup key was returned. */
  created: boolean;
}

/** What a named handler receives besides its payload. */
export interface JobHandlerContext extends JobContext {
  /** This attempt's number, from 1. */
  readonly attempt: number;
  /** The handler's name. */
  readonly name: string;
}

/** A job handler registered by name (see {@link JobRunner.register}). */
export interface JobHandler<P = unknown> {
  /** TypeBox (JSON) schema every payload must match; checked at enqueue. */
  payload: TSchema;
  /** The work. A return value that is a ULID becomes `artifact_id`; a throw fails the attempt. */
  run(payload: P, context: JobHandlerContext): unknown;
  /** Default attempts (default 1). */
  maxAttempts?: number;
  /** Default back-off between attempts. */
  backoff?: JobBackoff;
  /** Default per-attempt timeout in milliseconds. */
  timeoutMs?: number;
  /** Default priority. */
  priority?: number;
}

/** What a job function receives. */
export interface JobContext {
  /** ULID of the job, as `GET /api/v1/jobs/{job_id}` takes it. */
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
  /** Only dead letters (true) or only other jobs (false). */
  deadLetter?: boolean;
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
  /**
   * Records a new job that runs `fn` in this process (the queue's only job
   * kind that cannot move: its function lives here); one attempt. It is
   * stored `running` and starts at once when a slot is free, else `pending`.
   * Resolves with the job id.
   */
  submit(fn: JobFunction): Promise<string>;
  /** Registers the handler of jobs named `name`; this instance then claims them. @throws {TypeError} when the name is taken. */
  register<P>(name: string, handler: JobHandler<P>): void;
  /**
   * Adds a job for handler `name` that any instance with that handler may
   * run. @throws {ValidationError} when the name is unknown, the payload
   * does not match the handler's schema or an option is out of range.
   */
  enqueue(name: string, payload: unknown, options?: EnqueueOptions): Promise<Enqueued>;
  /**
   * Puts a failed or canceled job enqueued by name back in the queue with
   * fresh attempts. @throws {NotFoundError} @throws {ConflictError} when it is
   * active or was submitted as a function.
   */
  retry(id: string): Promise<JobRecord>;
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
