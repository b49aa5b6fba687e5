// The store both hand-written crud baselines use: the `configs` table on
// PostgreSQL (postgres.js) or a SQLite file / memory (bun:sqlite), with the
// statements a hand-written service would prepare, and the output mapping.
import { Database } from "bun:sqlite";
import postgres from "postgres";
import { newUlid } from "../../src/core/ulid.ts";
import { BENCH_DATA, seedName } from "../servers/bench-config.ts";

/** The statements of a baseline. */
export interface Store {
  insert(id: string, name: string, data: string, now: string): Promise<void>;
  get(id: string): Promise<Record<string, unknown> | undefined>;
  page(limit: number, offset: number): Promise<Record<string, unknown>[]>;
  count(): Promise<number>;
  seed(n: number): Promise<void>;
}

const DDL =
  `CREATE TABLE IF NOT EXISTS configs (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL);
   CREATE UNIQUE INDEX IF NOT EXISTS ux_configs_name ON configs (name)`;

/** Opens the store at `url` (`postgres://…`, `sqlite:path` or `sqlite::memory:`) and creates the table. */
export async function openStore(url: string): Promise<Store> {
  if (url.startsWith("postgres")) {
    const sql = postgres(url, { max: 10, onnotice: () => {} });
    for (const statement of DDL.split(";")) await sql.unsafe(statement);
    return {
      insert: async (id, name, data, now) => {
        await sql`INSERT INTO configs (id, created_at, updated_at, name, data) VALUES (${id}, ${now}, ${now}, ${name}, ${data})`;
      },
      get: async (id) => (await sql`SELECT id, created_at, updated_at, name, data FROM configs WHERE id = ${id}`)[0],
      page: async (limit, offset) =>
        await sql`SELECT id, created_at, updated_at, name, data FROM configs ORDER BY id LIMIT ${limit} OFFSET ${offset}`,
      count: async () => Number((await sql`SELECT COUNT(*) AS n FROM configs`)[0]!.n),
      seed: async (n) => {
        const now = new Date().toISOString();
        const rows = Array.from({ length: n }, (_, i) => ({ id: newUlid(), created_at: now, updated_at: now, name: seedName(i), data: JSON.stringify(BENCH_DATA) }));
        for (let i = 0; i < rows.length; i += 5000) await sql`INSERT INTO configs ${sql(rows.slice(i, i + 5000))}`;
      },
    };
  }
  const path = url.replace(/^sqlite:/, "") || ":memory:";
  const db = new Database(path, { create: true });
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000");
  db.exec(DDL);
  const insert = db.query("INSERT INTO configs (id, created_at, updated_at, name, data) VALUES (?, ?, ?, ?, ?)");
  const get = db.query("SELECT id, created_at, updated_at, name, data FROM configs WHERE id = ?");
  const page = db.query("SELECT id, created_at, updated_at, name, data FROM configs ORDER BY id LIMIT ? OFFSET ?");
  const count = db.query("SELECT COUNT(*) AS n FROM configs");
  return {
    insert: async (id, name, data, now) => void insert.run(id, now, now, name, data),
    get: async (id) => get.get(id) as Record<string, unknown> | undefined,
    page: async (limit, offset) => page.all(limit, offset) as Record<string, unknown>[],
    count: async () => Number((count.get() as { n: number }).n),
    seed: async (n) => {
      const now = new Date().toISOString();
      db.transaction(() => {
        for (let i = 0; i < n; i++) insert.run(newUlid(), now, now, seedName(i), JSON.stringify(BENCH_DATA));
      })();
    },
  };
}

/** A stored row as the API answers it (`data` parsed). */
export function toOut(row: Record<string, unknown>): Record<string, unknown> {
  return {
    id: row.id,
    created_at: row.created_at,
    updated_at: row.updated_at,
    name: row.name,
    data: typeof row.data === "string" ? JSON.parse(row.data) : row.data,
  };
}

/** A created row's id and timestamp, or null when its name is taken (a unique violation). */
export async function insertConfig(store: Store, name: string, data: unknown): Promise<{ id: string; now: string } | null> {
  const id = newUlid();
  const now = new Date().toISOString();
  try {
    await store.insert(id, name, JSON.stringify(data), now);
  } catch (error) {
    if (!/unique|23505/i.test(String((error as { code?: string }).code ?? error))) throw error;
    return null;
  }
  return { id, now };
}
