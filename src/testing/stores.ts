/** Temporary stores for one test: a SQLite file in its own directory, or a PostgreSQL schema of its own. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newUlid } from "../core/ulid.ts";
import { openDatabase } from "../db/open.ts";
import { processEnvironment } from "../runtime/env.ts";

/** A store that exists until `cleanup()`: pass `url` as the service's `databaseUrl`. */
export interface TemporaryStore {
  /** The `databaseUrl` of the store. */
  readonly url: string;
  /** Deletes the file (SQLite) or drops the schema (PostgreSQL) and everything in it. */
  cleanup(): Promise<void>;
  /** `await using store = await temporarySqlite()` cleans up at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** A SQLite file in a fresh temporary directory, removed by `cleanup()`. */
export function temporarySqlite(): Promise<TemporaryStore> {
  const dir = mkdtempSync(join(tmpdir(), "chapkit-test-"));
  const cleanup = (): Promise<void> => Promise.resolve(rmSync(dir, { recursive: true, force: true }));
  return Promise.resolve({ url: `sqlite:${join(dir, "test.db")}`, cleanup, [Symbol.asyncDispose]: cleanup });
}

/**
 * A new schema on the PostgreSQL server at `baseUrl` (default `DATABASE_URL`);
 * the returned URL selects it with `search_path`, so tests running at once on
 * one database never see each other's tables. `cleanup()` drops it.
 *
 * @throws {Error} when no URL is given and `DATABASE_URL` is unset.
 */
export async function temporaryPostgres(baseUrl?: string): Promise<TemporaryStore> {
  const base = baseUrl ?? processEnvironment().DATABASE_URL;
  if (!base || !/^postgres(ql)?:/.test(base)) throw new Error("temporaryPostgres needs a postgres:// URL (argument or DATABASE_URL)");
  const schema = `test_${newUlid().toLowerCase()}`;
  const admin = await openDatabase(base);
  try {
    await admin.exec(`CREATE SCHEMA "${schema}"`);
  } finally {
    await admin.close();
  }
  const url = new URL(base);
  url.searchParams.set("search_path", schema);
  const cleanup = async (): Promise<void> => {
    const db = await openDatabase(base);
    try {
      await db.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await db.close();
    }
  };
  return { url: url.toString(), cleanup, [Symbol.asyncDispose]: cleanup };
}
