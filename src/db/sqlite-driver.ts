import { AsyncLocalStorage } from "node:async_hooks";
import { UnavailableError } from "../core/errors.ts";
import { openSqlite, type SqliteConnection, type SqliteValue } from "../runtime/sqlite.ts";
import { type Driver, type Executor, type Row, settle, type SqlValue, type TransactionOptions } from "./driver.ts";
import { withDeadline } from "./_deadline.ts";
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
/** How long SQLite itself blocks the thread on a lock before handing control back (ms). */
const SYNC_BUSY_MS = 10;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A transaction waiting for, or running in, a group commit. */
interface Member {
  fn: (tx: Executor) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** What runs once its work is committed. */
  hooks: (() => unknown)[];
  result?: unknown;
}

/** Most transactions one commit carries. */
const GROUP_MAX = 64;
/** A transaction that comes within this many ms of the last commit waits for the rest of its event-loop turn's transactions. */
const GROUP_GATHER_MS = 5;
/** Longest a group stays open for more transactions (ms): plain statements wait for it. */
const GROUP_OPEN_MS = 10;

/**
 * A SQLite store on `bun:sqlite` (Bun) or `node:sqlite` (Deno). One
 * connection; a transaction holds it exclusively, and other callers (plain
 * statements and other transactions) wait for it in arrival order. A nested
 * transaction is a savepoint.
 *
 * Transactions that queue up while one runs are committed together (group
 * commit): each runs in a savepoint of one `BEGIN IMMEDIATE … COMMIT`, so a
 * failing one rolls back alone, and every caller hears of its own result only
 * once the shared commit is done. A burst of small writes then pays for one
 * commit, not one each. Files use WAL and foreign keys. A statement that
 * finds the file locked by another connection is retried with backoff,
 * yielding to the event loop in between (the engine's APIs are synchronous, so
 * blocking would starve a lock holder in the same process), until the busy
 * timeout has passed; then it fails with an `UnavailableError`.
 */
class SqliteDriver implements Driver {
  readonly dialect = "sqlite" as const;
  readonly url: string;
  readonly #db: SqliteConnection;
  /** The transaction whose work runs in this asynchronous flow. */
  readonly #scope = new AsyncLocalStorage<Member>();
  /** Transactions waiting for the connection, in arrival order. */
  #queue: Member[] = [];
  /** Settles when the queued transactions have all ended; null when none runs. */
  #active: Promise<void> | null = null;
  #savepoints = 0;
  #closed = false;
  /** When the last group committed (performance.now()). */
  #lastCommit = -Infinity;

  readonly #busyTimeoutMs: number;

  constructor(url: string, db: SqliteConnection, busyTimeoutMs: number) {
    this.url = url;
    this.#db = db;
    this.#busyTimeoutMs = busyTimeoutMs;
  }

  /** Runs `work` now; when the file is locked and `retryBusy`, retries it later (asynchronously). */
  #run<T>(work: () => T, retryBusy: boolean): T | Promise<T> {
    try {
      return work();
    } catch (error) {
      if (retryBusy && isBusyError(error)) return this.#retryBusy(work, error);
      throw mapDriverError(error);
    }
  }

  async #retryBusy<T>(work: () => T, first: unknown): Promise<T> {
    const deadline = Date.now() + this.#busyTimeoutMs;
    let delay = 1;
    let last = first;
    while (Date.now() < deadline) {
      await sleep(delay);
      delay = Math.min(delay * 2, 25);
      try {
        return work();
      } catch (error) {
        if (!isBusyError(error)) throw mapDriverError(error);
        last = error;
      }
    }
    throw new UnavailableError(
      `Database is busy: another connection held the write lock for more than ${this.#busyTimeoutMs} ms`,
      { cause: last, headers: { "Retry-After": "1" } },
    );
  }

  /** Waits until no transaction of another caller holds the connection. */
  async #turn(): Promise<boolean> {
    if (this.#scope.getStore()) return true;
    while (this.#active) await this.#active;
    if (this.#closed) throw new UnavailableError("Database is closed");
    return false;
  }

  // Without a transaction to wait for, a statement runs at once and its result is
  // wrapped in a settled promise: no async frame or extra hop on the hot path.
  query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    if (this.#closed) return Promise.reject(new UnavailableError("Database is closed"));
    const work = () => this.#db.all(sql, bind(params)) as T[];
    if (this.#active) return this.#turn().then((inside) => this.#run(work, !inside));
    try {
      return Promise.resolve(this.#run(work, this.#scope.getStore() === undefined));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async exec(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    if (this.#closed) throw new UnavailableError("Database is closed");
    const inside = this.#active ? await this.#turn() : this.#scope.getStore() !== undefined;
    return { changes: await this.#run(() => this.#db.run(sql, bind(params)), !inside) };
  }

  async *stream<T extends Row = Row>(sql: string, params: readonly SqlValue[] = [], batchSize = 1000): AsyncIterable<T[]> {
    if (this.#closed) throw new UnavailableError("Database is closed");
    if (this.#active) await this.#turn();
    const step = <V>(work: () => V): V => {
      try {
        return work();
      } catch (error) {
        throw mapDriverError(error);
      }
    };
    const rows = step(() => this.#db.iterate(sql, bind(params)) as IterableIterator<T>);
    try {
      let batch: T[] = [];
      for (;;) {
        const next = step(() => rows.next());
        if (next.done) break;
        batch.push(next.value);
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
    } finally {
      rows.return?.();
    }
  }

  inTransaction(): boolean {
    return this.#scope.getStore() !== undefined;
  }

  afterTransaction(fn: () => unknown): void | Promise<void> {
    const member = this.#scope.getStore();
    if (member) member.hooks.push(fn);
    else return settle(fn);
  }

  /** SQLite transactions are serializable whatever `_options` ask: one writer holds the file at a time. */
  transaction<T>(fn: (tx: Executor) => Promise<T>, _options?: TransactionOptions): Promise<T> {
    if (this.#scope.getStore()) return this.#savepoint(fn);
    if (this.#closed) return Promise.reject(new UnavailableError("Database is closed"));
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ fn, resolve: resolve as (value: unknown) => void, reject, hooks: [] });
      this.#active ??= this.#drain();
    });
  }

  /** Runs groups until no transaction is waiting. */
  async #drain(): Promise<void> {
    try {
      // Under load, the rest of this event-loop turn's transactions join the first group.
      if (performance.now() - this.#lastCommit < GROUP_GATHER_MS) await new Promise((resolve) => setImmediate(resolve));
      while (this.#queue.length > 0) await this.#group();
    } finally {
      this.#active = null;
    }
  }

  /** One `BEGIN IMMEDIATE … COMMIT` carrying the transactions that queue up while it is open. */
  async #group(): Promise<void> {
    try {
      if (this.#closed) throw new UnavailableError("Database is closed");
      await this.#run(() => this.#db.run("BEGIN IMMEDIATE", []), true);
    } catch (error) {
      // Whoever waits now would meet the same lock or closed file.
      const failure = mapDriverError(error);
      for (const member of this.#queue.splice(0)) member.reject(failure);
      return;
    }
    const done: Member[] = [];
    const opened = performance.now();
    while (done.length < GROUP_MAX && performance.now() - opened < GROUP_OPEN_MS) {
      const member = this.#queue.shift();
      if (!member) break;
      if (!await this.#runMember(member, done)) return;
    }
    try {
      await this.#run(() => this.#db.run("COMMIT", []), true);
    } catch (error) {
      this.#rollback();
      const failure = mapDriverError(error);
      for (const member of done) member.reject(failure);
      return;
    }
    this.#lastCommit = performance.now();
    void this.#settle(done);
  }

  /** Runs one transaction in a savepoint; false when the whole group was lost (its members are told). */
  async #runMember(member: Member, done: Member[]): Promise<boolean> {
    // Prepared once and reused (the cache keys statements by text), as are BEGIN and COMMIT.
    this.#db.run("SAVEPOINT chapkit_member", []);
    try {
      member.result = await this.#scope.run(member, () => member.fn(this));
      this.#db.run("RELEASE chapkit_member", []);
      done.push(member);
      return true;
    } catch (error) {
      const failure = mapDriverError(error);
      try {
        this.#db.script("ROLLBACK TO chapkit_member; RELEASE chapkit_member");
      } catch {
        // The engine ended the whole transaction (a full disk, an I/O error): the group's work is gone.
        this.#rollback();
        member.reject(failure);
        for (const other of done) other.reject(failure);
        return false;
      }
      member.reject(failure);
      return true;
    }
  }

  #rollback(): void {
    try {
      this.#db.script("ROLLBACK");
    } catch {
      // the transaction may already be gone (e.g. after a failed COMMIT)
    }
  }

  /** Runs each committed transaction's hooks, then answers its caller. */
  async #settle(done: Member[]): Promise<void> {
    for (const member of done) {
      for (const hook of member.hooks) await settle(hook);
      member.resolve(member.result);
    }
  }

  async #savepoint<T>(fn: (tx: Executor) => Promise<T>): Promise<T> {
    const name = `chapkit_sp_${++this.#savepoints}`;
    this.#run(() => this.#db.script(`SAVEPOINT ${name}`), false);
    try {
      const result = await fn(this);
      this.#run(() => this.#db.script(`RELEASE ${name}`), false);
      return result;
    } catch (error) {
      try {
        this.#db.script(`ROLLBACK TO ${name}; RELEASE ${name}`);
      } catch {
        // the enclosing transaction is already gone
      }
      throw mapDriverError(error);
    }
  }

  async ping(timeoutMs = 2000): Promise<void> {
    // Reading the schema needs the file itself: `SELECT 1` would not notice it unreadable.
    const read = this.query("SELECT count(*) AS n FROM sqlite_master");
    read.catch(() => {});
    await withDeadline(read, timeoutMs, "Database");
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    while (this.#active) await this.#active;
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }
}

/** Whether the file holds no page yet (new or zero-length); false when it cannot be read now (the WAL switch then reports why). */
function isEmpty(db: SqliteConnection): boolean {
  try {
    return Number(db.all("PRAGMA page_count", [])[0]?.page_count) === 0;
  } catch {
    return false;
  }
}

/** Writes the header page back unchanged, so the WAL file starts (its header written) under the current sync setting. */
function startLog(db: SqliteConnection): void {
  try {
    const version = Number(db.all("PRAGMA user_version", [])[0]?.user_version ?? 0);
    db.script(`PRAGMA user_version = ${version}`);
  } catch {
    // Another connection holds the file: its write starts the log instead.
  }
}

/**
 * Opens a SQLite store. `path` is `:memory:` or a file path.
 */
export async function openSqliteDriver(url: string, path: string, options: SqliteOptions = {}): Promise<Driver> {
  const db = await openSqlite(path);
  const busy = Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000));
  db.script(`PRAGMA busy_timeout = ${busy}`);
  if (path !== ":memory:") {
    // A new, empty database holds nothing a crash could lose: its switch to WAL (a
    // header write through the rollback journal) and the creation of its WAL file
    // (the first write) skip the six syncs they take; NORMAL applies from then on.
    const empty = isEmpty(db);
    if (empty) db.script("PRAGMA synchronous = OFF");
    for (let attempt = 0;; attempt++) {
      try {
        db.all("PRAGMA journal_mode = WAL", []);
        break;
      } catch (error) {
        if (!isBusyError(error) || attempt > BUSY_RETRIES) throw mapDriverError(error);
      }
    }
    if (empty) startLog(db);
    db.script("PRAGMA synchronous = NORMAL");
  }
  db.script(`PRAGMA busy_timeout = ${Math.min(busy, SYNC_BUSY_MS)}`);
  db.script("PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY");
  return new SqliteDriver(url, db, busy);
}
