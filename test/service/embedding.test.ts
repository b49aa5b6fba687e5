/**
 * One prefix: a service built with `basePath: "/svc"` mounts into a host
 * Elysia app with `host.use(service)`, and its routes, `Location` headers,
 * problem `instance` values, OpenAPI `servers` entry and docs page agree on
 * the prefix, while the host's own routes and hooks are left as they were.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Elysia } from "elysia";
import { type RunningServer, serve } from "../../src/runtime/serve.ts";
import type { AuthManager } from "../../src/modules/auth/manager.ts";
import { AUTH_KEY } from "../../src/modules/auth/mod.ts";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import { notesModule } from "./_notes-module.ts";

describe("a service embedded under /svc in a host app", () => {
  let service: ServiceApp;
  let server: RunningServer;
  let base: string;
  const hostRequests: string[] = [];

  before(async () => {
    service = await new ServiceBuilder({ info: { display_name: "Embedded" }, basePath: "/svc" })
      .withHealth()
      .withLandingPage()
      .module(notesModule())
      .build();
    // The service goes in first: Elysia applies a host's onError only to routes added after it.
    const host = new Elysia()
      .use(service)
      .onRequest(({ request, set }) => {
        hostRequests.push(new URL(request.url).pathname);
        set.headers["x-host"] = "yes";
      })
      .onError(({ code }) => new Response(`host error: ${code}`, { status: code === "NOT_FOUND" ? 404 : 500 }))
      .get("/hello", () => ({ from: "host" }))
      .get("/boom", () => {
        throw new Error("host failure");
      });
    server = await serve((request) => host.fetch(request), { port: 0, hostname: "127.0.0.1" });
    base = `http://127.0.0.1:${server.port}`;
  });
  after(async () => {
    await server.stop(1000);
    await service.chapkit.close();
  });

  it("serves the host's own routes without the service's request hooks", async () => {
    const res = await fetch(`${base}/hello`);
    assert.deepEqual(await res.json(), { from: "host" });
    assert.equal(res.headers.get("x-host"), "yes");
    assert.equal(res.headers.get("x-request-id"), null);
  });

  it("leaves the host's errors and unknown paths to the host's own handler", async () => {
    const boom = await fetch(`${base}/boom`);
    assert.equal(boom.status, 500);
    assert.equal(await boom.text(), "host error: UNKNOWN");
    const missing = await fetch(`${base}/nowhere`);
    assert.equal(missing.status, 404);
    assert.equal(await missing.text(), "host error: NOT_FOUND");
  });

  it("serves the service's routes under the prefix, through the host's hooks", async () => {
    const res = await fetch(`${base}/svc/api/v1/health`);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).status, "healthy");
    assert.ok(res.headers.get("x-request-id"));
    assert.equal(res.headers.get("x-host"), "yes");
    assert.ok(hostRequests.includes("/svc/api/v1/health"));
  });

  it("answers Location with the prefixed absolute URL", async () => {
    const res = await fetch(`${base}/svc/api/v1/notes`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ title: "embedded" }),
    });
    const body = await res.json();
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("location"), `${base}/svc/api/v1/notes/${body.id}`);
    const fetched = await fetch(res.headers.get("location")!);
    assert.equal((await fetched.json()).title, "embedded");
  });

  it("answers unknown paths under the prefix with a 404 problem whose instance has the prefix", async () => {
    const res = await fetch(`${base}/svc/nothing-here`);
    assert.equal(res.status, 404);
    assert.equal(res.headers.get("content-type"), "application/problem+json");
    assert.equal((await res.json()).instance, "/svc/nothing-here");
  });

  it("answers a malformed id with a problem whose instance has the prefix", async () => {
    const res = await fetch(`${base}/svc/api/v1/notes/nope`);
    assert.equal(res.status, 400);
    const problem = await res.json();
    assert.equal(problem.type, "urn:chapkit:error:invalid-ulid");
    assert.equal(problem.instance, "/svc/api/v1/notes/nope");
  });

  it("answers an unknown id with a problem whose instance has the prefix", async () => {
    const res = await fetch(`${base}/svc/api/v1/notes/01K79YAHJ7BR4E87VVTG8FNBMA`);
    assert.equal(res.status, 404);
    assert.equal((await res.json()).instance, "/svc/api/v1/notes/01K79YAHJ7BR4E87VVTG8FNBMA");
  });

  it("answers 405 for a method the prefixed path lacks", async () => {
    const res = await fetch(`${base}/svc/api/v1/health`, { method: "DELETE" });
    assert.equal(res.status, 405);
    assert.equal((await res.json()).instance, "/svc/api/v1/health");
  });

  it("documents only its own routes, relative to an OpenAPI servers entry of the prefix", async () => {
    const document = await (await fetch(`${base}/svc/openapi.json`)).json();
    assert.deepEqual(document.servers, [{ url: "/svc" }]);
    const paths = Object.keys(document.paths);
    assert.ok(paths.includes("/api/v1/notes"));
    assert.ok(paths.includes("/api/v1/notes/{entity_id}"));
    assert.ok(paths.includes("/api/v1/health"));
    assert.equal(paths.some((path) => path.startsWith("/svc") || path === "/hello" || path === "/boom"), false);
  });

  it("serves a docs page and a landing page that load from the prefix", async () => {
    const docs = await (await fetch(`${base}/svc/docs`)).text();
    assert.ok(docs.includes("/svc/openapi.json"));
    assert.ok(docs.includes("/svc/docs/scalar.js"));
    const script = await fetch(`${base}/svc/docs/scalar.js`);
    assert.equal(script.status, 200);
    await script.body?.cancel();
    const landing = await (await fetch(`${base}/svc/`)).text();
    assert.ok(landing.includes('href="/svc/docs"'));
    assert.ok(landing.includes("/svc/api/v1/info"));
  });
});

describe("an authenticated service embedded under a prefix", () => {
  it("guards only its own paths and names the prefixed path in its problems", async () => {
    const service = await new ServiceBuilder({ info: { display_name: "Guarded" }, basePath: "/svc/" })
      .withAuth({ staticKeys: [] })
      .module(notesModule())
      .build();
    const host = new Elysia().get("/open", () => "host").use(service);
    try {
      assert.equal(await (await host.handle(new Request("http://localhost/open"))).text(), "host");
      const denied = await host.handle(new Request("http://localhost/svc/api/v1/notes"));
      assert.equal(denied.status, 401);
      assert.equal((await denied.json()).instance, "/svc/api/v1/notes");
      const { key } = await service.chapkit.context.get<AuthManager>(AUTH_KEY).keys.issue({ name: "viewer", role: "viewer" });
      const allowed = await host.handle(new Request("http://localhost/svc/api/v1/notes", { headers: { "x-api-key": key } }));
      assert.equal(allowed.status, 200);
      await allowed.body?.cancel();
    } finally {
      await service.chapkit.close();
    }
  });

  it("refuses a base path that is not plain path segments", async () => {
    assert.throws(() => new ServiceBuilder({ info: { display_name: "Bad" }, basePath: "svc?x=1" }), /Invalid basePath/);
  });
});

describe("a service served directly", () => {
  it("answers over a real socket with its own fetch", async () => {
    const service = await new ServiceBuilder({ info: { display_name: "Direct" } }).withSystem().build();
    const server = await serve((request) => service.fetch(request), { port: 0, hostname: "127.0.0.1" });
    const res = await fetch(`http://127.0.0.1:${server.port}/api/v1/system`);
    const body = await res.json();
    await server.stop(1000);
    await service.chapkit.close();
    assert.equal(res.status, 200);
    assert.equal(typeof body.hostname, "string");
  });
});
