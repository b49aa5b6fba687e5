import type { Logger } from "../../core/logging.ts";
import { describeJobError } from "./job-error.ts";
import type { AppliedEnds, AttemptEnd, JobStore } from "./job-store.ts";

function withoutNul(text: string): string {
  return text.replaceAll("\u0000", "");
}

/** The end written instead of one the store refused: the job fails with the store's error. */
function storeFailure(end: AttemptEnd, failure: unknown): AttemptEnd {
  const described = describeJobError(failure);
  const original = "retryAt" in end.outcome
    ? end.outcome.lastError
    : end.outcome.error_traceback ?? end.outcome.error ?? end.outcome.status;
  return {
    ...end,
    outcome: {
      status: "failed",
      finished_at: new Date().toISOString(),
      artifact_id: null,
      error: withoutNul(`JobStoreError: the job's outcome could not be stored: ${described.error}`),
      error_traceback: withoutNul(`${original}\n\n${described.error_traceback}`),
    },
  };
}

/** What an {@link AttemptEndWriter} needs from its runner. */
export interface AttemptEndWriterOptions {
  /** Where ends are written. */
  store: JobStore;
  /** Runs a store call, waiting out an unreachable store; other errors are thrown. */
  untilStored<T>(what: string, call: () => Promise<T>): Promise<T>;
  /** Whether someone waits for this job's end: its record is then read back with the write. */
  awaited(id: string): boolean;
  /** Told after each batch: which ends were applied (the others were stale), with the records read back. */
  written(ends: readonly AttemptEnd[], applied: AppliedEnds): void;
  /** Told when a job's end was finally written by a retry. */
  late(id: string): void;
  /** Where write failures are logged. */
  logger?: Logger | undefined;
}

/** Ends written per statement at most. */
const BATCH = 500;
/** Batches written at once at most: while one waits on the store, the next is on its way. */
const PARALLEL = 3;

/** Runs `fn` once the current turn's callbacks (and their microtasks) are done. */
const afterThisTurn: (fn: () => void) => void = typeof setImmediate === "function"
  ? (fn) => void setImmediate(fn)
  : (fn) => void setTimeout(fn, 0);

/**
 * Writes attempt ends in batches: the ends of one turn of the event loop go
 * together, in batches of up to 500, with up to three batches on their way at
 * once; ends arriving meanwhile form the next batches. While the store is
 * unreachable the batches wait (jobs pause, no result is lost); when the store
 * refuses a batch, each end is written alone, and an end the store cannot
 * hold fails its job with the store's error, retried by {@link retryUnfinished}
 * until it is stored, so no job stays `running`.
 */
export class AttemptEndWriter {
  readonly #options: AttemptEndWriterOptions;
  readonly #ends: { end: AttemptEnd; done: (applied: boolean) => void }[] = [];
  readonly #unfinished = new Map<string, AttemptEnd>();
  readonly #flushes = new Set<Promise<void>>();
  #due = false;
  #pending = 0;

  /** A writer for one runner. */
  constructor(options: AttemptEndWriterOptions) {
    this.#options = options;
  }

  /** Ends queued or being written: their jobs still count against the claim room. */
  get pending(): number {
    return this.#pending;
  }

  /** Queues an end for the next batch; resolves once written (true) or dropped as stale (false). */
  write(end: AttemptEnd): Promise<boolean> {
    this.#pending += 1;
    return new Promise((resolve) => {
      const done = (applied: boolean): void => {
        this.#pending -= 1;
        resolve(applied);
      };
      this.#ends.push({ end, done });
      if (!this.#due && this.#flushes.size < PARALLEL) {
        this.#due = true;
        afterThisTurn(() => {
          this.#due = false;
          this.#start();
        });
      }
    });
  }

  /** Resolves when the ends queued so far are written. */
  async drained(): Promise<void> {
    while (this.#ends.length > 0 || this.#flushes.size > 0) {
      this.#start();
      await Promise.all(this.#flushes);
    }
  }

  /** Writes again the failures that even the fallback write could not store. */
  async retryUnfinished(): Promise<void> {
    for (const [id, end] of [...this.#unfinished]) {
      try {
        await this.#options.store.finishMany([end]);
        this.#unfinished.delete(id);
        this.#options.late(id);
      } catch (failure) {
        this.#options.logger?.error("jobs.store.failed", { job_id: id, error: failure });
      }
    }
  }

  /** Sends the queued ends while fewer than {@link PARALLEL} batches are on their way. */
  #start(): void {
    while (this.#ends.length > 0 && this.#flushes.size < PARALLEL) {
      const flush: Promise<void> = this.#flush(this.#ends.splice(0, BATCH)).catch((failure: unknown) => {
        this.#options.logger?.error("jobs.store.failed", { error: failure });
      }).finally(() => {
        this.#flushes.delete(flush);
        this.#start();
      });
      this.#flushes.add(flush);
    }
  }

  async #flush(batch: readonly { end: AttemptEnd; done: (applied: boolean) => void }[]): Promise<void> {
    const { store, untilStored } = this.#options;
    let applied: AppliedEnds;
    const records = batch.some((entry) => this.#options.awaited(entry.end.id));
    try {
      applied = await untilStored("finish", () => store.finishMany(batch.map((entry) => entry.end), { records }));
    } catch {
      applied = await this.#oneByOne(batch);
    }
    this.#options.written(batch.map((entry) => entry.end), applied);
    for (const { end, done } of batch) done(applied.has(end.id));
  }

  async #oneByOne(batch: readonly { end: AttemptEnd }[]): Promise<AppliedEnds> {
    const { store, logger } = this.#options;
    const applied: AppliedEnds = new Map();
    for (const { end } of batch) {
      try {
        if ((await store.finishMany([end])).has(end.id)) applied.set(end.id, null);
        continue;
      } catch (failure) {
        logger?.error("jobs.store.failed", { job_id: end.id, error: failure });
        const fallback = storeFailure(end, failure);
        try {
          if ((await store.finishMany([fallback])).has(end.id)) applied.set(end.id, null);
        } catch {
          this.#unfinished.set(end.id, fallback);
        }
      }
    }
    return applied;
  }
}
