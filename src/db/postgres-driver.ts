import { AsyncLocalStorage } from "node:async_hooks";
import postgres from "postgres";
import { ConflictError, UnavailableError } from "../core/errors.ts";
import {
  type Driver,
  type Executor,
  type PipelineOptions,
  type SubscriptionOptions,
  type Row,
  settle,
  type SqlValue,
  type TransactionOptions,
} from "./driver.ts";
import type { CircuitBreaker } from "../core/circuit-breaker.ts";
import { withDeadline } from "./_deadline.ts";
import { redact } from "./_redact.ts";
import type { PooledDriver, PoolStats } from "./instrumented-driver.ts";
import {
  DEFAULT_RETRIES,
  drain,
  isRetryable,
  lostTransactionError,
  deferred,
  runGuardedTransaction,
  sqlState,
  transactionMode,
  type TransactionScope,
  type TransactionState,
} from "./_pg-transaction.ts";
import { isConnectionError, mapDriverError } from "./sql-errors.ts";
import { toPostgresPlaceholders } from "./placeholders.ts";
import { batchError, inlineStatements, openedWhenAwaited, type QueuedStatement, splitResults } from "./_pg-batch.ts";
import { type StoreCircuitOptions, storeCircuit, throughCircuit } from "./store-circuit.ts";

/** Options of a PostgreSQL store. */
export interface PostgresOptions {
  /** Pool size at most (default 10). */
  max?: number;
  /** Connections opened eagerly at start-up (default 1). */
  min?: number;
  /** Seconds an idle connection stays open (default 30). */
  idleTimeoutSeconds?: number;
  /** Seconds to wait for a connection (default 10). */
  connectTimeoutSeconds?: number;
  /** Milliseconds a statement may run before the server cancels it (default 30000; 0 = none). */
  statementTimeoutMs?: number;
  /** Connection attempts at start-up, with exponential backoff (default 5). */
  connectRetries?: number;
  /** First backoff delay in milliseconds, doubled per attempt (default 200). */
  retryDelayMs?: number;
  /** Schema to use (created when missing); default `public`. */
  schema?: string;
  /**
   * The store's circuit breaker (on by default): after `failureThreshold`
   * consecutive connection failures (default 3) calls answer 503 with
   * `Retry-After` at once, and the server is probed every `probeIntervalMs`
   * (default 500) until it accepts connections again; then the pool is new.
   * `false` turns it off.
   */
  breaker?: StoreCircuitOptions | false;
}

type Sql = postgres.Sql<Record<string, never>>;
type Tx = postgres.TransactionSql<Record<string, never>>;

function bind(params: readonly SqlValue[]): postgres.ParameterOrJSON<never>[] {
  return params.map((value) => {
    if (typeof value === "bigint") return value.toString();
    if (value instanceof Uint8Array && !(value instanceof Buffer)) {
      return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    }
    return value;
  }) as postgres.ParameterOrJSON<never>[];
}

/** The parts of postgres.js's parsed options that hold the server's array types. */
interface TypeOptions {
  fetch_types: boolean;
  parsers: Record<number, unknown>;
  serializers: Record<number, unknown>;
  shared: { typeArrayMap: Record<number, number> };
}

/**
 * postgres.js reads the server's array types on every (re)connection without
 * awaiting that read, so a connection lost during it (a server going away)
 * rejects with no handler, which ends the process. The types are read once, by
 * the first connection of the first pool; later connections and later pools
 * (`from` is the pool being replaced) reuse them.
 */
function keepArrayTypes(from: Sql | null, to: Sql): void {
  const target = to.options as unknown as TypeOptions;
  target.fetch_types = false;
  if (from === null) return;
  const source = from.options as unknown as TypeOptions;
  for (const key of ["parsers", "serializers"] as const) {
    for (const [oid, codec] of Object.entries(source[key])) target[key][Number(oid)] ??= codec;
  }
  Object.assign(target.shared.typeArrayMap, source.shared.typeArrayMap);
}

/** Seconds a pooled connection waits before reconnecting after a failure. */
const RECONNECT_DELAY_SECONDS = 0.05;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Milliseconds between attempts to listen again on a new pool while the server does not answer. */
const RESUBSCRIBE_DELAY_MS = 250;

/** One `listen` call, with the pool whose listening connection holds it now (null: none does). */
interface Subscription {
  readonly channel: string;
  readonly onNotify: (payload: string) => void;
  readonly onRelisten: (() => void) | undefined;
  pool: Sql | null;
  handle: { unlisten(): Promise<unknown> } | null;
  ended: boolean;
}

/** A statement on a pool or transaction: sent as written when simple (no parameters), else prepared with `$n` placeholders. */
function statementOn(handle: Sql | Tx, statement: { sql: string; params: readonly SqlValue[]; simple: boolean }): postgres.PendingQuery<postgres.Row[]> {
  return statement.simple
    ? handle.unsafe(statement.sql)
    : handle.unsafe(toPostgresPlaceholders(statement.sql), bind(statement.params), { prepare: true });
}

/** A PostgreSQL store on postgres.js: a pool, transactions on one pooled connection. */
class PostgresDriver implements PooledDriver {
  readonly dialect = "postgres" as const;
  readonly url: string;
  readonly circuit: CircuitBreaker | undefined;
  readonly #connect: () => Sql;
  #sql: Sql;
  readonly #scope = new AsyncLocalStorage<TransactionScope<Tx>>();
  readonly #max: number;
  /** Statements outside a transaction plus transactions: what holds one of the pool's connections (at most `max`). */
  #inFlight = 0;
  /**
   * What waits for a connection, oldest first. The pool is never handed more than `max`
   * statements and transactions at once: postgres.js would queue the rest on busy connections, and
   * its queue of busy connections then grows by a slot per statement for as long as none falls
   * idle, each statement scanning it: under sustained load every statement got slower, twice as
   * slow within half a minute. (The same hand-over as the edge's load shedder.)
   */
  readonly #waiting: (() => void)[] = [];
  /** The `listen` subscriptions, carried over to each new pool. */
  readonly #subscriptions = new Set<Subscription>();
  #resubscribing = false;
  #closed = false;

  constructor(url: string, sql: Sql, connect: () => Sql, options: { max: number; circuit: StoreCircuitOptions | false }) {
    this.url = redact(url);
    this.#sql = sql;
    this.#connect = connect;
    this.#max = options.max;
    const circuit = options.circuit;
    if (circuit === false) {
      this.circuit = undefined;
    } else {
      const probeMs = circuit.probeIntervalMs ?? 500;
      this.circuit = storeCircuit(circuit, () => this.#answer(Math.max(probeMs, 200)));
      // A fresh pool once the server is gone: no connection waits on the old pool's reconnect backoff.
      this.circuit.onStateChange(({ to }) => {
        if (to === "open") this.#rebuildPool();
        if (to === "closed") this.#resubscribe();
      });
    }
  }

  poolStats(): PoolStats {
    return { max: this.#max, active: this.#inFlight, waiting: this.#waiting.length };
  }

  /** Takes a connection's turn: at once (undefined) while fewer than `max` hold one, else once one is released. */
  #acquire(): Promise<void> | undefined {
    if (this.#inFlight < this.#max) {
      this.#inFlight += 1;
      return undefined;
    }
    return new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  /** Ends a turn: it passes straight to the oldest waiter (the count stays), or the count falls. */
  #release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#inFlight -= 1;
  }

  /** Runs pool-level work (a statement outside a transaction, or a whole transaction) in its turn. */
  #pooled<T>(run: () => Promise<T>): Promise<T> {
    const turn = this.#acquire();
    return turn === undefined ? this.#inTurn(run) : turn.then(() => this.#inTurn(run));
  }

  #inTurn<T>(run: () => Promise<T>): Promise<T> {
    let work: Promise<T>;
    try {
      work = run();
    } catch (error) {
      this.#release();
      return Promise.reject(error);
    }
    return work.then((value) => {
      this.#release();
      return value;
    }, (error: unknown) => {
      this.#release();
      throw error;
    });
  }

  #handle(): Sql | Tx {
    const scope = this.#scope.getStore();
    if (!scope) return this.#sql;
    if (scope.tx === undefined) throw new UnavailableError("A statement reached its transaction after the transaction ended");
    return scope.tx;
  }

  /**
   * A statement of a transaction not opened yet: queued, to go first once it is
   * opened (`open`: now, since the caller waits for the answer), or with the
   * transaction's other statements when it ends.
   */
  #enqueue(
    scope: TransactionScope<Tx>,
    sql: string,
    params: readonly SqlValue[],
    how: { simple?: boolean; mapError?: (error: unknown) => unknown; open: boolean },
  ): Promise<postgres.RowList<Row[]>> {
    const answer = deferred<postgres.RowList<Row[]>>();
    scope.queued!.push({
      sql,
      params,
      simple: how.simple ?? false,
      mapError: how.mapError,
      resolve: answer.resolve as (rows: unknown) => void,
      reject: answer.reject,
    });
    if (how.open) void scope.open!();
    return answer.promise;
  }

  /** Sends a queued statement on the transaction's connection, once it is open. */
  #send(tx: Tx, statement: QueuedStatement): void {
    statementOn(tx, statement).execute().then(statement.resolve, statement.reject);
  }

  /** Runs a statement through the breaker (a statement inside a transaction was admitted with it). */
  #guarded<T>(work: () => Promise<T>): Promise<T> {
    const scope = this.#scope.getStore();
    if (scope?.state.lost !== undefined) return Promise.reject(lostTransactionError(scope.state));
    if (scope) return this.#mapped(work);
    const circuit = this.circuit;
    return this.#pooled(() => circuit ? throughCircuit(circuit, work) : this.#mapped(work));
  }

  #mapped<T>(work: () => Promise<T>): Promise<T> {
    return work().catch((error: unknown) => {
      throw mapDriverError(error);
    });
  }

  query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    const scope = this.#scope.getStore();
    if (scope?.queued) {
      return this.#guarded(() => this.#enqueue(scope, sql, params, { open: true }) as unknown as Promise<T[]>);
    }
    return this.#guarded(async () => {
      const rows = await this.#handle().unsafe(toPostgresPlaceholders(sql), bind(params), { prepare: true });
      return rows as unknown as T[];
    });
  }

  exec(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    const scope = this.#scope.getStore();
    const simple = params.length === 0 && !sql.includes("?");
    return this.#guarded(async () => {
      const result = scope?.queued
        ? await this.#enqueue(scope, sql, params, { simple, open: true })
        : await statementOn(this.#handle(), { sql, params, simple });
      return { changes: result.count ?? 0 };
    });
  }

  async *stream<T extends Row = Row>(sql: string, params: readonly SqlValue[] = [], batchSize = 1000): AsyncIterable<T[]> {
    const scope = this.#scope.getStore();
    if (scope?.state.lost !== undefined) throw lostTransactionError(scope.state);
    if (scope?.queued) await scope.open!();
    // A cursor outside a transaction holds a connection until it ends (a transaction already holds its own).
    if (!scope) await this.#acquire();
    try {
      const cursor = this.#handle().unsafe(toPostgresPlaceholders(sql), bind(params), { prepare: true }).cursor(batchSize);
      try {
        for await (const rows of cursor) yield rows as unknown as T[];
      } catch (error) {
        throw mapDriverError(error);
      }
    } finally {
      if (!scope) this.#release();
    }
  }

  inTransaction(): boolean {
    return this.#scope.getStore() !== undefined;
  }

  pipeline<T extends Row = Row>(sql: string, params: readonly SqlValue[] = [], options: PipelineOptions = {}): Promise<T[]> | undefined {
    const scope = this.#scope.getStore();
    if (!scope) return undefined;
    const mapError = options.mapError;
    const queued = scope.queued !== undefined && scope.state.lost === undefined;
    const raw: Promise<T[]> = scope.state.lost !== undefined
      ? Promise.reject(lostTransactionError(scope.state))
      : queued
      ? this.#enqueue(scope, sql, params, { mapError, open: false }) as unknown as Promise<T[]>
      : scope.tx!.unsafe(toPostgresPlaceholders(sql), bind(params), { prepare: true }).execute() as unknown as Promise<T[]>;
    const sent = mapError ? raw.catch((error: unknown) => Promise.reject(mapError(error))) : raw;
    // Read at the transaction's end; until then a failure is not unhandled. The first is the cause of the later ones.
    sent.catch((error: unknown) => void (scope.failed ??= { error }));
    scope.pipelined.push(sent);
    // Awaiting it before the transaction ends needs its answer: the transaction is opened and the queue sent.
    return queued ? openedWhenAwaited(sent, () => void (scope.queued && scope.open!())) : sent;
  }

  afterTransaction(fn: () => unknown): void | Promise<void> {
    const scope = this.#scope.getStore();
    if (scope) scope.ended.push(fn);
    else return settle(fn);
  }

  async transaction<T>(fn: (tx: Executor) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const outer = this.#scope.getStore();
    try {
      if (outer) {
        // A nested transaction is a savepoint: its failure undoes only its own work.
        const { state, ended } = outer;
        const pipelined: PromiseLike<unknown>[] = [];
        if (outer.queued) await outer.open!();
        const tx = outer.tx;
        if (tx === undefined) throw lostTransactionError(state);
        return await runGuardedTransaction<Tx, T>(
          (callback) => tx.savepoint((sp) => callback(sp as unknown as Tx)),
          state,
          // A savepoint waits for its pipelined statements: a failure among them rolls back only its own work.
          (sp) => this.#scope.run({ tx: sp, state, ended, pipelined }, () => fn(this).then(async (value) => (await drain(pipelined), value))),
        );
      }
      const retries = Math.max(0, options.retries ?? DEFAULT_RETRIES);
      for (let attempt = 0;; attempt++) {
        try {
          return await this.#begin(fn, options);
        } catch (error) {
          if (attempt >= retries || !isRetryable(error)) throw error;
          // Random back-off, growing: the transactions that collided should not collide again.
          await sleep(Math.random() * 10 * 2 ** attempt);
        }
      }
    } catch (error) {
      if (isRetryable(error)) {
        throw new ConflictError(`The transaction conflicted with concurrent ones (SQLSTATE ${sqlState(error)}) and was rolled back; retry it`, { cause: error });
      }
      throw mapDriverError(error);
    }
  }

  /**
   * An outermost transaction. It is opened on a connection (`BEGIN`) only
   * when a statement needs an answer before it ends, or at once for an
   * isolation level or a read-only transaction; until then its statements
   * are queued. A transaction whose statements were all pipelined is sent
   * when `fn` returns, as one message run as one implicit transaction
   * (see {@link inlineStatements}): one round trip, no `BEGIN` or `COMMIT`.
   */
  async #begin<T>(fn: (tx: Executor) => Promise<T>, options: TransactionOptions): Promise<T> {
    // A connection lost mid-transaction rolls it back on the server: nothing is half-applied.
    const state: TransactionState = {};
    const ended: (() => unknown)[] = [];
    const scope: TransactionScope<Tx> = { tx: undefined, state, ended, pipelined: [], queued: [] };
    const mode = transactionMode(options);
    const outcome = deferred<T>(); // fn's, handed to the opened transaction: it commits or rolls back on it
    outcome.promise.catch(() => {}); // read by the opened transaction only
    const abandoned = deferred<never>(); // the opened transaction failed (BEGIN, or its connection was lost)
    abandoned.promise.catch(() => {});
    let settled: Promise<unknown> | undefined; // the opened transaction, after its COMMIT or ROLLBACK
    let opened: Promise<void> | undefined;
    scope.open = () => {
      if (opened) return opened;
      const pool = this.#sql;
      const ready = deferred<void>();
      opened = ready.promise;
      opened.catch(() => {});
      const open = (callback: (tx: Tx) => Promise<unknown>) =>
        mode ? pool.begin(mode, (tx) => callback(tx as Tx)) : pool.begin((tx) => callback(tx as Tx));
      settled = runGuardedTransaction<Tx, T>(open, state, (tx) => {
        scope.tx = tx;
        const queued = scope.queued ?? [];
        scope.queued = undefined;
        for (const statement of queued) this.#send(tx, statement);
        ready.resolve();
        return outcome.promise;
      });
      settled.catch((error: unknown) => {
        // postgres.js may leave the connection of a lost transaction unusable (porsager/postgres#1215):
        // start a fresh pool rather than hand that connection to the next caller.
        if (state.lost !== undefined && this.#sql === pool) this.#rebuildPool();
        if (scope.tx === undefined) {
          // Never opened: what waits for it fails, and what comes later is refused.
          state.lost ??= error;
          for (const statement of scope.queued ?? []) statement.reject(error);
          scope.queued = undefined;
        }
        ready.reject(error);
        abandoned.reject(error);
      });
      return opened;
    };
    if (mode) void scope.open();
    try {
      return await this.#guarded(async () => {
        let value: T;
        try {
          value = await Promise.race([this.#scope.run(scope, () => fn(this)), abandoned.promise]);
        } catch (error) {
          outcome.reject(error); // the opened transaction rolls back
          await settled?.catch(() => {});
          // A statement after a failed pipelined one fails only because the transaction is aborted.
          throw scope.failed && sqlState(error) === "25P02" ? scope.failed.error : error;
        }
        if (settled) {
          outcome.resolve(value);
          try {
            await Promise.race([settled, abandoned.promise]);
          } catch (error) {
            // The COMMIT became a rollback: a pipelined statement failed, and says why in its caller's terms.
            throw scope.failed?.error ?? error;
          }
          // Pipelined statements went out with the COMMIT: one that failed turned it into a rollback.
          await drain(scope.pipelined);
          return value;
        }
        const queued = scope.queued ?? [];
        scope.queued = undefined;
        if (queued.length > 0) await this.#sendQueued(queued);
        return value;
      });
    } finally {
      for (const run of ended) await settle(run);
    }
  }

  /** Sends the statements of a transaction never opened: one round trip, all or nothing. */
  async #sendQueued(queued: readonly QueuedStatement[]): Promise<void> {
    let results: unknown[];
    try {
      if (queued.length === 1) {
        // One statement is its own transaction, and keeps its prepared statement.
        results = [await statementOn(this.#sql, queued[0]!).execute()];
      } else {
        results = splitResults(await this.#sql.unsafe(inlineStatements(queued)).simple().execute() as never, queued.length);
      }
    } catch (error) {
      for (const statement of queued) statement.reject(error);
      throw batchError(queued, error);
    }
    queued.forEach((statement, index) => statement.resolve(results[index]));
  }

  async listen(channel: string, onNotify: (payload: string) => void, options: SubscriptionOptions = {}): Promise<() => Promise<void>> {
    const subscription: Subscription = { channel, onNotify, onRelisten: options.onRelisten, pool: null, handle: null, ended: false };
    try {
      await this.#subscribe(subscription);
    } catch (error) {
      throw mapDriverError(error);
    }
    this.#subscriptions.add(subscription);
    if (subscription.pool !== this.#sql) this.#resubscribe(); // the pool was replaced while LISTEN was on its way
    return async () => {
      subscription.ended = true;
      this.#subscriptions.delete(subscription);
      await subscription.handle?.unlisten().catch(() => {});
    };
  }

  /** Sends `LISTEN` for `subscription` on the current pool (postgres.js re-sends it after a reconnection). */
  async #subscribe(subscription: Subscription): Promise<void> {
    const pool = this.#sql;
    let first = true;
    const handle = await pool.listen(subscription.channel, subscription.onNotify, () => {
      // Called after each LISTEN: the first is this subscription's start, later ones follow a reconnection.
      if (!first && !subscription.ended) subscription.onRelisten?.();
      first = false;
    });
    if (subscription.ended || pool !== this.#sql) {
      // Unsubscribed meanwhile, or the pool was replaced while LISTEN was on its way.
      await handle.unlisten().catch(() => {});
      return;
    }
    subscription.pool = pool;
    subscription.handle = handle;
  }

  /**
   * After the pool was replaced, the subscriptions of the old one ended with it: each is sent again
   * on the new pool once the server answers (the breaker closed), retried until it is.
   */
  #resubscribe(): void {
    if (this.#resubscribing || this.#closed) return;
    if (this.circuit && this.circuit.state !== "closed") return; // the breaker's closing calls again
    const stale = [...this.#subscriptions].filter((subscription) => subscription.pool !== this.#sql);
    if (stale.length === 0) return;
    this.#resubscribing = true;
    void (async () => {
      let failed = false;
      for (const subscription of stale) {
        if (subscription.ended || subscription.pool === this.#sql) continue;
        try {
          await this.#subscribe(subscription);
          if (subscription.pool === this.#sql) subscription.onRelisten?.();
        } catch {
          failed = true;
        }
      }
      this.#resubscribing = false;
      if (failed) setTimeout(() => this.#resubscribe(), RESUBSCRIBE_DELAY_MS);
      else this.#resubscribe(); // the pool may have been replaced again meanwhile
    })();
  }

  /**
   * `SELECT 1` on the current pool within `timeoutMs`, outside the breaker and without waiting for a
   * turn: a health check must not queue behind a saturated pool (postgres.js then sends it on a busy
   * connection).
   */
  #answer(timeoutMs: number): Promise<void> {
    const answer = this.#sql`SELECT 1 AS ok`.execute().then(() => undefined, (error: unknown) => {
      throw mapDriverError(error);
    });
    answer.catch(() => {});
    return withDeadline(answer, timeoutMs, "Database");
  }

  async ping(timeoutMs = 2000): Promise<void> {
    try {
      await this.#answer(timeoutMs);
    } catch (error) {
      // A failed ping is evidence too: with no traffic, health checks alone open the circuit.
      if (this.circuit?.state === "closed") this.circuit.record(error);
      throw error;
    }
    // The server answered: no reason to keep callers waiting for the next probe.
    this.circuit?.record();
  }

  #rebuildPool(): void {
    const old = this.#sql;
    this.#sql = this.#connect();
    keepArrayTypes(old, this.#sql);
    // The old pool's listening connection ends with it.
    for (const subscription of this.#subscriptions) {
      if (subscription.pool === old) {
        subscription.pool = null;
        subscription.handle = null;
      }
    }
    void old.end({ timeout: 5 }).catch(() => {});
    this.#resubscribe();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.circuit?.dispose();
    await this.#sql.end({ timeout: 5 });
  }
}

/**
 * Opens a PostgreSQL store: a connection pool with an idle timeout and a
 * statement timeout; the first connection is retried with exponential
 * backoff, then fails with a clear {@link UnavailableError}.
 */
export async function openPostgresDriver(url: string, options: PostgresOptions = {}): Promise<Driver> {
  const schema = options.schema;
  if (schema !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
    throw new TypeError(`Invalid schema name: ${JSON.stringify(schema)}`);
  }
  const statementTimeout = options.statementTimeoutMs ?? 30000;
  const connection: Record<string, string> = { application_name: "chapkit" };
  if (statementTimeout > 0) connection.statement_timeout = String(statementTimeout);
  if (schema) connection.search_path = schema;
  const connect = (): Sql =>
    postgres(url, {
      max: options.max ?? 10,
      idle_timeout: options.idleTimeoutSeconds ?? 30,
      connect_timeout: options.connectTimeoutSeconds ?? 10,
      // postgres.js backs reconnects off up to 20 s after repeated failures; a query
      // would wait that long once the server is back. The breaker paces retries instead.
      backoff: () => RECONNECT_DELAY_SECONDS,
      onnotice: () => {},
      connection,
    }) as unknown as Sql;
  const sql = connect();
  const retries = options.connectRetries ?? 5;
  let delay = options.retryDelayMs ?? 200;
  for (let attempt = 0;; attempt++) {
    try {
      if (schema) await sql.unsafe(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      const min = Math.max(1, options.min ?? 1);
      await Promise.all(Array.from({ length: min }, () => sql`SELECT 1`.execute()));
      keepArrayTypes(null, sql);
      break;
    } catch (error) {
      if (!isConnectionError(error) || attempt >= retries) {
        await sql.end({ timeout: 1 }).catch(() => {});
        const attempts = `${attempt + 1} attempt${attempt === 0 ? "" : "s"}`;
        const reason = String((error as Error)?.message ?? error);
        throw new UnavailableError(`Could not connect to PostgreSQL at ${redact(url)} after ${attempts}: ${reason}`, {
          cause: error,
        });
      }
      await sleep(delay);
      delay *= 2;
    }
  }
  return new PostgresDriver(url, sql, connect, { max: options.max ?? 10, circuit: options.breaker ?? {} });
}
