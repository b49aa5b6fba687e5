import { AsyncLocalStorage } from "node:async_hooks";
import type { CircuitBreaker } from "../core/circuit-breaker.ts";
import type { CommitHooks } from "../core/events/types.ts";
import { type Driver, type Executor, type PipelineOptions, type Row, settle, type SqlValue } from "./driver.ts";

/** A driver that can run work after its transactions commit. */
export interface CommitTrackingDriver extends Driver, CommitHooks {
  /** Whether the caller runs in a transaction of this driver. */
  inTransaction(): boolean;
}

/**
 * Wraps a driver so code can queue work for after a commit (the event bus
 * publishes there): `afterCommit(fn)` inside a transaction holds `fn` until
 * the outermost transaction commits, and drops it when the transaction (or
 * the savepoint it was queued in) rolls back. Everything else is the inner
 * driver's.
 */
export function trackCommits(driver: Driver): CommitTrackingDriver {
  return new CommitTracking(driver);
}

class CommitTracking implements CommitTrackingDriver {
  readonly #inner: Driver;
  readonly #scope = new AsyncLocalStorage<(() => void | Promise<void>)[]>();
  readonly listen?: Driver["listen"];
  // Without it, every streamed list of a service (NDJSON, exports) would read all its rows at once.
  readonly stream?: Driver["stream"];

  constructor(inner: Driver) {
    this.#inner = inner;
    if (inner.listen) this.listen = (channel, onNotify, options) => inner.listen!(channel, onNotify, options);
    if (inner.stream) this.stream = (sql, params, batchSize) => inner.stream!(sql, params, batchSize);
  }

  afterTransaction(fn: () => unknown): void | Promise<void> {
    return this.#inner.afterTransaction ? this.#inner.afterTransaction(fn) : settle(fn);
  }

  pipeline<T extends Row = Row>(sql: string, params?: readonly SqlValue[], options?: PipelineOptions): Promise<T[]> | undefined {
    return this.#inner.pipeline?.<T>(sql, params, options);
  }

  get dialect(): Driver["dialect"] {
    return this.#inner.dialect;
  }

  get url(): string {
    return this.#inner.url;
  }

  get circuit(): CircuitBreaker | undefined {
    return this.#inner.circuit;
  }

  query<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.#inner.query<T>(sql, params);
  }

  exec(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> {
    return this.#inner.exec(sql, params);
  }

  async transaction<T>(fn: (tx: Executor) => Promise<T>): Promise<T> {
    const parent = this.#scope.getStore();
    const queued: (() => void | Promise<void>)[] = [];
    const result = await this.#inner.transaction((tx) => this.#scope.run(queued, () => fn(tx)));
    if (parent) {
      parent.push(...queued);
      return result;
    }
    // Every callback runs at once, in order; those that return a promise are awaited together.
    let pending: Promise<void>[] | undefined;
    for (const queuedFn of queued) {
      const value = queuedFn();
      if (value instanceof Promise) (pending ??= []).push(value.catch(() => {}));
    }
    if (pending) await Promise.all(pending);
    return result;
  }

  afterCommit(fn: () => void | Promise<void>): boolean {
    const queued = this.#scope.getStore();
    if (!queued) return false;
    queued.push(fn);
    return true;
  }

  inTransaction(): boolean {
    return this.#scope.getStore() !== undefined || (this.#inner.inTransaction?.() ?? false);
  }

  ping(timeoutMs?: number): Promise<void> {
    return this.#inner.ping(timeoutMs);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
