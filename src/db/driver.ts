import type { CircuitBreaker } from "../core/circuit-breaker.ts";
import type { TransactionOptions } from "../core/repository.ts";

export type { IsolationLevel, TransactionOptions } from "../core/repository.ts";

/** A value bound to a SQL parameter. */
export type SqlValue = string | number | bigint | boolean | null | Uint8Array;

/** How a statement is pipelined (see {@link Driver.pipeline}). */
export interface PipelineOptions {
  /** Turns the statement's failure into the error the transaction rejects with (return the error to keep it). */
  mapError?: (error: unknown) => unknown;
}

/** A result row keyed by column name. */
export type Row = Record<string, unknown>;

/** The SQL dialect a driver speaks. */
export type DialectName = "sqlite" | "postgres";

/**
 * Runs statements. SQL uses `?` placeholders on every driver (the PostgreSQL
 * driver renumbers them to `$1…`); every value is a bound parameter.
 */
export interface Executor {
  /** The dialect of the underlying store. */
  readonly dialect: DialectName;
  /** Runs a statement that returns rows. */
  query<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Runs a statement and returns how many rows it changed. */
  exec(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
}

/** Options of {@link Driver.listen}. */
export interface SubscriptionOptions {
  /** Called each time the subscription is back after a gap (a reconnection or a new pool). */
  onRelisten?: () => void;
}

/** A connection (or pool) to one store. */
export interface Driver extends Executor {
  /** The URL it was opened with, password removed. */
  readonly url: string;
  /**
   * Runs `fn` in a transaction; a throw rolls it back and rethrows. Called
   * inside another transaction, it runs in a savepoint: a throw undoes only
   * its own work.
   * Statements of other callers wait until it ends (SQLite) or run on other
   * pooled connections (PostgreSQL). `options` set the isolation level and
   * the retries of serialization failures and deadlocks (see
   * {@link TransactionOptions}).
   */
  transaction<T>(fn: (tx: Executor) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Whether the caller runs inside a transaction of this driver (a
   * `transaction()` called there would open a savepoint).
   */
  inTransaction?(): boolean;
  /**
   * Runs `fn` once the outermost transaction the caller runs in has ended
   * (committed or rolled back), or at once outside a transaction: caches
   * invalidate there, so no reader refills them from rows not yet committed.
   * A promise `fn` returns is awaited before the transaction (or this call)
   * resolves; its failure is ignored.
   */
  afterTransaction?(fn: () => unknown): void | Promise<void>;
  /**
   * Inside a transaction, sends a statement without waiting for its answer:
   * it reaches the server with the statements after it, at the latest with
   * the `COMMIT`, instead of costing a round trip of its own. Returns its
   * rows' promise (settled by the time the transaction ends; a caller may
   * ignore it). Its failure fails the transaction (or the savepoint it was
   * sent in): that rolls back and `transaction()` rejects with the error.
   * Returns undefined, sending nothing, outside a transaction; the caller then
   * runs the statement itself. Absent where statements cannot be pipelined (SQLite).
   *
   * A transaction whose statements were all pipelined may reach the server
   * as one message after `fn` returned (PostgreSQL): awaiting the promise
   * inside the transaction sends everything queued so far first. A
   * statement without rows answers an empty list (its count is not read).
   * `options.mapError` turns the statement's failure into the caller's error
   * (the one `transaction()` rejects with).
   */
  pipeline?<T extends Row = Row>(sql: string, params?: readonly SqlValue[], options?: PipelineOptions): Promise<T[]> | undefined;
  /**
   * The breaker that guards this store, when it has one (PostgreSQL): open
   * while the server is unreachable, so health checks and metrics can report
   * it without touching the store.
   */
  readonly circuit?: CircuitBreaker;
  /**
   * Subscribes to notifications on `channel` (PostgreSQL `LISTEN`, on a
   * connection of its own); resolves with the function that unsubscribes.
   * The subscription outlives outages: when the listening connection or the
   * whole pool is replaced, `LISTEN` is sent again once the server answers,
   * and `options.onRelisten` is called then (notifications sent while no
   * connection listened are lost: a caller that must not miss one catches up).
   * Absent on stores without notifications (SQLite): callers poll instead.
   */
  listen?(channel: string, onNotify: (payload: string) => void, options?: SubscriptionOptions): Promise<() => Promise<void>>;
  /**
   * The rows of a query in batches of at most `batchSize`, read as they are
   * consumed: a server-side cursor (PostgreSQL) or a stepping statement
   * (SQLite), so memory holds one batch at a time. Leaving the loop early
   * closes the cursor.
   */
  stream?<T extends Row = Row>(sql: string, params?: readonly SqlValue[], batchSize?: number): AsyncIterable<T[]>;
  /** Resolves when the store answers `SELECT 1` within `timeoutMs`; rejects otherwise. */
  ping(timeoutMs?: number): Promise<void>;
  /** Closes the connection(s); later calls fail. */
  close(): Promise<void>;
}

/** Runs `fn` and waits for what it returns; a failure is swallowed (see {@link Driver.afterTransaction}). */
export async function settle(fn: () => unknown): Promise<void> {
  try {
    await fn();
  } catch {
    // the callback reports its own failures
  }
}
