import type { Driver } from "./driver.ts";
import type { PostgresOptions } from "./postgres-driver.ts";
import { openSqliteDriver, type SqliteOptions } from "./sqlite-driver.ts";

/** Options of {@link openDatabase}, per store kind. */
export interface DatabaseOptions {
  /** SQLite settings. */
  sqlite?: SqliteOptions;
  /** PostgreSQL settings. */
  postgres?: PostgresOptions;
}

/** The default store: an in-memory SQLite database. */
export const DEFAULT_DATABASE_URL = "sqlite::memory:";

/**
 * Opens a store by URL: `sqlite::memory:` (the default), `sqlite:./path.db`
 * (also `sqlite:///abs/path.db` and `sqlite+aiosqlite:///…` as Python Chapkit
 * writes it), or `postgres://user@host:5432/db` (`postgresql://` too).
 *
 * @example
 * ```ts ignore
 * const db = await openDatabase("sqlite:./data.db");
 * await db.query("SELECT 1");
 * ```
 */
export async function openDatabase(url: string = DEFAULT_DATABASE_URL, options: DatabaseOptions = {}): Promise<Driver> {
  // postgres.js loads only for a PostgreSQL store, so a SQLite service starts without it.
  if (/^postgres(ql)?:\/\//.test(url)) return (await import("./postgres-driver.ts")).openPostgresDriver(url, options.postgres);
  const match = /^sqlite(?:\+\w+)?:(.*)$/.exec(url);
  if (!match) {
    throw new TypeError(`Unsupported database URL ${JSON.stringify(url)}: use sqlite::memory:, sqlite:./file.db or postgres://…`);
  }
  let path = match[1] ?? "";
  if (path === "" || path === ":memory:" || path === "///:memory:" || path === "//:memory:") path = ":memory:";
  else if (path.startsWith("///")) path = path.slice(2);
  else if (path.startsWith("//")) path = path.slice(2);
  return openSqliteDriver(url, path, options.sqlite);
}
