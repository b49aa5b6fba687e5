import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Elysia } from "elysia";
import { type RunningServer, serve } from "../../src/runtime/serve.ts";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import { notesModule } from "./_notes-module.ts";

describe("a service embedded in an existing app", () => {
  let service: ServiceApp;
  let server: RunningServer;
  let base: string;

  before(async () => {
    service = await new ServiceBuilder({ info: { display_name: "Embedded" }, basePath: "/chapkit" })
      .withHealth()
      .module(notesModule())
      .build();
    const host = new Elysia()
      .get("/hello", () => ({ from: "host" }))
      .group("/chapkit", (app) => app.use(service));
    server = await serve((request) => host.fetch(request), { port: 0, hostname: "127.0.0.1" });
    base = `http://127.0.0.1:${server.port}`;
  });
  after(async () => {
    await server.stop(1000);
    await service.chapkit.close();
  });

  it("serves the host's own routes over a real socket", async () => {
    const res = await fetch(`${base}/hello`);
    assert.deepEqual(await res.json(), { from: "host" });
  });

  it("serves the service's routes under the prefix", async () => {
    const res = await fetch(`${base}/chapkit/api/v1/health`);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).status, "healthy");
    assert.ok(res.headers.get("x-request-id"));
  });

  it("answers Location with the prefixed absolute URL", async () => {
    const res = await fetch(`${base}/chapkit/api/v1/notes`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ title: "embedded" }),
    });
    const body = await res.json();
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("location"), `${base}/chapkit/api/v1/notes/${body.id}`);
  });

  it("answers unknown paths under the prefix with a 404 problem", async () => {
    const res = await fetch(`${base}/chapkit/nothing-here`);
    assert.equal(res.status, 404);
    assert.equal(res.headers.get("content-type"), "application/problem+json");
    await res.body?.cancel();
  });

  it("answers a problem for a malformed id under the prefix", async () => {
    const res = await fetch(`${base}/chapkit/api/v1/notes/nope`);
    assert.equal(res.status, 400);
    assert.equal((await res.json()).type, "urn:chapkit:error:invalid-ulid");
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
