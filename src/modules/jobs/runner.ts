import { AsyncLocalStorage } from "node:async_hooks";
import { ConflictError, NotFoundError, UnavailableError, ValidationError } from "../../core/errors.ts";
import type { Logger } from "../../core/logging.ts";
import { newUlid } from "../../core/ulid.ts";
import { compiledCheck, validateValue } from "../../core/validation.ts";
import { resolveEnqueue } from "./enqueue-options.ts";
import { unrefTimer } from "../../core/timers.ts";
import { functionAttempt, type Held, held, sleep } from "./_held.ts";
import { completedOutcome, failureOutcome, runAttempt } from "./attempt.ts";
import { AttemptEndWriter } from "./attempt-ends.ts";
import { describeJobError } from "./job-error.ts";
import { type AppliedEnds, type AttemptEnd, type ClaimedJob, jobInterruptedError, type JobOutcome, type JobStore } from "./job-store.ts";
import { JobWaiters } from "./job-waiters.ts";
import { LeaseKeeper } from "./leases.ts";
import { progressReporter } from "./progress.ts";
import type { InProcessJobRunnerOptions } from "./runner-options.ts";
import { StoreRetry } from "./store-retry.ts";
import {
  type Enqueued,
  type EnqueueOptions,
  isFinishedStatus,
  type JobFunction,
  type JobHandler,
  type JobListOptions,
  type JobRecord,
  type JobRunner,
} from "./types.ts";

export type { InProcessJobRunnerOptions } from "./runner-options.ts";

/** Claims on their way at once at most: the next batch is claimed while the last one's ends are written. */
const PARALLEL_CLAIMS = 2;

/** Whether `a` comes before `b` in claim order: higher priority first, FIFO (ULID order) within one. */
function byClaimOrder(a: ClaimedJob, b: ClaimedJob): boolean {
  return a.priority > b.priority || (a.priority === b.priority && a.id < b.id);
}

interface RegisteredHandler {
  readonly handler: JobHandler<unknown>;
  readonly check: (value: unknown) => boolean;
}

/**
 * The job queue and its in-process worker ({@link JobRunner}). Jobs live in
 * a {@link JobStore}: named jobs (`enqueue`) run on any instance that
 * registered their handler, function jobs (`submit`) on the instance that
 * holds the function. The runner claims eligible jobs in batches (highest
 * priority first, FIFO within one), runs them under a concurrency limit,
 * retries failed attempts with back-off, and writes attempt ends in batches.
 * Active jobs hold a lease (owner + heartbeat); a sweep requeues or fails the
 * jobs of instances that stopped.
 *
 * @example
 * ```ts
 * import { Type } from "@sinclair/typebox";
 * import { InProcessJobRunner } from "./runner.ts";
 * import { memoryJobStore } from "./memory-store.ts";
 * const runner = new InProcessJobRunner({ store: await memoryJobStore(), maxConcurrency: 2 });
 * runner.register("add", { payload: Type.Object({ a: Type.Number(), b: Type.Number() }), run: ({ a, b }) => a + b });
 * await runner.start();
 * const { record } = await runner.enqueue("add", { a: 1, b: 2 });
 * (await runner.wait(record.id, 5_000)).status; // "completed"
 * await runner.close();
 * ```
 */
export class InProcessJobRunner implements JobRunner {
  /** The id written as the owner of the jobs this runner runs. */
  readonly instanceId: string;
  readonly #store: JobStore;
  readonly #identity: string | null;
  readonly #limit: number;
  readonly #batch: number;
  readonly #graceMs: number;
  readonly #pollMs: number;
  readonly #queuePollMs: number;
  readonly #listen: InProcessJobRunnerOptions["listen"];
  readonly #retry: StoreRetry;
  readonly #logger: Logger | undefined;
  readonly #handlers = new Map<string, RegisteredHandler>();
  readonly #held = new Map<string, Held>();
  readonly #ready: { job: ClaimedJob; held: Held }[] = [];
  readonly #waiters = new JobWaiters();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  /** Jobs that jobs enqueued here depend on: completing one may make a dependent eligible. */
  readonly #awaited = new Set<string>();
  readonly #ends: AttemptEndWriter;
  readonly #leases: LeaseKeeper;
  #running = 0;
  /** Claims on their way, and the jobs they asked for. */
  #claims = 0;
  #asked = 0;
  /** Callers of {@link start} waiting for its first claims to come back. */
  readonly #claimWaiters: (() => void)[] = [];
  /** Counts wake-ups: a claim that comes back short drains the queue only if none came meanwhile. */
  #wakes = 0;
  #maybeMore = true;
  #poll: ReturnType<typeof setInterval> | undefined;
  #unlisten: (() => Promise<void>) | undefined;
  /** A claim failed while the store was away: its answer may be lost, so claimed jobs are reconciled on return. */
  #claimLost = false;
  #started = false;
  #closed = false;
  readonly #manual: boolean;
  /**
   * Runs background work (claims, attempts, end writes) in the context the
   * runner was made in: work woken by an enqueue inside a caller's transaction
   * must not run on that transaction, which ends while the work goes on.
   */
  readonly #detached: <R>(fn: () => R) => R = AsyncLocalStorage.snapshot();

  /** Creates a runner over a job store; call `start()` to begin taking jobs. */
  constructor(options: InProcessJobRunnerOptions) {
    this.#store = options.store;
    this.instanceId = options.instanceId ?? newUlid();
    this.#identity = options.identity ?? null;
    this.#limit = options.maxConcurrency && options.maxConcurrency > 0 ? options.maxConcurrency : 0;
    this.#batch = Math.max(1, options.claimBatch ?? (this.#limit || 64));
    this.#graceMs = options.cancelGraceMs ?? 5_000;
    this.#pollMs = options.pollMs ?? 250;
    this.#queuePollMs = options.queuePollMs ?? 1_000;
    this.#listen = options.listen;
    this.#logger = options.logger;
    this.#retry = new StoreRetry({
      maxDelayMs: Math.max(1, options.storeRetryMaxMs ?? 500),
      closed: () => this.#closed,
      back: () => this.#leases.storeBack(),
      logger: this.#logger,
    });
    this.#manual = options.manual === true;
    this.#ends = new AttemptEndWriter({
      store: this.#store,
      untilStored: (what, call) => this.#retry.until(what, call),
      awaited: (id) => this.#waiters.has(id),
      written: (ends, applied) => this.#written(ends, applied),
      late: (id) => this.#waiters.notify(id),
      logger: this.#logger,
    });
    this.#leases = new LeaseKeeper({
      store: this.#store,
      instanceId: this.instanceId,
      identity: this.#identity,
      heartbeatMs: options.heartbeatMs ?? 10_000,
      leaseTtlMs: options.leaseTtlMs ?? 60_000,
      held: () => this.#held,
      abandon: (id) => this.#abandon(id),
      untilStored: (what, call) => this.#retry.until(what, call),
      retryUnfinished: () => this.#ends.retryUnfinished(),
      failBlocked: () => this.#failBlocked(),
      wake: () => this.#wake(),
      closed: () => this.#closed,
      logger: this.#logger,
    });
  }

  /** Jobs running at once at most (0 = unlimited). */
  get maxConcurrency(): number {
    return this.#limit;
  }

  /**
   * Ends the jobs left behind by stopped instances (expired leases and,
   * with an identity, this instance's earlier runs), subscribes to wake-ups,
   * starts the heartbeat, sweep and queue poll, and claims the jobs waiting;
   * resolves once that first claim is back (or found the store unreachable).
   * Returns the jobs it failed.
   */
  async start(): Promise<JobRecord[]> {
    const swept = await this.#leases.sweep(true);
    if (this.#started || this.#closed) return swept;
    this.#started = true;
    if (this.#listen) {
      try {
        this.#unlisten = await this.#listen(() => this.#wake());
      } catch (failure) {
        this.#logger?.warn("jobs.listen.failed", { error: failure });
      }
    }
    this.#leases.start();
    this.#poll = setInterval(() => this.#wake(), this.#queuePollMs);
    unrefTimer(this.#poll);
    this.#wake();
    // The first claims come back before start resolves (or the store is found away): a job
    // submitted right after finds its slot free, not asked for by a claim still on its way.
    await this.#claimsSettled();
    return swept;
  }

  register<P>(name: string, handler: JobHandler<P>): void {
    if (typeof name !== "string" || !/^[A-Za-z0-9_.:-]{1,100}$/.test(name)) {
      throw new TypeError(`Invalid job handler name ${JSON.stringify(name)}: use 1 to 100 letters, digits, _ . : -`);
    }
    if (this.#handlers.has(name)) throw new TypeError(`A job handler named "${name}" is already registered`);
    this.#handlers.set(name, { handler: handler as JobHandler<unknown>, check: compiledCheck(handler.payload) });
    this.#wake();
  }

  /**
   * The payload as handler `name` will receive it (defaults filled).
   * @throws {ValidationError} when the name is unknown or the payload does not match.
   */
  checkPayload(name: string, payload: unknown): unknown {
    const registered = this.#handlers.get(name);
    if (!registered) {
      throw new ValidationError([{ loc: ["body", "name"], msg: `No job handler named "${name}"`, type: "value_error" }]);
    }
    return registered.check(payload)
      ? payload
      : validateValue(registered.handler.payload, payload, { loc: ["body", "payload"] });
  }

  /** The names of the registered handlers. */
  handlerNames(): string[] {
    return [...this.#handlers.keys()];
  }

  async submit(fn: JobFunction): Promise<string> {
    if (this.#closed) throw new Error("The job runner is closed");
    const id = newUlid();
    const now = new Date().toISOString();
    const local = held(id, fn);
    // With a slot free and nothing claimed waiting for one, the job is stored running and starts at
    // once: no claim round trip. Otherwise it waits in the queue like any other. Without prefetch,
    // a slot a claim on its way has asked for is not free: the claim may come back with a job for it,
    // stored running while it waited here.
    const asked = this.#batch > this.#limit ? 0 : this.#asked;
    const direct = this.#started && !this.#manual && this.#ready.length === 0 &&
      (this.#limit === 0 || this.#running + asked < this.#limit);
    const record: JobRecord = {
      id,
      status: direct ? "running" : "pending",
      submitted_at: now,
      started_at: direct ? now : null,
      finished_at: null,
      error: null,
      error_traceback: null,
      artifact_id: null,
    };
    this.#held.set(id, local);
    if (direct) {
      this.#running += 1;
      local.running = true;
    }
    try {
      await this.#store.insert(record, { owner: this.instanceId, ownerKey: this.#identity, heartbeatAt: now });
    } catch (error) {
      this.#held.delete(id);
      if (direct) {
        this.#running -= 1;
        local.running = false;
        this.#drain();
      }
      throw error;
    }
    local.stored = true;
    if (direct) this.#detached(() => void this.#run(functionAttempt(id), local));
    else this.#wake();
    return id;
  }

  async enqueue(name: string, payload: unknown, options: EnqueueOptions = {}): Promise<Enqueued> {
    const [result] = await this.enqueueMany([{ name, payload, options }]);
    return result!;
  }

  /** Enqueues several jobs in one round trip (one transaction when some have dependencies). */
  async enqueueMany(
    jobs: readonly { name: string; payload: unknown; options?: EnqueueOptions }[],
  ): Promise<Enqueued[]> {
    if (this.#closed) throw new Error("The job runner is closed");
    const now = Date.now();
    const submittedAt = new Date(now).toISOString();
    const rows = jobs.map(({ name, payload, options = {} }) => {
      const checked = this.checkPayload(name, payload);
      const resolved = resolveEnqueue(this.#handlers.get(name)!.handler, options, now);
      return { id: newUlid(), name, payload: checked, submittedAt, owner: this.instanceId, ...resolved };
    });
    const results = await this.#store.enqueue(rows);
    for (const row of rows) for (const dependency of row.dependsOn) this.#awaited.add(dependency);
    // A dependency may have failed before its dependent was stored: the failure's own pass missed it.
    if (rows.some((row) => row.dependsOn.length > 0)) await this.#failBlocked();
    let earliest = Infinity;
    for (const row of rows) earliest = Math.min(earliest, Date.parse(row.runAt));
    if (earliest > now) this.#wakeAt(earliest - now);
    this.#wake();
    return results;
  }

  async retry(id: string): Promise<JobRecord> {
    const record = await this.#store.requeue(id, new Date().toISOString());
    if (record) {
      this.#waiters.notify(id);
      this.#wake();
      return record;
    }
    const current = await this.get(id);
    if (current.name === undefined) {
      throw new ConflictError(`Job ${id} was submitted as a function and cannot be retried; submit it again`);
    }
    throw new ConflictError(`Job ${id} is ${current.status}; only failed or canceled jobs can be retried`);
  }

  async get(id: string): Promise<JobRecord> {
    const record = await this.#store.get(id);
    if (!record) throw new NotFoundError(`Job ${id} not found`);
    return record;
  }

  list(options: JobListOptions = {}): Promise<JobRecord[]> {
    return this.#store.list(options.status, options.deadLetter);
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
    await this.#failBlocked();
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
    const local = this.#held.get(id);
    if (local) await Promise.race([local.settled, sleep(this.#graceMs)]);
    await this.#store.delete(id);
    this.#waiters.notify(id);
    await this.#failBlocked();
  }

  async wait(id: string, timeoutMs?: number): Promise<JobRecord> {
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + Math.max(0, timeoutMs);
    let wasLocal = this.#held.has(id);
    // A job held here ends here: the write of its end brings its record, so it is not read first.
    let record: JobRecord | undefined = wasLocal ? undefined : await this.get(id);
    while (record === undefined || !isFinishedStatus(record.status)) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      const local = this.#held.has(id);
      // Released while the record was being read: read it again at once.
      if (wasLocal && !local) {
        wasLocal = false;
        record = await this.get(id);
      } else {
        const changed = await this.#waiters.changeOf(id, Math.min(remaining, local ? 60_000 : this.#pollMs));
        wasLocal = this.#held.has(id);
        record = changed ?? await this.get(id);
      }
    }
    return record ?? await this.get(id);
  }

  /**
   * Stops claiming, heartbeats and sweeps. Function jobs this instance still
   * holds fail as interrupted; claimed named jobs go back to the queue when
   * attempts remain (and fail as interrupted otherwise). Signals abort and
   * functions get a short grace to settle.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#poll !== undefined) clearInterval(this.#poll);
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    await this.#unlisten?.().catch(() => {});
    await this.#leases.stop();
    while (this.#claims > 0) await sleep(5);
    await this.#ends.retryUnfinished();
    const jobs = [...this.#held.values()];
    const unstarted = this.#ready.splice(0).filter((entry) => entry.job.name !== null).map((entry) => entry.job.id);
    try {
      if (unstarted.length > 0) await this.#store.unclaim(unstarted, this.instanceId);
    } catch (failure) {
      this.#logger?.error("jobs.close.failed", { jobs: unstarted, error: failure });
    }
    const error = jobInterruptedError(this.instanceId);
    const finishedAt = new Date().toISOString();
    const interrupted: JobOutcome = { status: "failed", finished_at: finishedAt, error, error_traceback: error, artifact_id: null };
    for (const job of jobs) {
      try {
        if (job.fn !== null) await this.#store.finish(job.id, interrupted);
      } catch (failure) {
        this.#logger?.error("jobs.close.failed", { job_id: job.id, error: failure });
      }
      job.controller.abort(new Error("The job runner is closing"));
      if (!job.running) this.#release(job);
    }
    await Promise.race([Promise.all(jobs.map((job) => job.settled)), sleep(this.#graceMs)]);
    await this.#ends.drained();
  }

  /**
   * Manual runners only: claims the next eligible job (the order of automatic
   * claims: priority, then run time), runs it to its end and returns its record
   * as stored then; null when no job is eligible now.
   */
  async step(): Promise<JobRecord | null> {
    if (!this.#manual) throw new Error("step() needs a runner created with manual: true");
    if (!this.#started || this.#closed) throw new Error("The job runner is not running");
    const [job] = await this.#store.claim({
      owner: this.instanceId,
      ownerKey: this.#identity,
      names: [...this.#handlers.keys()],
      limit: 1,
      now: new Date().toISOString(),
    });
    if (!job) return null;
    this.#accept(job);
    const index = this.#ready.findIndex((entry) => entry.job.id === job.id);
    if (index >= 0) {
      const { held } = this.#ready.splice(index, 1)[0]!;
      this.#running += 1;
      held.running = true;
      await this.#run(job, held);
    }
    await this.#ends.drained();
    return await this.get(job.id);
  }

  /** Claims what fits now; a wake-up means the queue may hold more than the last claim saw. */
  #wake(): void {
    this.#maybeMore = true;
    this.#wakes += 1;
    this.#pump();
  }

  #wakeAt(ms: number): void {
    if (this.#closed) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#wake();
    }, Math.min(ms + 1, 2 ** 31 - 1));
    unrefTimer(timer);
    this.#timers.add(timer);
  }

  /** How many more jobs this runner may claim now. */
  #room(): number {
    // A claim batch above the concurrency prefetches: two batches, and the ends being written count
    // only beyond one batch, so that the next claims overlap the writes of the last batch. Otherwise
    // jobs claimed never outnumber the concurrency.
    if (this.#limit === 0) return this.#batch - this.#ready.length - this.#ends.pending;
    if (this.#batch > this.#limit) {
      return 2 * this.#batch - this.#running - this.#ready.length - Math.max(0, this.#ends.pending - this.#batch);
    }
    return this.#limit - this.#running - this.#ready.length - this.#ends.pending;
  }

  /**
   * Starts claims while there is room, up to {@link PARALLEL_CLAIMS} at once. While jobs wait
   * here or a claim is on its way, a claim waits until half a batch is free: fewer, fuller claims.
   */
  #pump(): void {
    if (this.#closed || !this.#started || this.#manual) return;
    while (this.#maybeMore && this.#claims < PARALLEL_CLAIMS) {
      const room = this.#room() - this.#asked;
      if (room <= 0) return;
      if ((this.#ready.length > 0 || this.#claims > 0) && room < Math.ceil(this.#batch / 2)) return;
      const want = Math.min(room, this.#batch);
      this.#claims += 1;
      this.#asked += want;
      this.#detached(() => void this.#claim(want));
    }
  }

  async #claim(want: number): Promise<void> {
    const wakes = this.#wakes;
    let asked = want;
    try {
      const claimed = await this.#retry.until("claim", () =>
        this.#store.claim({
          owner: this.instanceId,
          ownerKey: this.#identity,
          names: [...this.#handlers.keys()],
          limit: want,
          now: new Date().toISOString(),
        }).catch((error: unknown) => {
          if (error instanceof UnavailableError) {
            this.#claimLost = true;
            this.#releaseClaimWaiters();
          }
          throw error;
        })
      );
      if (this.#claimLost) await this.#reconcileClaims(claimed);
      // The queue is drained unless a wake-up came while this claim was on its way.
      if (claimed.length < want && wakes === this.#wakes) this.#maybeMore = false;
      this.#asked -= asked;
      asked = 0;
      const before = this.#ready.length;
      for (const job of claimed) this.#accept(job);
      this.#order(before);
      this.#drain();
    } catch (failure) {
      // The store is unreachable: jobs stay where they are and the next poll tries again.
      this.#logger?.warn("jobs.claim.failed", { error: failure });
    } finally {
      this.#asked -= asked;
      this.#claims -= 1;
      // Before the next claims start: start() waits for its first claims, not for the queue to drain.
      if (this.#claims === 0) this.#releaseClaimWaiters();
      this.#pump();
    }
  }

  /** Resolves once the claims on their way have come back, or one found the store unreachable. */
  #claimsSettled(): Promise<void> {
    if (this.#claims === 0) return Promise.resolve();
    return new Promise((resolve) => this.#claimWaiters.push(resolve));
  }

  #releaseClaimWaiters(): void {
    for (const resolve of this.#claimWaiters.splice(0)) resolve();
  }

  /** Claims that overlapped may arrive out of order: jobs from `from` on join the queue in claim order. */
  #order(from: number): void {
    const ready = this.#ready;
    if (from === 0 || from >= ready.length || !byClaimOrder(ready[from]!.job, ready[from - 1]!.job)) return;
    ready.sort((a, b) => byClaimOrder(a.job, b.job) ? -1 : byClaimOrder(b.job, a.job) ? 1 : 0);
  }

  #accept(job: ClaimedJob): void {
    let local = this.#held.get(job.id);
    if (job.name === null && !local) {
      // A function job whose function this process no longer holds cannot run.
      const error = jobInterruptedError(this.instanceId);
      void this.#ends.write({
        id: job.id,
        owner: this.instanceId,
        attempt: job.attempt,
        outcome: { status: "failed", finished_at: new Date().toISOString(), error, error_traceback: error, artifact_id: null },
      });
      return;
    }
    if (!local) {
      local = held(job.id, null);
      this.#held.set(job.id, local);
    }
    this.#ready.push({ job, held: local });
  }

  #drain(): void {
    while (!this.#closed && this.#ready.length > 0 && (this.#limit === 0 || this.#running < this.#limit)) {
      const { job, held } = this.#ready.shift()!;
      if (held.controller.signal.aborted) {
        this.#release(held);
        continue;
      }
      this.#running += 1;
      held.running = true;
      void this.#run(job, held);
    }
  }

  async #run(job: ClaimedJob, local: Held): Promise<void> {
    const { id } = job;
    let slotFree = false;
    try {
      this.#waiters.notify(id);
      const progress = progressReporter(
        (fraction, message) => this.#store.progress(id, fraction, message),
        () => this.#waiters.notify(id),
        (error) => this.#logger?.warn("jobs.progress.failed", { job_id: id, error }),
      );
      const result = await runAttempt(
        job,
        (context) => local.fn !== null ? local.fn(context) : this.#handlers.get(job.name!)!.handler.run(job.payload, context),
        { held: local.controller.signal, progress },
      );
      let end: AttemptEnd["outcome"];
      if (result.ok) {
        end = completedOutcome(result.value);
      } else if (local.controller.signal.aborted) {
        // A canceled or swept job keeps the status it was given; a closing runner requeues it.
        if (!this.#closed || job.name === null) return;
        end = this.#afterFailure(job, describeJobError(new Error(jobInterruptedError(this.instanceId))).error, null);
      } else {
        const described = describeJobError(result.thrown);
        this.#logger?.warn("jobs.failed", { job_id: id, error: described.error, attempt: job.attempt });
        end = this.#afterFailure(job, described.error, described.error_traceback);
      }
      // The slot frees as the function returns; its end joins the next batched write.
      this.#running -= 1;
      slotFree = true;
      this.#drain();
      await this.#ends.write({ id, owner: this.instanceId, attempt: job.attempt, outcome: end });
    } catch (failure) {
      this.#logger?.error("jobs.store.failed", { job_id: id, error: failure });
    } finally {
      if (!slotFree) this.#running -= 1;
      this.#release(local);
      this.#drain();
      this.#pump();
    }
  }

  /** A retry while attempts remain (named jobs only), otherwise the final failure. */
  #afterFailure(job: ClaimedJob, error: string, traceback: string | null): AttemptEnd["outcome"] {
    const { outcome, retryInMs } = failureOutcome(job, { error, traceback }, this.#closed);
    if (retryInMs !== null) this.#wakeAt(retryInMs);
    return outcome;
  }

  /** Applied after each batch of attempt ends: wakes, notifies and fails dependents of failures. */
  #written(ends: readonly AttemptEnd[], applied: AppliedEnds): void {
    let failed = false;
    for (const end of ends) {
      if (!("retryAt" in end.outcome) && end.outcome.status !== "completed") failed = true;
      // A dependency that completed makes its dependents eligible.
      if (this.#awaited.delete(end.id) && applied.has(end.id)) this.#maybeMore = true;
      this.#waiters.notify(end.id, applied.get(end.id) ?? undefined);
    }
    if (failed) void this.#failBlocked();
  }

  /**
   * After a claim whose answer may have been lost: jobs the store shows as
   * running here that this runner does not hold go back to the queue.
   */
  async #reconcileClaims(claimed: readonly ClaimedJob[]): Promise<void> {
    this.#claimLost = false;
    const known = new Set([...claimed.map((job) => job.id), ...this.#held.keys()]);
    const orphans = (await this.#store.runningOf(this.instanceId)).filter((id) => !known.has(id));
    if (orphans.length > 0) await this.#store.unclaim(orphans, this.instanceId);
  }

  async #failBlocked(): Promise<void> {
    try {
      const failed = await this.#store.failBlocked(new Date().toISOString());
      for (const id of failed) this.#waiters.notify(id);
    } catch (failure) {
      this.#logger?.warn("jobs.dependencies.failed", { error: failure });
    }
  }

  #release(job: Held): void {
    job.running = false;
    if (this.#held.get(job.id) === job) this.#held.delete(job.id);
    job.settle();
    this.#waiters.notify(job.id);
  }

  #abandon(id: string): void {
    const job = this.#held.get(id);
    if (!job) return;
    job.controller.abort(new Error(`Job ${id} was canceled`));
    if (!job.running) {
      const index = this.#ready.findIndex((entry) => entry.held === job);
      if (index >= 0) this.#ready.splice(index, 1);
      this.#release(job);
    }
    this.#waiters.notify(id);
  }
}
