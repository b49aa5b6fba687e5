import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, describe, test } from "node:test";
import { createLogger } from "../../src/core/logging.ts";
import { deregisterUrl, startRegistration } from "../../src/service/registration.ts";

interface Seen {
  method: string;
  path: string;
}

/** A real HTTP server answering each request with the next status of `statuses` (200 after them). */
function server(statuses: number[], seen: Seen[]): Promise<{ server: Server; port: number }> {
  const http = createServer((request, response) => {
    seen.push({ method: request.method ?? "", path: request.url ?? "" });
    request.resume();
    const status = statuses.shift() ?? 200;
    response.writeHead(status, { "content-type": "application/json" });
    response.end(JSON.stringify({ status: "ok", ping_url: null }));
  });
  return new Promise((resolve) => http.listen(0, "127.0.0.1", () => resolve({ server: http, port: (http.address() as { port: number }).port })));
}

const settings = {
  keepaliveMs: 60_000,
  reRegisterGraceMs: 0,
  attempts: 3,
  retryDelayMs: 10,
  readinessTimeoutMs: 2000,
};
const logger = createLogger({ level: "error" });
const info = { id: "retry-model" };

describe("self-registration attempts", () => {
  const seen: Seen[] = [];
  let health: { server: Server; port: number };
  before(async () => {
    health = await server([], []);
  });
  after(() => {
    health.server.close();
  });

  test("retries a refused registration and succeeds on a later attempt", async () => {
    const orchestrator = await server([503, 500], seen);
    const registration = startRegistration({
      settings: { ...settings, orchestratorUrl: `http://127.0.0.1:${orchestrator.port}/v2/services/$register` },
      info,
      listenPort: health.port,
      healthPath: "/",
      logger,
    });
    assert.equal(await registration.registered, true);
    assert.equal(seen.filter((s) => s.method === "POST").length, 3);
    await registration.stop();
    orchestrator.server.close();
  });

  test("gives up after the configured attempts without failing the service", async () => {
    const posts: Seen[] = [];
    const orchestrator = await server([503, 503, 503, 503], posts);
    const registration = startRegistration({
      settings: { ...settings, orchestratorUrl: `http://127.0.0.1:${orchestrator.port}/v2/services/$register` },
      info,
      listenPort: health.port,
      healthPath: "/",
      logger,
    });
    assert.equal(await registration.registered, false);
    assert.equal(posts.length, 3);
    await registration.stop();
    assert.equal(posts.length, 3, "no deregistration without a registration");
    orchestrator.server.close();
  });

  test("skips registering when the service's own health never answers 200", async () => {
    const posts: Seen[] = [];
    const orchestrator = await server([], posts);
    const unhealthy = await server(Array(100).fill(503), []);
    const registration = startRegistration({
      settings: { ...settings, readinessTimeoutMs: 300, orchestratorUrl: `http://127.0.0.1:${orchestrator.port}/v2/services/$register` },
      info,
      listenPort: unhealthy.port,
      healthPath: "/",
      logger,
    });
    assert.equal(await registration.registered, false);
    assert.equal(posts.length, 0);
    await registration.stop();
    orchestrator.server.close();
    unhealthy.server.close();
  });

  test("does nothing without an orchestrator URL", async () => {
    const registration = startRegistration({ settings, info, listenPort: health.port, logger });
    assert.equal(await registration.registered, false);
  });

  test("deregisters at the register URL without its $register segment", () => {
    assert.equal(deregisterUrl("http://chap:8000/v2/services/$register", "my-model"), "http://chap:8000/v2/services/my-model");
  });
});
