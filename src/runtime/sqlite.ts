/** A value SQLite binds. */
export type SqliteValue = string | number | bigint | null | Uint8Array;

/** A synchronous SQLite connection: the part of `bun:sqlite` and `node:sqlite` chapkit uses. */
export interface SqliteConnection {
  /** Runs a statement and returns its rows. */
  all(sql: string, params: readonly SqliteValue[]): Record<string, unknown>[];
  /** Runs a statement and returns how many rows it changed. */
  run(sql: string, params: readonly SqliteValue[]): number;
  /**
   * Steps through a statement's rows one at a time (a statement of its own,
   * not the cached one, so other statements run meanwhile); `return()` ends it.
   */
  iterate(sql: string, params: readonly SqliteValue[]): IterableIterator<Record<string, unknown>>;
  /** Runs one or more statements without parameters. */
  script(sql: string): void;
  /** Closes the connection. */
  close(): void;
}

interface Statement {
  all(...params: SqliteValue[]): Record<string, unknown>[];
  iterate(...params: SqliteValue[]): IterableIterator<Record<string, unknown>>;
  run(...params: SqliteValue[]): { changes: number | bigint };
  /** bun:sqlite only: frees the statement (node:sqlite frees it when collected). */
  finalize?(): void;
}

interface NativeDatabase {
  prepare(sql: string): Statement;
  exec(sql: string): void;
  close(): void;
}

const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
// Kept in variables so that Deno's and Bun's module graphs do not try to resolve the other runtime's module.
const BUN_SQLITE = "bun:sqlite";
const NODE_SQLITE = "node:sqlite";

/** The runtime's embedded SQLite module name (`bun:sqlite` on Bun, `node:sqlite` elsewhere). */
export const sqliteModule: string = isBun ? BUN_SQLITE : NODE_SQLITE;

/** Statements longer than this are prepared for each use instead of being kept (a bulk insert's compiled form takes megabytes). */
const CACHED_SQL_CHARS = 4096;

/**
 * Opens a SQLite database with the runtime's embedded engine: `bun:sqlite`
 * on Bun, `node:sqlite` on Deno. Prepared statements are cached per SQL text.
 */
export async function openSqlite(path: string): Promise<SqliteConnection> {
  let db: NativeDatabase;
  if (isBun) {
    const { Database } = await import(BUN_SQLITE) as { Database: new (path: string, options: object) => NativeDatabase };
    db = new Database(path, { create: true, strict: false });
  } else {
    const { DatabaseSync } = await import(NODE_SQLITE) as { DatabaseSync: new (path: string) => NativeDatabase };
    db = new DatabaseSync(path);
  }
  const statements = new Map<string, Statement>();
  const prepare = (sql: string): Statement => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      // Least recently prepared first out (a Map keeps insertion order).
      if (statements.size >= 500) statements.delete(statements.keys().next().value!);
      statements.set(sql, statement);
    }
    return statement;
  };
  /** Runs a statement prepared for this one use and frees it. */
  const once = <T>(sql: string, use: (statement: Statement) => T): T => {
    const statement = db.prepare(sql);
    try {
      return use(statement);
    } finally {
      statement.finalize?.();
    }
  };
  return {
    all: (sql, params) => {
      // bun:sqlite leaves an `EXPLAIN` of a write statement unfinished after reading it, which makes the
      // enclosing COMMIT fail ("SQL statements in progress"): such statements are prepared once and freed.
      // So are long ones (a bulk insert's thousands of rows): their compiled form takes megabytes.
      if (sql.length <= CACHED_SQL_CHARS && !/^\s*EXPLAIN\b/i.test(sql)) return prepare(sql).all(...params);
      return once(sql, (statement) => statement.all(...params));
    },
    run: (sql, params) => {
      const changes = sql.length <= CACHED_SQL_CHARS ? prepare(sql).run(...params).changes : once(sql, (statement) => statement.run(...params).changes);
      return Number(changes);
    },
    iterate: (sql, params) => db.prepare(sql).iterate(...params),
    script: (sql) => db.exec(sql),
    close: () => {
      statements.clear();
      db.close();
    },
  };
}
