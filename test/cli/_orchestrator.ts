/**
 * A stand-in for chap-core's service registry, run as its own process by the
 * registration tests: it answers `$register` (after calling the service back
 * as chap-core does: `$schema`, the config list, the probe config create and
 * delete), `$ping` (404 for the first ping, so the service must register
 * again) and the deregistering `DELETE`, and prints one JSON line per event.
 *
 *   bun test/cli/_orchestrator.ts   # prints {"event":"listening","port":N}
 *
 * Environment: `REGISTRATION_KEY` (required `X-Service-Key` when set).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import process from "node:process";

const key = process.env.REGISTRATION_KEY;
let port = 0;
let pings = 0;

function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of request) chunks.push(chunk as Uint8Array);
  return Buffer.concat(chunks).toString("utf8");
}

function reply(response: ServerResponse, status: number, body?: unknown): void {
  response.writeHead(status, body === undefined ? {} : { "content-type": "application/json" });
  response.end(body === undefined ? undefined : JSON.stringify(body));
}

async function callBack(url: string): Promise<Record<string, number>> {
  const schema = await fetch(`${url}/api/v1/configs/$schema`, { signal: AbortSignal.timeout(5000) });
  const list = await fetch(`${url}/api/v1/configs`, { signal: AbortSignal.timeout(5000) });
  const probe = await fetch(`${url}/api/v1/configs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: `__chap_probe_defaults_${Date.now()}__`, data: {} }),
    signal: AbortSignal.timeout(5000),
  });
  const probeBody = await probe.json() as { id: string };
  const removed = await fetch(`${url}/api/v1/configs/${probeBody.id}`, { method: "DELETE", signal: AbortSignal.timeout(5000) });
  await Promise.all([schema.body?.cancel(), list.body?.cancel(), removed.body?.cancel()]);
  return { schema: schema.status, list: list.status, probe: probe.status, probeDelete: removed.status };
}

const server = createServer(async (request, response) => {
  const path = decodeURIComponent(new URL(request.url ?? "/", "http://orchestrator").pathname);
  const given = request.headers["x-service-key"];
  if (key && given !== key) return reply(response, 401, { detail: "Missing or invalid service key" });
  const body = await readBody(request);
  if (request.method === "POST" && path === "/v2/services/$register") {
    const payload = JSON.parse(body) as { id: string; url: string; info: { id: string } };
    const callbacks = await callBack(payload.url).catch((error) => ({ error: String(error) }));
    emit({ event: "register", key: given ?? null, payload, callbacks });
    const id = payload.info.id;
    return reply(response, 200, {
      id,
      status: "registered",
      service_url: payload.url,
      message: "Service registered successfully",
      ttl_seconds: 30,
      ping_url: `http://127.0.0.1:${port}/v2/services/${id}/$ping`,
    });
  }
  const ping = /^\/v2\/services\/([^/]+)\/\$ping$/.exec(path);
  if (request.method === "PUT" && ping) {
    pings += 1;
    emit({ event: "ping", id: ping[1], n: pings, key: given ?? null });
    if (pings === 1) return reply(response, 404, { detail: "Service not found" });
    const now = new Date().toISOString();
    return reply(response, 200, { id: ping[1], status: "alive", last_ping_at: now, expires_at: now });
  }
  const removal = /^\/v2\/services\/([^/]+)$/.exec(path);
  if (request.method === "DELETE" && removal) {
    emit({ event: "deregister", id: removal[1], key: given ?? null });
    response.writeHead(204);
    return response.end();
  }
  reply(response, 404, { detail: "Not Found" });
});

server.listen(0, "127.0.0.1", () => {
  port = (server.address() as { port: number }).port;
  emit({ event: "listening", port });
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
