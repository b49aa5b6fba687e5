// Hand-written baseline for the crud suite: plain Elysia on the same store,
// the same routes, bodies and validation as chapkit's config service, and
// nothing else. Store: DATABASE_URL (postgres://…) or a SQLite file / memory;
// BENCH_SEED rows are inserted at start-up, before the port opens.
import { Database } from "bun:sqlite";
import { Elysia, t } from "elysia";
import postgres from "postgres";
import { newUlid } from "../../src/core/ulid.ts";
import { BENCH_DATA, BenchConfigData, seedCount, seedName } from "../servers/bench-config.ts";

const url = process.env.DATABASE_URL ?? "sqlite::memory:";
const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

interface Store {
  insert(id: string, name: string, data: string, now: string): Promise<void>;
  get(id: string): Promise<Record<string, unknown> | undefined>;
  page(limit: number, offset: number): Promise<Record<string, unknown>[]>;
  count(): Promise<number>;
  seed(n: number): Promise<void>;
}

const DDL =
  `CREATE TABLE IF NOT EXISTS configs (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL);
   CREATE UNIQUE INDEX IF NOT EXISTS ux_configs_name ON configs (name)`;

async function openStore(): Promise<Store> {
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

const store = await openStore();
if (seedCount() > 0) await store.seed(seedCount());
const toOut = (row: Record<string, unknown>) => ({
  id: row.id,
  created_at: row.created_at,
  updated_at: row.updated_at,
  name: row.name,
  data: typeof row.data === "string" ? JSON.parse(row.data) : row.data,
});
const problem = (status: number, type: string, title: string, detail: string, instance: string) =>
  new Response(JSON.stringify({ type: `urn:chapkit:error:${type}`, title, status, detail, instance }), {
    status,
    headers: { "content-type": "application/problem+json" },
  });

new Elysia()
  .get("/api/v1/health", () => ({ status: "healthy" }))
  .post("/api/v1/config", async ({ body, request }) => {
    const id = newUlid();
    const now = new Date().toISOString();
    try {
      await store.insert(id, body.name, JSON.stringify(body.data), now);
    } catch (error) {
      if (!/unique|23505/i.test(String((error as { code?: string }).code ?? error))) throw error;
      return problem(409, "conflict", "Conflict", `Config name '${body.name}' already exists`, "/api/v1/config");
    }
    const origin = new URL(request.url).origin;
    return new Response(JSON.stringify({ id, created_at: now, updated_at: now, name: body.name, data: body.data }), {
      status: 201,
      headers: { "content-type": "application/json", location: `${origin}/api/v1/config/${id}` },
    });
  }, { body: t.Object({ id: t.Optional(t.String()), name: t.String(), data: BenchConfigData }) })
  .get("/api/v1/config/:id", async ({ params }) => {
    if (!ULID.test(params.id)) {
      return problem(400, "invalid-ulid", "Invalid ULID Format", `Invalid ULID format: ${params.id}`, `/api/v1/config/${params.id}`);
    }
    const row = await store.get(params.id);
    if (!row) {
      return problem(404, "not-found", "Resource Not Found", `Entity with id ${params.id} not found`, `/api/v1/config/${params.id}`);
    }
    return toOut(row);
  })
  .get("/api/v1/config", async ({ query }) => {
    const { page, size } = query;
    if (page === undefined || size === undefined) return (await store.page(-1, 0)).map(toOut);
    const [rows, total] = await Promise.all([store.page(size, (page - 1) * size), store.count()]);
    return { items: rows.map(toOut), total, page, size, pages: Math.ceil(total / size) };
  }, { query: t.Object({ page: t.Optional(t.Numeric({ minimum: 1 })), size: t.Optional(t.Numeric({ minimum: 1 })) }) })
  .listen({ port: Number(process.env.PORT ?? 8000), hostname: "127.0.0.1" });
