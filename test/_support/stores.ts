import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import type { Driver } from "../../src/db/driver.ts";
import { openDatabase } from "../../src/db/open.ts";

/** The PostgreSQL server tests use. */
export const DATABASE_URL: string =
  (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.DATABASE_URL ??
    "postgres://postgres@127.0.0.1:5432/test";

/** Which runtime runs the tests. */
export const RUNTIME: "bun" | "deno" = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? "bun" : "deno";

/** A store a test suite runs against. */
export interface TestStore {
  /** e.g. `bun:sqlite memory`, `node:sqlite file`, `postgres`. */
  name: string;
  /** `sqlite` or `postgres`. */
  kind: "sqlite" | "postgres";
  /** Opens a fresh, empty store (its own file or PostgreSQL schema). */
  open(): Promise<Driver>;
  /** The URL and options that open the same store (for builders and subprocesses). */
  url(): string;
  /** Removes every file and schema it made. */
  cleanup(): Promise<void>;
}

let counter = 0;
function unique(prefix: string): string {
  counter += 1;
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}_${counter}`;
}

/** A fresh SQLite file store in a temporary directory. */
export function sqliteFileStore(): TestStore {
  const dir = mkdtempSync(join(tmpdir(), "chapkit-test-"));
  const engine = RUNTIME === "bun" ? "bun:sqlite" : "node:sqlite";
  let n = 0;
  let current = "";
  return {
    name: `${engine} file`,
    kind: "sqlite",
    url: () => current ? `sqlite:${current}` : `sqlite:${join(dir, "db.sqlite")}`,
    open: () => {
      current = join(dir, `db-${++n}.sqlite`);
      return openDatabase(`sqlite:${current}`);
    },
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A fresh PostgreSQL schema per `open()`, dropped by `cleanup()`. */
export function postgresStore(): TestStore {
  const schemas: string[] = [];
  let current = "";
  return {
    name: "postgres",
    kind: "postgres",
    url: () => {
      const url = new URL(DATABASE_URL);
      url.searchParams.set("search_path", current || "public");
      return url.toString();
    },
    open: () => {
      current = unique("chapkit_test");
      schemas.push(current);
      return openDatabase(DATABASE_URL, { postgres: { schema: current, max: 4 } });
    },
    cleanup: async () => {
      const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
      try {
        for (const schema of schemas) await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await sql.end({ timeout: 1 });
      }
    },
  };
}

/** An in-memory SQLite store. */
export function memoryStore(): TestStore {
  const engine = RUNTIME === "bun" ? "bun:sqlite" : "node:sqlite";
  return {
    name: `${engine} memory`,
    kind: "sqlite",
    url: () => "sqlite::memory:",
    open: () => openDatabase("sqlite::memory:"),
    cleanup: async () => {},
  };
}

/**
 * The stores every contract suite runs against on this runtime: in-memory
 * SQLite, a SQLite file, and PostgreSQL (a schema of its own per open).
 */
export function testStores(): TestStore[] {
  return [memoryStore(), sqliteFileStore(), postgresStore()];
}

/** Drops a PostgreSQL schema of the test server (and everything in it), if it exists. */
export async function dropSchema(schema: string): Promise<void> {
  const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await sql.end({ timeout: 1 });
  }
}
