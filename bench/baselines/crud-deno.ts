// Hand-written Deno baseline for the crud-deno suite: `Deno.serve` and
// `node:sqlite` with the same routes, bodies, validation and problem answers
// as the Elysia baseline (crud-baseline.ts), and nothing else. Store: a SQLite
// file (DATABASE_URL sqlite:…); BENCH_SEED rows are inserted before the port opens.
import { Type } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { Value } from "@sinclair/typebox/value";
import { newUlid } from "../../src/core/ulid.ts";
import { BENCH_DATA, BenchConfigData, seedCount, seedName } from "../servers/bench-config.ts";

declare const Deno: {
  serve(options: { port: number; hostname: string; onListen?: () => void }, handler: (request: Request) => Response | Promise<Response>): unknown;
};

const url = process.env.DATABASE_URL ?? "sqlite::memory:";
if (url.startsWith("postgres")) throw new Error("the Deno baseline runs on SQLite only");
const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;
const Body = Type.Object({ id: Type.Optional(Type.String()), name: Type.String(), data: BenchConfigData });
const checkBody = TypeCompiler.Compile(Body);

interface Statement {
  run(...params: unknown[]): unknown;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}
// A variable keeps the module name out of tsc's reach (its @types/node predates node:sqlite).
const NODE_SQLITE = "node:sqlite";
const { DatabaseSync } = await import(NODE_SQLITE) as {
  DatabaseSync: new (path: string) => { exec(sql: string): void; prepare(sql: string): Statement };
};
const db = new DatabaseSync(url.replace(/^sqlite:/, "") || ":memory:");
db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000");
db.exec(`CREATE TABLE IF NOT EXISTS configs (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL);
  CREATE UNIQUE INDEX IF NOT EXISTS ux_configs_name ON configs (name)`);
const insert = db.prepare("INSERT INTO configs (id, created_at, updated_at, name, data) VALUES (?, ?, ?, ?, ?)");
const get = db.prepare("SELECT id, created_at, updated_at, name, data FROM configs WHERE id = ?");
const page = db.prepare("SELECT id, created_at, updated_at, name, data FROM configs ORDER BY id LIMIT ? OFFSET ?");
const count = db.prepare("SELECT COUNT(*) AS n FROM configs");

if (seedCount() > 0) {
  const now = new Date().toISOString();
  db.exec("BEGIN");
  for (let i = 0; i < seedCount(); i++) insert.run(newUlid(), now, now, seedName(i), JSON.stringify(BENCH_DATA));
  db.exec("COMMIT");
}

type Row = Record<string, unknown>;
const toOut = (row: Row) => ({ id: row.id, created_at: row.created_at, updated_at: row.updated_at, name: row.name, data: JSON.parse(row.data as string) });
const json = (value: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json", ...headers } });
const problem = (status: number, type: string, title: string, detail: string, instance: string) =>
  new Response(JSON.stringify({ type: `urn:chapkit:error:${type}`, title, status, detail, instance }), {
    status,
    headers: { "content-type": "application/problem+json" },
  });

async function handle(request: Request): Promise<Response> {
  const target = new URL(request.url);
  const path = target.pathname;
  if (path === "/api/v1/health") return json({ status: "healthy" });
  if (path === "/api/v1/config" && request.method === "POST") {
    const body = Value.Default(Body, await request.json());
    if (!checkBody.Check(body)) {
      const errors = [...checkBody.Errors(body)].map((error) => ({ loc: ["body", ...error.path.split("/").filter(Boolean)], msg: error.message }));
      return problem(422, "validation-failed", "Validation Failed", `${errors.length} validation error(s)`, path);
    }
    const id = newUlid();
    const now = new Date().toISOString();
    try {
      insert.run(id, now, now, body.name, JSON.stringify(body.data));
    } catch (error) {
      if (!/UNIQUE/.test(String(error))) throw error;
      return problem(409, "conflict", "Conflict", `Config name '${body.name}' already exists`, path);
    }
    return json({ id, created_at: now, updated_at: now, name: body.name, data: body.data }, 201, { location: `${target.origin}/api/v1/config/${id}` });
  }
  if (path === "/api/v1/config" && request.method === "GET") {
    const number = target.searchParams.get("page");
    const size = target.searchParams.get("size");
    if (number === null || size === null) return json((page.all(-1, 0) as Row[]).map(toOut));
    const [p, s] = [Number(number), Number(size)];
    if (!(p >= 1 && s >= 1)) return problem(422, "validation-failed", "Validation Failed", "page and size must be >= 1", path);
    const total = Number((count.get() as { n: number }).n);
    return json({ items: (page.all(s, (p - 1) * s) as Row[]).map(toOut), total, page: p, size: s, pages: Math.ceil(total / s) });
  }
  const match = /^\/api\/v1\/config\/([^/]+)$/.exec(path);
  if (match && request.method === "GET") {
    const id = match[1]!;
    if (!ULID.test(id)) return problem(400, "invalid-ulid", "Invalid ULID Format", `Invalid ULID format: ${id}`, path);
    const row = get.get(id) as Row | undefined;
    if (!row) return problem(404, "not-found", "Resource Not Found", `Entity with id ${id} not found`, path);
    return json(toOut(row));
  }
  return problem(404, "not-found", "Not Found", `No route for ${request.method} ${path}`, path);
}

Deno.serve({ port: Number(process.env.PORT ?? 8000), hostname: "127.0.0.1", onListen: () => {} }, handle);
