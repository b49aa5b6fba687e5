// The peer a user would pick instead of chapkit: Fastify 5 + better-sqlite3 on
// Node, with the same routes, bodies, validation and problem answers as the
// hand-written Elysia baseline (bench/baselines/crud-baseline.ts). Plain
// JavaScript so Node runs it as is. Store: a SQLite file (DATABASE_URL
// sqlite:…); BENCH_SEED rows are inserted before the port opens.
import { randomFillSync } from "node:crypto";
import Database from "better-sqlite3";
import Fastify from "fastify";

const url = process.env.DATABASE_URL ?? "sqlite::memory:";
if (url.startsWith("postgres")) throw new Error("the Fastify peer runs on SQLite only");
const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const BENCH_DATA = { min_samples: 7, model: "gbm", features: ["rainfall", "mean_temperature"] };

function newUlid() {
  let time = Date.now();
  let out = "";
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD[time % 32] + out;
    time = Math.floor(time / 32);
  }
  const random = randomFillSync(new Uint8Array(16));
  for (let i = 0; i < 16; i++) out += CROCKFORD[random[i] % 32];
  return out;
}

const db = new Database(url.replace(/^sqlite:/, "") || ":memory:");
db.pragma("journal_mode = WAL");
db.pragma("synchronous = NORMAL");
db.pragma("foreign_keys = ON");
db.pragma("busy_timeout = 5000");
db.exec(`CREATE TABLE IF NOT EXISTS configs (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL);
  CREATE UNIQUE INDEX IF NOT EXISTS ux_configs_name ON configs (name)`);
const insert = db.prepare("INSERT INTO configs (id, created_at, updated_at, name, data) VALUES (?, ?, ?, ?, ?)");
const get = db.prepare("SELECT id, created_at, updated_at, name, data FROM configs WHERE id = ?");
const page = db.prepare("SELECT id, created_at, updated_at, name, data FROM configs ORDER BY id LIMIT ? OFFSET ?");
const count = db.prepare("SELECT COUNT(*) AS n FROM configs");

const seed = Number(process.env.BENCH_SEED ?? 0);
if (seed > 0) {
  const now = new Date().toISOString();
  db.transaction(() => {
    for (let i = 0; i < seed; i++) insert.run(newUlid(), now, now, `seed-${String(i).padStart(6, "0")}`, JSON.stringify(BENCH_DATA));
  })();
}

const toOut = (row) => ({ id: row.id, created_at: row.created_at, updated_at: row.updated_at, name: row.name, data: JSON.parse(row.data) });
const problem = (reply, status, type, title, detail, instance) =>
  reply.code(status).type("application/problem+json").send({ type: `urn:chapkit:error:${type}`, title, status, detail, instance });

const app = Fastify({ logger: false });
app.get("/api/v1/health", async () => ({ status: "healthy" }));
app.post("/api/v1/config", {
  schema: {
    body: {
      type: "object",
      required: ["name", "data"],
      properties: {
        id: { type: "string" },
        name: { type: "string" },
        data: {
          type: "object",
          additionalProperties: true,
          properties: {
            min_samples: { type: "integer", default: 5 },
            model: { type: "string", default: "linear" },
            features: { type: "array", items: { type: "string" }, default: [] },
          },
        },
      },
    },
  },
}, async (request, reply) => {
  const { name, data } = request.body;
  const id = newUlid();
  const now = new Date().toISOString();
  try {
    insert.run(id, now, now, name, JSON.stringify(data));
  } catch (error) {
    if (!/UNIQUE/.test(String(error?.code ?? error))) throw error;
    return problem(reply, 409, "conflict", "Conflict", `Config name '${name}' already exists`, "/api/v1/config");
  }
  const origin = `${request.protocol}://${request.host}`;
  return reply.code(201).header("location", `${origin}/api/v1/config/${id}`).send({ id, created_at: now, updated_at: now, name, data });
});
app.get("/api/v1/config/:id", async (request, reply) => {
  const { id } = request.params;
  if (!ULID.test(id)) return problem(reply, 400, "invalid-ulid", "Invalid ULID Format", `Invalid ULID format: ${id}`, `/api/v1/config/${id}`);
  const row = get.get(id);
  if (!row) return problem(reply, 404, "not-found", "Resource Not Found", `Entity with id ${id} not found`, `/api/v1/config/${id}`);
  return toOut(row);
});
app.get("/api/v1/config", {
  schema: { querystring: { type: "object", properties: { page: { type: "integer", minimum: 1 }, size: { type: "integer", minimum: 1 } } } },
}, async (request) => {
  const { page: number, size } = request.query;
  if (number === undefined || size === undefined) return page.all(-1, 0).map(toOut);
  const total = count.get().n;
  return { items: page.all(size, (number - 1) * size).map(toOut), total, page: number, size, pages: Math.ceil(total / size) };
});
await app.listen({ port: Number(process.env.PORT ?? 8000), host: "127.0.0.1" });
