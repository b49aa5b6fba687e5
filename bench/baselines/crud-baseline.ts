// Hand-written baseline for the crud suite: plain Elysia on the same store,
// the same routes, bodies and validation as chapkit's config service, and
// nothing else. Store: DATABASE_URL (postgres://…) or a SQLite file / memory;
// BENCH_SEED rows are inserted at start-up, before the port opens.
import { Elysia, t } from "elysia";
import { BenchConfigData, seedCount } from "../servers/bench-config.ts";
import { insertConfig, openStore, toOut } from "./baseline-store.ts";

const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

const store = await openStore(process.env.DATABASE_URL ?? "sqlite::memory:");
if (seedCount() > 0) await store.seed(seedCount());
const problem = (status: number, type: string, title: string, detail: string, instance: string) =>
  new Response(JSON.stringify({ type: `urn:chapkit:error:${type}`, title, status, detail, instance }), {
    status,
    headers: { "content-type": "application/problem+json" },
  });

new Elysia()
  .get("/api/v1/health", () => ({ status: "healthy" }))
  .post("/api/v1/config", async ({ body, request }) => {
    const created = await insertConfig(store, body.name, body.data);
    if (!created) return problem(409, "conflict", "Conflict", `Config name '${body.name}' already exists`, "/api/v1/config");
    const { id, now } = created;
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
