// Featured baseline for the crud suite: the bare hand-written handler of
// crud-baseline.ts plus chapkit's default per-request features written the
// obvious way, as a user would add them by hand: an `X-Request-ID` (a valid
// incoming one kept, else a fresh ULID), the two security headers, one log
// line per request in the same console format (gathered and written to stderr
// once per 20 ms or 32 KiB), a ULID check of the path id, problem+json errors,
// a strong ETag (an item's from its id and `updated_at`, a page's from a
// digest of its body) with `If-None-Match` → 304, `Last-Modified`, and the
// `Link` headers (item: self and collection; page: self, first, prev, next).
// Against it, `bun bench crud` tells what chapkit's own machinery costs apart
// from what the features cost anyway. Same store and routes as crud-baseline.ts.
import { Elysia, t } from "elysia";
import { newUlid } from "../../src/core/ulid.ts";
import { BenchConfigData, seedCount } from "../servers/bench-config.ts";
import { insertConfig, openStore, toOut } from "./baseline-store.ts";

const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;
const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

const store = await openStore(process.env.DATABASE_URL ?? "sqlite::memory:");
if (seedCount() > 0) await store.seed(seedCount());

let pending = "";
let scheduled = false;
const flush = () => {
  scheduled = false;
  if (pending) process.stderr.write(pending);
  pending = "";
};
function log(requestId: string, method: string, path: string, status: number, started: number): void {
  pending += `${new Date().toISOString()} [info ] http.request.complete request_id=${requestId} method=${method} path=${path} status_code=${status} duration_ms=${Math.round((performance.now() - started) * 100) / 100}\n`;
  if (pending.length >= 32 * 1024) return flush();
  if (!scheduled) {
    scheduled = true;
    setTimeout(flush, 20);
  }
}

function baseHeaders(requestId: string, type: string): Record<string, string> {
  return { "content-type": type, "x-request-id": requestId, "x-content-type-options": "nosniff", "referrer-policy": "no-referrer" };
}

function problem(requestId: string, status: number, type: string, title: string, detail: string, instance: string): Response {
  return new Response(JSON.stringify({ type: `urn:chapkit:error:${type}`, title, status, detail, instance }), {
    status,
    headers: baseHeaders(requestId, "application/problem+json"),
  });
}

function json(requestId: string, body: string, status: number, extra: Record<string, string>): Response {
  return new Response(body, { status, headers: { ...baseHeaders(requestId, "application/json"), ...extra } });
}

const originOf = (url: string) => url.slice(0, url.indexOf("/", url.indexOf("//") + 2));
const pathOf = (url: string) => {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  const end = url.indexOf("?", start);
  return end < 0 ? url.slice(start) : url.slice(start, end);
};

/** Runs a handler with the request id, and logs its answer. */
async function featured(request: Request, handle: (requestId: string) => Promise<Response>): Promise<Response> {
  const started = performance.now();
  const incoming = request.headers.get("x-request-id");
  const requestId = incoming !== null && REQUEST_ID.test(incoming) ? incoming : newUlid();
  let response: Response;
  try {
    response = await handle(requestId);
  } catch (error) {
    response = problem(requestId, 500, "internal", "Internal Server Error", String(error), pathOf(request.url));
  }
  log(requestId, request.method, pathOf(request.url), response.status, started);
  return response;
}

new Elysia()
  .get("/api/v1/health", ({ request }) => featured(request, async (id) => json(id, JSON.stringify({ status: "healthy" }), 200, {})))
  .post("/api/v1/config", ({ body, request }) =>
    featured(request, async (requestId) => {
      const created = await insertConfig(store, body.name, body.data);
      if (!created) return problem(requestId, 409, "conflict", "Conflict", `Config name '${body.name}' already exists`, "/api/v1/config");
      const { id, now } = created;
      const body201 = JSON.stringify({ id, created_at: now, updated_at: now, name: body.name, data: body.data });
      return json(requestId, body201, 201, {
        location: `${originOf(request.url)}/api/v1/config/${id}`,
        etag: `"${id}.${Date.parse(now).toString(36)}"`,
      });
    }), { body: t.Object({ id: t.Optional(t.String()), name: t.String(), data: BenchConfigData }) })
  .get("/api/v1/config/:id", ({ params, request }) =>
    featured(request, async (requestId) => {
      const instance = `/api/v1/config/${params.id}`;
      if (!ULID.test(params.id)) return problem(requestId, 400, "invalid-ulid", "Invalid ULID Format", `Invalid ULID format: ${params.id}`, instance);
      const row = await store.get(params.id);
      if (!row) return problem(requestId, 404, "not-found", "Resource Not Found", `Entity with id ${params.id} not found`, instance);
      const updated = Date.parse(String(row.updated_at));
      const etag = `"${params.id}.${updated.toString(36)}"`;
      if (request.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers: { etag, "x-request-id": requestId } });
      const origin = originOf(request.url);
      return json(requestId, JSON.stringify(toOut(row)), 200, {
        etag,
        "last-modified": new Date(updated).toUTCString(),
        link: `<${origin}${instance}>; rel="self", <${origin}/api/v1/config>; rel="collection"`,
      });
    }))
  .get("/api/v1/config", ({ query, request }) =>
    featured(request, async (requestId) => {
      const { page, size } = query;
      if (page === undefined || size === undefined) return json(requestId, JSON.stringify((await store.page(-1, 0)).map(toOut)), 200, {});
      const [rows, total] = await Promise.all([store.page(size, (page - 1) * size), store.count()]);
      const pages = Math.ceil(total / size);
      const text = JSON.stringify({ items: rows.map(toOut), total, page, size, pages });
      const etag = `"${Bun.hash(text).toString(36)}"`;
      if (request.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers: { etag, "x-request-id": requestId } });
      const base = `${originOf(request.url)}/api/v1/config`;
      const at = (n: number) => `<${base}?page=${n}&size=${size}>`;
      const links = [`${at(page)}; rel="self"`, `${at(1)}; rel="first"`];
      if (page > 1) links.push(`${at(page - 1)}; rel="prev"`);
      if (page < pages) links.push(`${at(page + 1)}; rel="next"`);
      links.push(`<${base}/$schema>; rel="describedby"`);
      return json(requestId, text, 200, { etag, link: links.join(", ") });
    }), { query: t.Object({ page: t.Optional(t.Numeric({ minimum: 1 })), size: t.Optional(t.Numeric({ minimum: 1 })) }) })
  .listen({ port: Number(process.env.PORT ?? 8000), hostname: "127.0.0.1" });
