import type { CircuitBreaker } from "../core/circuit-breaker.ts";
import type { HistogramChild } from "../observability/metrics.ts";
import type { Monitoring } from "../observability/monitoring.ts";
import { type Span, SpanKind } from "../observability/tracing.ts";
import { type Driver, type Executor, type PipelineOptions, type Row, settle, type SqlValue, type TransactionOptions } from "./driver.ts";
import { toPostgresPlaceholders } from "./placeholders.ts";

/** The `operation` label of a statement: its verb, from a bounded set. */
export type StatementOperation = "select" | "insert" | "update" | "delete" | "transaction" | "ddl" | "other";

const operations = new Map<string, StatementOperation>();

/** Classifies a statement by its leading keyword (a `WITH` by the verb after its CTEs). */
export function statementOperation(sql: string): StatementOperation {
  const cached = operations.get(sql);
  if (cached !== undefined) return cached;
  const word = /^\s*([A-Za-z]+)/.exec(sql)?.[1]?.toLowerCase() ?? "";
  let operation: StatementOperation;
  if (word === "select" || word === "insert" || word === "update" || word === "delete") operation = word;
  else if (word === "with") operation = (/\b(insert|update|delete)\b/i.exec(sql)?.[1]?.toLowerCase() as StatementOperation) ?? "select";
  else if (word === "begin" || word === "commit" || word === "rollback" || word === "savepoint" || word === "release") operation = "transaction";
  else if (word === "create" || word === "alter" || word === "drop") operation = "ddl";
  else operation = "other";
  if (operations.size > 4000) operations.clear();
  operations.set(sql, operation);
  return operation;
}

/** Pool occupancy as the driver sees it (PostgreSQL). */
export interface PoolStats {
  /** Configured pool size. */
  max: number;
  /** Connections serving a statement or transaction. */
  active: number;
  /** Statements and transactions waiting for a connection. */
  waiting: number;
}

/** A driver that can report its pool occupancy. */
export interface PooledDriver extends Driver {
  /** The pool's occupancy now. */
  poolStats(): PoolStats;
}

function isPooled(driver: Driver): driver is PooledDriver {
  return typeof (driver as Partial<PooledDriver>).poolStats === "function";
}

const EXPLAINED: ReadonlySet<StatementOperation> = new Set(["select", "insert", "update", "delete"]);

let explained = 0;

/**
 * The plan of a statement, without running it and without bound values in
 * the text: `EXPLAIN QUERY PLAN` on SQLite; on PostgreSQL the statement is
 * prepared and `EXPLAIN EXECUTE` shows its generic plan
 * (`plan_cache_mode = force_generic_plan`), so parameters stay `$n`.
 */
export async function explainStatement(driver: Driver, sql: string, params: readonly SqlValue[]): Promise<string[]> {
  if (driver.dialect === "sqlite") {
    const rows = await driver.query<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, params);
    return rows.map((row) => String(row.detail));
  }
  const name = `chapkit_explain_${++explained}`;
  return await driver.transaction(async (tx) => {
    await tx.exec("SET LOCAL plan_cache_mode = force_generic_plan");
    await tx.exec(`PREPARE ${name} AS ${toPostgresPlaceholders(sql)}`);
    try {
      const args = params.length === 0 ? "" : `(${params.map(() => "NULL").join(", ")})`;
      const rows = await tx.query<Record<string, unknown>>(`EXPLAIN EXECUTE ${name}${args}`);
      return rows.map((row) => String(Object.values(row)[0]));
    } finally {
      await tx.exec(`DEALLOCATE ${name}`).catch(() => {});
    }
  });
}

class InstrumentedExecutor implements Executor {
  readonly dialect: Driver["dialect"];
  readonly #children = new Map<StatementOperation, HistogramChild>();

  constructor(protected readonly inner: Executor, protected readonly monitoring: Monitoring, protected readonly root: Driver) {
    this.dialect = inner.dialect;
  }

  /** Logs a slow statement and captures its plan in the background. */
  #slow(operation: StatementOperation, sql: string, params: readonly SqlValue[] | undefined, ms: number): void {
    const log = this.monitoring.slowQueries;
    if (!log || ms < log.thresholdMs) return;
    this.monitoring.dbSlowQueries.inc(1, this.dialect, operation);
    const entry = log.record({ sql, operation, store: this.dialect, durationMs: Math.round(ms * 100) / 100, at: new Date().toISOString() });
    this.monitoring.logger?.warn("db.query.slow", { store: this.dialect, operation, duration_ms: entry.durationMs, sql });
    if (!EXPLAINED.has(operation)) return;
    // Not awaited: inside a transaction the plan waits for it to end (SQLite) or uses another connection.
    explainStatement(this.root, sql, params ?? []).then((plan) => {
      entry.plan = plan;
    }, (error: unknown) => {
      entry.plan = [`(no plan: ${error instanceof Error ? error.message : String(error)})`];
    });
  }

  protected histogram(operation: StatementOperation): HistogramChild {
    let child = this.#children.get(operation);
    if (!child) this.#children.set(operation, child = this.monitoring.dbQueryDuration.child(this.dialect, operation));
    return child;
  }

  /** A client span for the statement, only under a live recorded span (a request, a job). */
  #span(operation: StatementOperation, sql: string | undefined): Span | undefined {
    const tracer = this.monitoring.tracer;
    const parent = tracer?.active();
    if (!tracer || !parent?.recording) return undefined;
    return tracer.startSpan(operation === "transaction" ? "transaction" : `${operation}`, {
      kind: SpanKind.CLIENT,
      parent,
      attributes: {
        "db.system.name": this.dialect === "postgres" ? "postgresql" : "sqlite",
        "db.operation.name": operation,
        // The statement's shape: values are bound parameters, never part of the text.
        ...(sql === undefined ? {} : { "db.query.text": sql.length > 2000 ? `${sql.slice(0, 2000)}…` : sql }),
      },
    });
  }

  protected timed<T>(operation: StatementOperation, run: () => Promise<T>, sql?: string, params?: readonly SqlValue[]): Promise<T> {
    const child = this.histogram(operation);
    const span = this.#span(operation, sql);
    const start = performance.now();
    const done = (): void => {
      const ms = performance.now() - start;
      child.observe(ms / 1000);
      span?.end();
      if (sql !== undefined) this.#slow(operation, sql, params, ms);
    };
    const running = span && operation === "transaction" ? this.monitoring.tracer!.withSpan(span, run) : run();
    return running.then((value) => {
      done();
      return value;
    }, (error: unknown) => {
      span?.recordError(error);
      done();
      throw error;
    });
  }

  query<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.timed(statementOperation(sql), () => this.inner.query<T>(sql, params), sql, params);
  }

  exec(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> {
    return this.timed(statementOperation(sql), () => this.inner.exec(sql, params), sql, params);
  }
}

class InstrumentedDriver extends InstrumentedExecutor implements Driver {
  readonly url: string;
  readonly #driver: Driver;

  constructor(driver: Driver, monitoring: Monitoring) {
    super(driver, monitoring, driver);
    this.#driver = driver;
    this.url = driver.url;
  }

  transaction<T>(fn: (tx: Executor) => Promise<T>, options?: TransactionOptions): Promise<T> {
    return this.timed("transaction", () =>
      this.#driver.transaction((tx) => fn(tx === this.#driver ? this : new InstrumentedExecutor(tx, this.monitoring, this.#driver)), options));
  }

  /** The wrapped store's breaker, so health checks see through the instrumentation. */
  get circuit(): CircuitBreaker | undefined {
    return this.#driver.circuit;
  }

  inTransaction(): boolean {
    return this.#driver.inTransaction?.() ?? false;
  }

  /** The wrapped store's stream, timed as one `select` from the first batch to the end. */
  get stream(): Driver["stream"] {
    const inner = this.#driver;
    if (!inner.stream) return undefined;
    const timed = (run: () => Promise<void>) => this.timed("select", run);
    return async function* <T extends Row = Row>(sql: string, params?: readonly SqlValue[], batchSize?: number): AsyncIterable<T[]> {
      let finish!: () => void;
      const done = timed(() => new Promise<void>((resolve) => (finish = resolve)));
      try {
        yield* inner.stream!<T>(sql, params, batchSize);
      } finally {
        finish();
        await done;
      }
    };
  }

  afterTransaction(fn: () => unknown): void | Promise<void> {
    return this.#driver.afterTransaction ? this.#driver.afterTransaction(fn) : settle(fn);
  }

  /** The wrapped store's pipelining, untimed: the statement's time is the transaction's. */
  pipeline<T extends Row = Row>(sql: string, params?: readonly SqlValue[], options?: PipelineOptions): Promise<T[]> | undefined {
    return this.#driver.pipeline?.<T>(sql, params, options);
  }

  /** The wrapped store's notifications (PostgreSQL), untimed: a subscription is not a statement. */
  get listen(): Driver["listen"] {
    const inner = this.#driver;
    return inner.listen ? (channel, onNotify, options) => inner.listen!(channel, onNotify, options) : undefined;
  }

  ping(timeoutMs?: number): Promise<void> {
    return this.#driver.ping(timeoutMs);
  }

  close(): Promise<void> {
    return this.#driver.close();
  }
}

class InstrumentedPool extends InstrumentedDriver implements PooledDriver {
  constructor(readonly pooled: PooledDriver, monitoring: Monitoring) {
    super(pooled, monitoring);
  }

  poolStats(): PoolStats {
    return this.pooled.poolStats();
  }
}

/**
 * Wraps a driver so every statement and transaction is timed into
 * `chapkit_db_query_duration_seconds{store,operation}` (the store is the
 * dialect, the operation the statement's verb: never the statement itself).
 * On a pooled driver (PostgreSQL) `chapkit_db_pool_connections{state}` is
 * read at scrape time. The wrapper changes nothing else: transactions, streams,
 * notifications (`listen`), the breaker and pings are the wrapped store's.
 */
export function instrumentDriver(driver: Driver, monitoring: Monitoring): Driver {
  if (isPooled(driver)) {
    const pool = monitoring.dbPool;
    pool.collect(() => {
      const stats = driver.poolStats();
      pool.set(stats.active, "active");
      pool.set(Math.max(0, stats.max - stats.active), "idle");
      pool.set(stats.waiting, "waiting");
      pool.set(stats.max, "max");
    });
    return new InstrumentedPool(driver, monitoring);
  }
  return new InstrumentedDriver(driver, monitoring);
}
