import type { Logger } from "../../core/logging.ts";
import { unrefTimer } from "../../core/timers.ts";
import type { Held } from "./_held.ts";
import type { JobStore } from "./job-store.ts";
import { isFinishedStatus, type JobRecord } from "./types.ts";

/** What a {@link LeaseKeeper} needs from its runner. */
export interface LeaseKeeperOptions {
  store: JobStore;
  /** The runner's instance id: the owner of its leases. */
  instanceId: string;
  /** The runner's name across restarts, or null (see `InProcessJobRunnerOptions.identity`). */
  identity: string | null;
  /** Milliseconds between heartbeats and sweeps. */
  heartbeatMs: number;
  /** Milliseconds after its last heartbeat that an active job counts as abandoned. */
  leaseTtlMs: number;
  /** The jobs the runner holds now. */
  held(): ReadonlyMap<string, Held>;
  /** Lets go of a job another instance canceled, deleted, swept or took over. */
  abandon(id: string): void;
  /** Runs a store call, waiting out an unreachable store. */
  untilStored<T>(what: string, call: () => Promise<T>): Promise<T>;
  /** Writes again the attempt ends the store refused. */
  retryUnfinished(): Promise<void>;
  /** Fails the jobs whose dependency failed. */
  failBlocked(): Promise<void>;
  /** Tells the runner the queue may hold jobs (a sweep requeued some). */
  wake(): void;
  /** Whether the runner is closed. */
  closed(): boolean;
  logger?: Logger | undefined;
}

/**
 * The leases of a runner's jobs: every `heartbeatMs` it renews them, lets
 * go of jobs another instance ended or took over, and sweeps the jobs of
 * instances whose leases expired (requeued while attempts remain, failed as
 * interrupted otherwise).
 */
export class LeaseKeeper {
  readonly #options: LeaseKeeperOptions;
  #timer: ReturnType<typeof setInterval> | undefined;
  #ticking = false;
  /** Epoch ms before which no sweep runs: after an outage, other instances first renew their leases. */
  #sweepNotBefore = 0;

  /** A keeper for one runner; `start()` begins the heartbeats. */
  constructor(options: LeaseKeeperOptions) {
    this.#options = options;
  }

  /** Starts the heartbeat and sweep timer. */
  start(): void {
    this.#timer = setInterval(() => void this.tick(), this.#options.heartbeatMs);
    unrefTimer(this.#timer);
  }

  /** Stops the timer and resolves once a tick under way has ended. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    while (this.#ticking) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  /** The store is back after an outage: other instances renew their leases before any sweep here. */
  storeBack(): void {
    this.#sweepNotBefore = Date.now() + this.#options.heartbeatMs;
    // Renew the leases of this instance's jobs at once rather than at the next tick.
    void this.tick();
  }

  /** One heartbeat: renews the leases, lets go of lost jobs, then sweeps (unless just after an outage). */
  async tick(): Promise<void> {
    const options = this.#options;
    if (this.#ticking || options.closed()) return;
    this.#ticking = true;
    try {
      await options.retryUnfinished();
      // While the store is away the heartbeat is retried (and the tick waits), so the leases
      // of running jobs are renewed as soon as it is back.
      await options.untilStored("heartbeat", () => options.store.heartbeat(options.instanceId, new Date().toISOString()));
      // Another instance may have canceled, deleted, swept or re-claimed one of our jobs.
      const mine = [...options.held().values()].filter((job) => job.stored && (job.running || job.fn === null))
        .map((job) => job.id);
      if (mine.length > 0) {
        const statuses = await options.store.statuses(mine);
        for (const id of mine) {
          const current = statuses.get(id);
          const local = options.held().get(id);
          if (!local) continue;
          const lost = current === undefined || isFinishedStatus(current.status) ||
            (local.fn === null && (current.status !== "running" || current.owner !== options.instanceId));
          if (lost) options.abandon(id);
        }
      }
      if (Date.now() < this.#sweepNotBefore) return;
      // Dependents of a job that failed here are failed at once; a sweep's failures need this pass.
      if ((await this.sweep(false)).length > 0) await options.failBlocked();
    } catch (failure) {
      options.logger?.error("jobs.heartbeat.failed", { error: failure });
    } finally {
      this.#ticking = false;
    }
  }

  /**
   * Requeues or fails the active jobs whose lease expired and, when
   * `starting` with an identity, those of this instance's earlier runs.
   * Returns the jobs it failed.
   */
  async sweep(starting: boolean): Promise<JobRecord[]> {
    const { store, identity, instanceId, leaseTtlMs, logger } = this.#options;
    const now = Date.now();
    const swept = await store.sweep({
      now: new Date(now).toISOString(),
      staleBefore: new Date(now - leaseTtlMs).toISOString(),
      ...(starting && identity !== null ? { previous: { key: identity, instance: instanceId } } : {}),
    });
    for (const record of swept) logger?.warn("jobs.interrupted", { job_id: record.id, error: record.error });
    if (!starting) this.#options.wake();
    return swept;
  }
}
