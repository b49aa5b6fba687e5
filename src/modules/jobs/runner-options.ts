import type { Logger } from "../../core/logging.ts";
import type { JobStore } from "./job-store.ts";

/** Options of {@link InProcessJobRunner}. */
export interface InProcessJobRunnerOptions {
  /** Where records live. */
  store: JobStore;
  /** This instance's id, written as the owner of the jobs it runs (default: a fresh ULID). */
  instanceId?: string;
  /**
   * A name of this instance that survives restarts. At start-up, active jobs
   * with this name but another instance id were left by an earlier run and
   * end at once instead of when their lease expires. Null: leases only.
   */
  identity?: string | null;
  /** Jobs running at once; null or 0 means unlimited. */
  maxConcurrency?: number | null;
  /**
   * Jobs claimed per round trip at most (default: the concurrency, or 64
   * when unlimited). Above the concurrency, the surplus waits in this
   * process as claimed (`running`) jobs, as pg-boss's fetch batches do.
   */
  claimBatch?: number;
  /** Milliseconds between heartbeats and sweeps (default 10 000). */
  heartbeatMs?: number;
  /** Milliseconds after its last heartbeat that an active job counts as abandoned: the lease (default 60 000). */
  leaseTtlMs?: number;
  /** Milliseconds `delete` and `close` wait for a canceled function to settle (default 5 000). */
  cancelGraceMs?: number;
  /** Milliseconds between store polls while waiting for another instance's job (default 250). */
  pollMs?: number;
  /** Milliseconds between queue polls, the fallback when no wake-up arrives (default 1 000). */
  queuePollMs?: number;
  /**
   * Subscribes to the store's new-job announcements (PostgreSQL
   * `LISTEN`); resolves with an unsubscribe function.
   */
  listen?: (wake: () => void) => Promise<() => Promise<void>>;
  /**
   * Longest wait in milliseconds between retries of a claim, completion or
   * heartbeat the store could not take because it was unreachable (default
   * 500): jobs pause while the store is away and go on as soon as it is back.
   */
  storeRetryMaxMs?: number;
  /** Where runner events are logged. */
  logger?: Logger;
  /**
   * Claims nothing by itself: jobs wait in the queue until {@link InProcessJobRunner.step}
   * runs the next one. For tests that need a deterministic order (default false).
   */
  manual?: boolean;
}
