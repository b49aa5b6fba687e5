import { AsyncLocalStorage } from "node:async_hooks";
import postgres from "postgres";
import { UnavailableError } from "../core/errors.ts";
import type { Driver, Executor, Row, SqlValue } from "./driver.ts";
import { withDeadline } from "./_deadline.ts";
import type { PooledDriver, PoolStats } from "./instrumented-driver.ts";
import { isConnectionError, mapDriverError } from "./sql-errors.ts";

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
}

type Sql = postgres.Sql<Record<string, never>>;
type Tx = postgres.TransactionSql<Record<string, never>>;

const placeholderCache = new Map<string, string>();

/** Rewrites `?` placeholders to `$1…`, leaving quoted text alone. */
export function toPostgresPlaceholders(sql: string): string {
  const cached = placeholderCache.get(sql);
  if (cached !== undefined) return cached;
  let out = "";
  let n = 0;
  let quote: string | null = null;
  for (const char of sql) {
    if (quote) {
      if (char === quote) quote = null;
      out += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      out += char;
    } else if (char === "?") {
      out += `$${++n}`;
    } else {
      out += char;
    }
  }
  if (placeholderCache.size > 2000) placeholderCache.clear();
  placeholderCache.set(sql, out);
  return out;
}

function bind(params: readonly SqlValue[]): postgres.ParameterOrJSON<never>[] {
  return params.map((value) => {
    if (typeof value === "bigint") return value.toString();
    if (value instanceof Uint8Array && !(value instanceof Buffer)) {
      return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    }
    return value;
  }) as postgres.ParameterOrJSON<never>[];
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "postgres://…";
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A PostgreSQL store on postgres.js: a pool, transactions on one pooled connection. */
class PostgresDriver implements PooledDriver {
  readonly dialect = "postgres" as const;
  readonly url: string;
  readonly #sql: Sql;
  readonly #scope = new AsyncLocalStorage<Tx>();
  readonly #max: number;
  /** Statements outside a transaction plus open transactions: what holds or waits for a connection. */
  #inFlight = 0;

  constructor(url: string, sql: Sql, max: number) {
    this.url = redact(url);
    this.#sql = sql;
    this.#max = max;
  }

  poolStats(): PoolStats {
    const active = Math.min(this.#inFlight, this.#max);
    return { max: this.#max, active, waiting: this.#inFlight - active };
  }

  async #pooled<T>(run: () => Promise<T>): Promise<T> {
    if (this.#scope.getStore()) return await run();
    this.#inFlight += 1;
    try {
      return await run();
    } finally {
      this.#inFlight -= 1;
    }
  }

  #handle(): Sql | Tx {
    return this.#scope.getStore() ?? this.#sql;
  }

  async query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    try {
      const rows = await this.#pooled(() => this.#handle().unsafe(toPostgresPlaceholders(sql), bind(params), { prepare: true }));
      return rows as unknown as T[];
    } catch (error) {
      throw mapDriverError(error);
    }
  }

  async exec(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    try {
      const result = await this.#pooled(() =>
        params.length === 0 && !sql.includes("?")
          ? this.#handle().unsafe(sql)
          : this.#handle().unsafe(toPostgresPlaceholders(sql), bind(params), { prepare: true })
      );
      return { changes: result.count ?? 0 };
    } catch (error) {
      throw mapDriverError(error);
    }
  }

  inTransaction(): boolean {
    return this.#scope.getStore() !== undefined;
  }

  async transaction<T>(fn: (tx: Executor) => Promise<T>): Promise<T> {
    const outer = this.#scope.getStore();
    try {
      if (outer) {
        // A nested transaction is a savepoint: its failure undoes only its own work.
        return await outer.savepoint((sp) => this.#scope.run(sp as unknown as Tx, () => fn(this))) as T;
      }
      return await this.#pooled(() => this.#sql.begin((tx) => this.#scope.run(tx, () => fn(this)))) as T;
    } catch (error) {
      throw mapDriverError(error);
    }
  }

  async ping(timeoutMs = 2000): Promise<void> {
    const answer = this.#sql`SELECT 1 AS ok`.execute().then(() => undefined, (error: unknown) => {
      throw mapDriverError(error);
    });
    answer.catch(() => {});
    await withDeadline(answer, timeoutMs, "Database");
  }

  async close(): Promise<void> {
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
  const sql = postgres(url, {
    max: options.max ?? 10,
    idle_timeout: options.idleTimeoutSeconds ?? 30,
    connect_timeout: options.connectTimeoutSeconds ?? 10,
    onnotice: () => {},
    connection,
  }) as unknown as Sql;
  const retries = options.connectRetries ?? 5;
  let delay = options.retryDelayMs ?? 200;
  for (let attempt = 0;; attempt++) {
    try {
      if (schema) await sql.unsafe(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      const min = Math.max(1, options.min ?? 1);
      await Promise.all(Array.from({ length: min }, () => sql`SELECT 1`.execute()));
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
  return new PostgresDriver(url, sql, options.max ?? 10);
}
