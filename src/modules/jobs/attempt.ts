import { nowIso } from "../../core/time.ts";
import { isUlid } from "../../core/ulid.ts";
import { backoffDelay } from "./enqueue-options.ts";
import type { AttemptEnd, ClaimedJob } from "./job-store.ts";
import type { JobContext, JobHandlerContext } from "./types.ts";

/** The error of an attempt that ran past its timeout. */
export class JobTimeoutError extends Error {
  /** An attempt stopped after `ms` milliseconds. */
  constructor(ms: number) {
    super(`Job attempt timed out after ${ms} ms`);
    this.name = "JobTimeout";
  }
}

/** How an attempt's code ended: with a value, or by throwing. */
export type AttemptResult = { ok: true; value: unknown } | { ok: false; thrown: unknown };

/**
 * Runs one attempt of `job` with `code`. The attempt's signal aborts with
 * the job's (`held`: cancel, sweep, close) and at the job's timeout, which
 * also ends the attempt with a {@link JobTimeoutError}.
 */
export async function runAttempt(
  job: ClaimedJob,
  code: (context: JobHandlerContext) => unknown,
  options: { held: AbortSignal; progress: JobContext["progress"] },
): Promise<AttemptResult> {
  const context = { jobId: job.id, signal: options.held, progress: options.progress, attempt: job.attempt, name: job.name ?? "" };
  // Without a timeout the attempt's signal is the job's: one controller less per job.
  if (job.timeoutMs === null) {
    try {
      return { ok: true, value: await Promise.resolve().then(() => code(context)) };
    } catch (thrown) {
      return { ok: false, thrown };
    }
  }
  const attempt = new AbortController();
  const onAbort = (): void => attempt.abort(options.held.reason);
  options.held.addEventListener("abort", onAbort, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const ms = job.timeoutMs;
    const work: Promise<unknown> = Promise.resolve().then(() => code({ ...context, signal: attempt.signal }));
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new JobTimeoutError(ms);
        attempt.abort(error);
        reject(error);
      }, ms);
    });
    return { ok: true, value: await Promise.race([work, timedOut]) };
  } catch (thrown) {
    return { ok: false, thrown };
  } finally {
    clearTimeout(timer);
    options.held.removeEventListener("abort", onAbort);
  }
}

/** The end of an attempt that returned `value` (a ULID is kept as `artifact_id`). */
export function completedOutcome(value: unknown): AttemptEnd["outcome"] {
  return {
    status: "completed",
    finished_at: nowIso(),
    error: null,
    error_traceback: null,
    artifact_id: isUlid(value) ? value : null,
  };
}

/**
 * The end of a failed attempt: a retry after the back-off while attempts
 * remain (named jobs only; at once when the runner is `closing`), otherwise
 * the final failure, a dead letter for named jobs. `retryInMs` is the delay
 * of a retry, or null.
 */
export function failureOutcome(
  job: ClaimedJob,
  error: { error: string; traceback: string | null },
  closing: boolean,
): { outcome: AttemptEnd["outcome"]; retryInMs: number | null } {
  if (job.name !== null && job.attempt < job.maxAttempts) {
    const delay = closing ? 0 : backoffDelay(job.backoff, job.attempt);
    return { outcome: { retryAt: new Date(Date.now() + delay).toISOString(), lastError: error.error }, retryInMs: closing ? null : delay };
  }
  return {
    outcome: {
      status: "failed",
      finished_at: new Date().toISOString(),
      error: error.error,
      error_traceback: error.traceback ?? error.error,
      artifact_id: null,
      dead_letter: job.name !== null,
    },
    retryInMs: null,
  };
}
