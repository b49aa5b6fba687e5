import { AsyncLocalStorage } from "node:async_hooks";
import { UnavailableError } from "../core/errors.ts";
import { openSqlite, type SqliteConnection, type SqliteValue } from "../runtime/sqlite.ts";
import type { Driver, Executor, Row, SqlValue } from "./driver.ts";
import { isBusyError, mapDriverError } from "./sql-errors.ts";

/** Options of a SQLite store. */
export interface SqliteOptions {
  /** Milliseconds a writer waits for another connection's lock (default 5000). */
  busyTimeoutMs?: number;
}

function bind(params: readonly SqlValue[]): SqliteValue[] {
  const out: SqliteValue[] = new Array(params.length);
  for (let i = 0; i < params.length; i++) {
    const value = params[i];
    out[i] = typeof value === "boolean" ? (value ? 1 : 0) : (value as SqliteValue);
  }
  return out;
}

const BUSY_RETRIES = 50;

/**
 * A SQLite store on `bun:sqlite` (Bun) or `node:sqlite` (Deno). One
 * connection; a transaction holds it exclusively and other callers wait.
 * Files use WAL, foreign keys and a busy timeout.
 */
class SqliteDriver implements Driver {
  readonly dialect = "sqlite" as const;
  readonly url: string;
  readonly #db: SqliteConnection;
  readonly #scope = new AsyncLocalStorage<true>();
  #queue: Promise<void> = Promise.resolve();
  #inTransaction = false;
  #closed = false;

  constructor(url: string, db: SqliteConnection) {
    this.url = url;
    this.#db = db;
  }

  #ready(): Promise<void> | undefined {
    if (this.#closed) throw new UnavailableError("Database is closed");
    if (this.#inTransaction && !this.#scope.getStore()) return this.#queue;
    return undefined;
  }

  #run<T>(work: () => T, retryBusy = !this.#inTransaction): T {
    for (let attempt = 0;; attempt++) {
      try {
        return work();
      } catch (error) {
        if (retryBusy && isBusyError(error) && attempt < BUSY_RETRIES) continue;
        throw mapDriverError(error);
      }
    }
  }

  async query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    const wait = this.#ready();
    if (wait) await this.#waitTurn();
    return this.#run(() => this.#db.all(sql, bind(params)) as T[]);
  }

  async exec(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    const wait = this.#ready();
    if (wait) await this.#waitTurn();
    return { changes: this.#run(() => this.#db.run(sql, bind(params))) };
  }

  async #waitTurn(): Promise<void> {
    while (this.#inTransaction && !this.#scope.getStore()) await this.#queue;
  }

  async transaction<T>(fn: (tx: Executor) => Promise<T>): Promise<T> {
    if (this.#scope.getStore()) return fn(this); // nested: join the open transaction
    if (this.#closed) throw new UnavailableError("Database is closed");
    await this.#waitTurn();
    let release!: () => void;
    this.#queue = new Promise<void>((resolve) => (release = resolve));
    this.#inTransaction = true;
    try {
      this.#run(() => this.#db.script("BEGIN IMMEDIATE"), true);
      try {
        const result = await this.#scope.run(true, () => fn(this));
        this.#db.script("COMMIT");
        return result;
      } catch (error) {
        try {
          this.#db.script("ROLLBACK");
        } catch {
          // the transaction may already be gone (e.g. after a failed COMMIT)
        }
        throw mapDriverError(error);
      }
    } finally {
      this.#inTransaction = false;
      release();
    }
  }

  async ping(): Promise<void> {
    await this.query("SELECT 1 AS ok");
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#waitTurn();
    this.#closed = true;
    this.#db.close();
  }
}

/**
 * Opens a SQLite store. `path` is `:memory:` or a file path.
 */
export async function openSqliteDriver(url: string, path: string, options: SqliteOptions = {}): Promise<Driver> {
  const db = await openSqlite(path);
  const busy = options.busyTimeoutMs ?? 5000;
  db.script(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(busy))}`);
  if (path !== ":memory:") {
    for (let attempt = 0;; attempt++) {
      try {
        db.all("PRAGMA journal_mode = WAL", []);
        break;
      } catch (error) {
        if (!isBusyError(error) || attempt > BUSY_RETRIES) throw mapDriverError(error);
      }
    }
    db.script("PRAGMA synchronous = NORMAL");
  }
  db.script("PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY");
  return new SqliteDriver(url, db);
}
