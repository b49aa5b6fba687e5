import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Elysia } from "elysia";
import { requestSignal } from "../../src/http/overload.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { call } from "../_support/http.ts";
import { type ServiceProcess, startService } from "../_support/service-process.ts";

const script = fileURLToPath(new URL("./_overload-server.ts", import.meta.url).href);

describe("request timeout", () => {
  let app: ServiceApp;
  const aborted: string[] = [];
  before(async () => {
    const wait = (ms: number, request: Request, name: string): Promise<{ done: boolean }> =>
      new Promise((resolve) => {
        const timer = setTimeout(() => resolve({ done: true }), ms);
        requestSignal(request).addEventListener("abort", () => {
          clearTimeout(timer);
          aborted.push(name);
        });
      });
    app = await new ServiceBuilder({
      info: { display_name: "Timeouts" },
      settings: { http: { requestTimeoutMs: 50, routeTimeouts: { "GET /patient/*": 400 } } },
    })
      .withHealth()
      .use(new Elysia()
        .get("/stuck", ({ request }) => wait(2000, request, "stuck"))
        .get("/patient/job", ({ request }) => wait(150, request, "patient"))
        .get("/jobs/x/$stream", ({ request }) => wait(150, request, "stream")))
      .build();
  });
  after(() => app.chapkit.close());

  it("answers 504 with a problem and aborts the handler's work", async () => {
    const response = await call(app, "GET", "/stuck");
    assert.equal(response.status, 504);
    assert.equal(response.headers.get("content-type"), "application/problem+json");
    const problem = await response.json();
    assert.equal(problem.type, "urn:chapkit:error:timeout");
    assert.equal(problem.instance, "/stuck");
    assert.match(problem.detail, /longer than 50 ms/);
    assert.deepEqual(aborted, ["stuck"]);
  });

  it("gives a route its own timeout", async () => {
    assert.equal((await call(app, "GET", "/patient/job")).status, 200);
  });

  it("never cuts a stream", async () => {
    assert.equal((await call(app, "GET", "/jobs/x/$stream")).status, 200);
    assert.deepEqual(aborted, ["stuck"]);
  });
});

async function burst(url: string, count: number): Promise<Response[]> {
  return Promise.all(Array.from({ length: count }, () => fetch(url)));
}

describe("a process under overload", () => {
  let service: ServiceProcess;
  before(async () => {
    service = await startService(script, {
      SLOW_MS: "150",
      CHAPKIT_LOAD_MAX_IN_FLIGHT: "2",
      CHAPKIT_LOAD_QUEUE_SIZE: "2",
      CHAPKIT_LOAD_QUEUE_TIMEOUT_MS: "1000",
      CHAPKIT_LOAD_RETRY_AFTER_SECONDS: "3",
    });
  });
  after(() => service.stop());

  it("answers only 200s and 503s with Retry-After, never a hang or a 500", async () => {
    const responses = await burst(`${service.url}/slow`, 40);
    const statuses = responses.map((response) => response.status);
    assert.ok(statuses.every((status) => status === 200 || status === 503), String(statuses));
    const ok = statuses.filter((status) => status === 200).length;
    assert.ok(ok >= 4, `the cap and the queue served ${ok}`);
    const shed = responses.filter((response) => response.status === 503);
    assert.ok(shed.length > 0, "some requests were shed");
    for (const response of shed) {
      assert.equal(response.headers.get("retry-after"), "3");
      assert.equal((await response.json()).type, "urn:chapkit:error:unavailable");
    }
    await Promise.all(responses.filter((response) => response.status === 200).map((response) => response.json()));
  });

  it("keeps answering health while overloaded", async () => {
    const load = burst(`${service.url}/slow`, 20);
    const health = await fetch(`${service.url}/api/v1/health`);
    assert.equal(health.status, 200);
    await health.json();
    for (const response of await load) await response.body?.cancel();
  });
});

describe("memory watermark", () => {
  it("sheds every request but health above the watermark", async () => {
    const app = await new ServiceBuilder({ info: { display_name: "Memory" }, settings: { load: { memoryHighWaterMb: 1, retryAfterSeconds: 7 } } })
      .withHealth()
      .use(new Elysia().get("/probe", () => ({ ok: true })))
      .build();
    try {
      const shed = await call(app, "GET", "/probe");
      assert.equal(shed.status, 503);
      assert.equal(shed.headers.get("retry-after"), "7");
      assert.match((await shed.json()).detail, /short of memory/);
      assert.equal((await call(app, "GET", "/api/v1/health")).status, 200);
    } finally {
      await app.chapkit.close();
    }
  });
});
