import { ConflictError, NotFoundError, UnavailableError } from "../../core/errors.ts";
import { describeJobError } from "./job-error.ts";
import { jobInterruptedError, type JobOutcome, type JobStore } from "./job-store.ts";
import {
  isFinishedStatus,
  type JobFunction,
  type JobListOptions,
  type JobRecord,
  type JobRunner,
} from "./types.ts";
import type { Logger } from "../../core/logging.ts";
import { isUlid, newUlid } from "../../core/ulid.ts";

/** Options of {@link InProcessJobRunner}. */
export interface InProcessJobRunnerOptions {
  /** Where records live. */
  store: JobStore;
  /** This instance's id, written as the owner of its jobs (default: a fresh ULID). */
  instanceId?: string;
  /**
   * A name of this instance that survives restarts. At start-up, active jobs
   * with this name but another instance id were left by an earlier run and
   * fail at once instead of when their lease expires. Null: leases only.
   */
  identity?: string | null;
  /** Jobs running at once; null or 0 means unlimited. */
  maxConcurrency?: number | null;
  /** Milliseconds between heartbeats and sweeps (default 10 000). */
  heartbeatMs?: number;
  /** Milliseconds after its last heartbeat that an active job counts as abandoned (default 60 000). */
  leaseTtlMs?: number;
  /** Milliseconds `delete` and `close` wait for a canceled function to settle (default 5 000). */
  cancelGraceMs?: number;
  /** Milliseconds between store polls while waiting for another instance's job (default 250). */
  pollMs?: number;
  /**
   * Longest wait in milliseconds between retries of a claim, completion or
   * heartbeat the store could not take because it was unreachable (default
   * 500): jobs pause while the store is away and go on as soon as it is back.
   */
  storeRetryMaxMs?: number;
  /** Where runner events are logged. */
  logger?: Logger;
}

interface LocalJob {
  readonly id: string;
  readonly fn: JobFunction;
  readonly controller: AbortController;
  running: boolean;
  readonly settled: Promise<void>;
  settle(): void;
}

/**
 * A job's `progress` function: checks the fraction, keeps only the latest
 * value while a write is in flight, and resolves each call once its value
 * (or a later one) is stored. A failed write is reported to `failed`, never
 * to the job, which may not await its progress calls.
 */
function progressReporter(
  write: (fraction: number, message: string | null) => Promise<unknown>,
  written: () => void,
  failed: (error: unknown) => void,
): (fraction: number, message?: string) => Promise<void> {
  let latest: { fraction: number; message: string | null } | undefined;
  let flushing: Promise<void> | undefined;
  const flush = async (): Promise<void> => {
    try {
      while (latest !== undefined) {
        const value = latest;
        latest = undefined;
        await write(value.fraction, value.message);
        written();
      }
    } catch (error) {
      failed(error);
    } finally {
      flushing = undefined;
    }
  };
  return (fraction, message) => {
    if (typeof fraction !== "number" || !Number.isFinite(fraction) || fraction < 0 || fraction > 1) {
      throw new RangeError(`Job progress must be a number from 0 to 1, got ${String(fraction)}`);
    }
    latest = { fraction, message: message ?? null };
    flushing ??= flush();
    return flushing;
  };
}

function withoutNul(text: string): string {
  return text.replaceAll("\u0000", "");
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The in-process {@link JobRunner}: runs job functions in this process with a
 * concurrency limit and keeps their records in a {@link JobStore}. Active jobs
 * hold a lease (owner instance id + heartbeat); {@link InProcessJobRunner.start}
 * and a periodic sweep fail the jobs whose owner is gone.
 *
 * @example
 * ```ts
 * import { InProcessJobRunner } from "./runner.ts";
 * import { MemoryJobStore } from "./memory-store.ts";
 * const runner = new InProcessJobRunner({ store: new MemoryJobStore(), maxConcurrency: 2 });
 * await runner.start();
 * const id = await runner.submit(() => 42);
 * const record = await runner.wait(id, 5_000); // record.status === "completed"
 * await runner.close();
 * ```
 */
export class InProcessJobRunner implements JobRunner {
  /** The id written as the owner of this runner's jobs. */
  readonly instanceId: string;
  readonly #store: JobStore;
  readonly #identity: string | null;
  readonly #limit: number;
  readonly #heartbeatMs: number;
  readonly #leaseTtlMs: number;
  readonly #graceMs: number;
  readonly #pollMs: number;
  readonly #storeRetryMaxMs: number;
  readonly #logger: Logger | undefined;
  readonly #local = new Map<string, LocalJob>();
  readonly #queue: LocalJob[] = [];
  readonly #listeners = new Map<string, Set<() => void>>();
  // Outcomes the store refused; retried at each tick so no job stays `running`.
  readonly #unfinished = new Map<string, JobOutcome>();
  #running = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #ticking = false;
  /** Epoch ms before which no sweep runs: after an outage, other instances first renew their leases. */
  #sweepNotBefore = 0;
  #storeAway = false;
  #closed = false;

  /** Creates a runner over a job store; call `start()` to begin taking jobs. */
  constructor(options: InProcessJobRunnerOptions) {
    this.#store = options.store;
    this.instanceId = options.instanceId ?? newUlid();
    this.#identity = options.identity ?? null;
    this.#limit = options.maxConcurrency && options.maxConcurrency > 0 ? options.maxConcurrency : 0;
    this.#heartbeatMs = options.heartbeatMs ?? 10_000;
    this.#leaseTtlMs = options.leaseTtlMs ?? 60_000;
    this.#graceMs = options.cancelGraceMs ?? 5_000;
    this.#pollMs = options.pollMs ?? 250;
    this.#storeRetryMaxMs = Math.max(1, options.storeRetryMaxMs ?? 500);
    this.#logger = options.logger;
  }

  /** Jobs running at once at most (0 = unlimited). */
  get maxConcurrency(): number {
    return this.#limit;
  }

  /**
   * Fails the jobs left behind by stopped instances (expired leases and,
   * with an identity, this instance's earlier runs), then starts the
   * periodic heartbeat and sweep. Returns the jobs it failed.
   */
  async start(): Promise<JobRecord[]> {
    const now = Date.now();
    const swept = await this.#store.sweep({
      now: new Date(now).toISOString(),
      staleBefore: new Date(now - this.#leaseTtlMs).toISOString(),
      ...(this.#identity === null ? {} : { previous: { key: this.#identity, instance: this.instanceId } }),
    });
    this.#logSwept(swept);
    if (this.#timer === undefined && !this.#closed) {
      this.#timer = setInterval(() => void this.#tick(), this.#heartbeatMs);
      const timer = this.#timer as unknown as { unref?: () => void };
      if (typeof timer === "object" && typeof timer.unref === "function") timer.unref();
    }
    return swept;
  }

  async submit(fn: JobFunction): Promise<string> {
    if (this.#closed) throw new Error("The job runner is closed");
    const id = newUlid();
    const now = new Date().toISOString();
    const record: JobRecord = {
      id,
      status: "pending",
      submitted_at: now,
      started_at: null,
      finished_at: null,
      error: null,
      error_traceback: null,
      artifact_id: null,
    };
    await this.#store.insert(record, { owner: this.instanceId, ownerKey: this.#identity, heartbeatAt: now });
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const job: LocalJob = { id, fn, controller: new AbortController(), running: false, settled, settle };
    this.#local.set(id, job);
    this.#queue.push(job);
    this.#pump();
    return id;
  }

  async get(id: string): Promise<JobRecord> {
    const record = await this.#store.get(id);
    if (!record) throw new NotFoundError(`Job ${id} not found`);
    return record;
  }

  list(options: JobListOptions = {}): Promise<JobRecord[]> {
    return this.#store.list(options.status);
  }

  async cancel(id: string): Promise<JobRecord> {
    const record = await this.#store.finish(id, {
      status: "canceled",
      finished_at: new Date().toISOString(),
      error: null,
      error_traceback: null,
      artifact_id: null,
    });
    if (!record) {
      const current = await this.get(id);
      throw new ConflictError(`Job ${id} has already finished (${current.status}) and cannot be canceled`);
    }
    this.#abandon(id);
    return record;
  }

  async delete(id: string): Promise<void> {
    const record = await this.get(id);
    if (!isFinishedStatus(record.status)) {
      try {
        await this.cancel(id);
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
      }
    }
    const local = this.#local.get(id);
    if (local) await Promise.race([local.settled, sleep(this.#graceMs)]);
    await this.#store.delete(id);
    this.#notify(id);
  }

  async wait(id: string, timeoutMs?: number): Promise<JobRecord> {
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + Math.max(0, timeoutMs);
    let wasLocal = this.#local.has(id);
    let record = await this.get(id);
    while (!isFinishedStatus(record.status)) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      const local = this.#local.has(id);
      // Released while the record was being read: read it again at once.
      if (wasLocal && !local) {
        wasLocal = false;
      } else {
        await this.#changeOf(id, Math.min(remaining, local ? 60_000 : this.#pollMs));
        wasLocal = this.#local.has(id);
      }
      record = await this.get(id);
    }
    return record;
  }

  /**
   * Stops heartbeats and sweeps, fails the jobs this instance still has
   * pending or running as interrupted, aborts their signals and waits
   * briefly for their functions to settle.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    while (this.#ticking) await sleep(5);
    await this.#retryUnfinished();
    const jobs = [...this.#local.values()];
    this.#queue.length = 0;
    const error = jobInterruptedError(this.instanceId);
    for (const job of jobs) {
      try {
        await this.#store.finish(job.id, {
          status: "failed",
          finished_at: new Date().toISOString(),
          error,
          error_traceback: error,
          artifact_id: null,
        });
      } catch (failure) {
        this.#logger?.error("jobs.close.failed", { job_id: job.id, error: failure });
      }
      job.controller.abort(new Error("The job runner is closing"));
      if (!job.running) this.#release(job);
    }
    await Promise.race([Promise.all(jobs.map((job) => job.settled)), sleep(this.#graceMs)]);
  }

  #pump(): void {
    while (!this.#closed && this.#queue.length > 0 && (this.#limit === 0 || this.#running < this.#limit)) {
      const job = this.#queue.shift()!;
      if (job.controller.signal.aborted) continue;
      this.#running += 1;
      job.running = true;
      void this.#run(job);
    }
  }

  async #run(job: LocalJob): Promise<void> {
    const { id, controller } = job;
    try {
      const started = await this.#claim(id);
      if (!started || controller.signal.aborted) return;
      this.#notify(id);
      let outcome: JobOutcome;
      try {
        const progress = progressReporter(
          (fraction, message) => this.#store.progress(id, fraction, message),
          () => this.#notify(id),
          (error) => this.#logger?.warn("jobs.progress.failed", { job_id: id, error }),
        );
        const value = await job.fn({ jobId: id, signal: controller.signal, progress });
        outcome = {
          status: "completed",
          finished_at: new Date().toISOString(),
          error: null,
          error_traceback: null,
          artifact_id: isUlid(value) ? value : null,
        };
      } catch (thrown) {
        outcome = { status: "failed", finished_at: new Date().toISOString(), artifact_id: null, ...describeJobError(thrown) };
        if (!controller.signal.aborted) this.#logger?.warn("jobs.failed", { job_id: id, error: outcome.error });
      }
      // A canceled or swept job keeps the status it was given.
      if (!controller.signal.aborted) await this.#finish(id, outcome);
    } catch (failure) {
      this.#logger?.error("jobs.store.failed", { job_id: id, error: failure });
    } finally {
      this.#running -= 1;
      this.#release(job);
      this.#pump();
    }
  }

  /**
   * Stores a job's outcome. While the store is unreachable the outcome waits
   * and is retried until it is back (the job pauses, it does not fail). When
   * the store refuses it (a value it cannot hold), the job still ends: failed,
   * with the store's error; if even that write fails it is retried at every tick.
   */
  async #finish(id: string, outcome: JobOutcome): Promise<void> {
    try {
      await this.#untilStored("finish", () => this.#store.finish(id, outcome));
      return;
    } catch (failure) {
      this.#logger?.error("jobs.store.failed", { job_id: id, error: failure });
      const described = describeJobError(failure);
      const fallback: JobOutcome = {
        status: "failed",
        finished_at: outcome.finished_at,
        artifact_id: null,
        error: withoutNul(`JobStoreError: the job's outcome could not be stored: ${described.error}`),
        error_traceback: withoutNul(`${outcome.error_traceback ?? outcome.error ?? outcome.status}\n\n${described.error_traceback}`),
      };
      try {
        await this.#store.finish(id, fallback);
      } catch {
        this.#unfinished.set(id, fallback);
      }
    }
  }

  async #retryUnfinished(): Promise<void> {
    for (const [id, outcome] of [...this.#unfinished]) {
      try {
        await this.#store.finish(id, outcome);
        this.#unfinished.delete(id);
        this.#notify(id);
      } catch (failure) {
        this.#logger?.error("jobs.store.failed", { job_id: id, error: failure });
      }
    }
  }

  /** `pending` → `running`; a claim whose answer was lost to an outage is recognised on retry. */
  async #claim(id: string): Promise<boolean> {
    let retried = false;
    const started = await this.#untilStored("start", () => {
      const attempt = this.#store.start(id, new Date().toISOString());
      return retried ? attempt : attempt.catch((error: unknown) => {
        retried = true;
        throw error;
      });
    });
    if (started) return true;
    // Only this instance starts its own jobs: `running` after a retry means the lost attempt applied.
    return retried && (await this.#untilStored("get", () => this.#store.get(id)))?.status === "running";
  }

  /**
   * Runs a store call, retrying it while the store is unreachable
   * (`UnavailableError`) with a backoff capped at `storeRetryMaxMs`, until it
   * succeeds or the runner closes; other errors are thrown at once.
   */
  async #untilStored<T>(what: string, call: () => Promise<T>): Promise<T> {
    let delay = Math.min(50, this.#storeRetryMaxMs);
    for (;;) {
      try {
        const result = await call();
        this.#storeBack();
        return result;
      } catch (error) {
        if (!(error instanceof UnavailableError) || this.#closed) throw error;
        this.#storeGone(what, error);
        await sleep(delay);
        delay = Math.min(delay * 2, this.#storeRetryMaxMs);
      }
    }
  }

  #storeGone(what: string, error: unknown): void {
    if (this.#storeAway) return;
    this.#storeAway = true;
    this.#logger?.warn("jobs.store.unavailable", { operation: what, error });
  }

  #storeBack(): void {
    if (!this.#storeAway) return;
    this.#storeAway = false;
    this.#sweepNotBefore = Date.now() + this.#heartbeatMs;
    this.#logger?.info("jobs.store.recovered", {});
    // Renew the leases of this instance's jobs at once rather than at the next tick.
    void this.#tick();
  }

  #release(job: LocalJob): void {
    job.running = false;
    this.#local.delete(job.id);
    job.settle();
    this.#notify(job.id);
  }

  #abandon(id: string): void {
    const job = this.#local.get(id);
    if (!job) return;
    job.controller.abort(new Error(`Job ${id} was canceled`));
    if (!job.running) {
      const index = this.#queue.indexOf(job);
      if (index >= 0) this.#queue.splice(index, 1);
      this.#release(job);
    }
    this.#notify(id);
  }

  #changeOf(id: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let listeners = this.#listeners.get(id);
      if (!listeners) this.#listeners.set(id, listeners = new Set());
      const done = (): void => {
        clearTimeout(timer);
        listeners!.delete(done);
        if (listeners!.size === 0 && this.#listeners.get(id) === listeners) this.#listeners.delete(id);
        resolve();
      };
      const timer = setTimeout(done, ms);
      listeners.add(done);
    });
  }

  #notify(id: string): void {
    const listeners = this.#listeners.get(id);
    if (listeners) for (const listener of [...listeners]) listener();
  }

  async #tick(): Promise<void> {
    if (this.#ticking || this.#closed) return;
    this.#ticking = true;
    try {
      await this.#retryUnfinished();
      // While the store is away the heartbeat is retried (and the tick waits), so the leases
      // of running jobs are renewed as soon as it is back.
      await this.#untilStored("heartbeat", () => this.#store.heartbeat(this.instanceId, new Date().toISOString()));
      const now = Date.now();
      // Another instance may have canceled, deleted or swept one of our jobs.
      const running = [...this.#local.values()].filter((job) => job.running).map((job) => job.id);
      if (running.length > 0) {
        const statuses = await this.#store.statuses(running);
        for (const id of running) {
          const status = statuses.get(id);
          if (status === undefined || isFinishedStatus(status)) this.#abandon(id);
        }
      }
      if (now < this.#sweepNotBefore) return;
      const swept = await this.#store.sweep({
        now: new Date(now).toISOString(),
        staleBefore: new Date(now - this.#leaseTtlMs).toISOString(),
      });
      this.#logSwept(swept);
    } catch (failure) {
      this.#logger?.error("jobs.heartbeat.failed", { error: failure });
    } finally {
      this.#ticking = false;
    }
  }

  #logSwept(swept: JobRecord[]): void {
    for (const record of swept) {
      this.#logger?.warn("jobs.interrupted", { job_id: record.id, error: record.error });
    }
  }
}
