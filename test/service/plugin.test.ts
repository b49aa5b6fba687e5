/**
 * Plugins: one object adds entity tables, job handlers, schedules, a typed
 * configuration, routes and lifecycle to a service. Checked with the
 * third-party-style link-checker plugin of examples/plugins/ against real
 * HTTP servers, on SQLite and PostgreSQL.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { Type } from "@sinclair/typebox";
import { ConfigurationError } from "../../src/core/errors.ts";
import type { Driver } from "../../src/db/driver.ts";
import type { JobRunner } from "../../src/modules/jobs/types.ts";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { definePlugin } from "../../src/service/plugin.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import { CHECK_JOB, linkChecker } from "../../examples/plugins/link-checker/mod.ts";
import { call, json } from "../_support/http.ts";
import { postgresStore, sqliteFileStore } from "../_support/stores.ts";

async function site(): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    response.writeHead(request.url === "/gone" ? 410 : 200).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

for (const store of [sqliteFileStore(), postgresStore()]) {
  describe(`a third-party plugin on ${store.name}`, () => {
    let db: Driver;
    let app: ServiceApp;
    let target: { url: string; server: Server };

    before(async () => {
      db = await store.open();
      target = await site();
      app = await new ServiceBuilder({ info: { display_name: "Links" } }).withSettings({ env: {} })
        .withDatabase(db).withJobs().withPlugin(linkChecker({ cron: "0 3 * * *", timeoutMs: 2_000 })).build();
    });
    after(async () => {
      await app.chapkit.close();
      await db.close();
      await store.cleanup();
      await new Promise<void>((resolve) => target.server.close(() => resolve()));
    });

    it("serves its entity table as a CRUD collection and validates it", async () => {
      const created = await json(await call(app, "POST", "/api/v1/links", { url: `${target.url}/ok` }), 201);
      assert.equal(created.url, `${target.url}/ok`);
      const bad = await json(await call(app, "POST", "/api/v1/links", { url: "ftp://example.org" }), 422);
      assert.equal(bad.type, "urn:chapkit:error:validation-failed");
      assert.equal((await json<unknown[]>(await call(app, "GET", "/api/v1/links"), 200)).length, 1);
    });

    it("runs its job handler through the queue, which records each link's status", async () => {
      await call(app, "POST", "/api/v1/links", { url: `${target.url}/gone` });
      await call(app, "POST", "/api/v1/links", { url: `http://127.0.0.1:${await closedPort()}/down` });
      const before = await json(await call(app, "GET", "/api/v1/links/$report"), 200);
      assert.deepEqual(before, { total: 3, up: 0, down: 0, unchecked: 3 });

      const runner = app.chapkit.context.get<JobRunner>("jobs");
      const { record } = await runner.enqueue(CHECK_JOB, {});
      const job = await runner.wait(record.id, 20_000);
      assert.equal(job.status, "completed", JSON.stringify(job));
      assert.equal(job.progress, 1);

      const links = await json<{ url: string; status: number | null; error: string | null }[]>(await call(app, "GET", "/api/v1/links"), 200);
      const byPath = new Map(links.map((link) => [new URL(link.url).pathname, link]));
      assert.equal(byPath.get("/ok")!.status, 200);
      assert.equal(byPath.get("/gone")!.status, 410);
      assert.equal(byPath.get("/down")!.status, null);
      assert.ok(byPath.get("/down")!.error);
      assert.deepEqual(await json(await call(app, "GET", "/api/v1/links/$report"), 200), { total: 3, up: 1, down: 2, unchecked: 0 });
    });

    it("stores its cron schedule, listed with the service's schedules", async () => {
      const schedules = await json<{ name: string; cron: string; job: string }[]>(await call(app, "GET", "/api/v1/schedules"), 200);
      const mine = schedules.find((schedule) => schedule.name === "link-checker.hourly");
      assert.deepEqual(mine && { cron: mine.cron, job: mine.job }, { cron: "0 3 * * *", job: CHECK_JOB });
    });

    it("lists its routes in the OpenAPI document", async () => {
      const document = await json<{ paths: Record<string, unknown> }>(await call(app, "GET", "/openapi.json"), 200);
      assert.ok(document.paths["/api/v1/links/$report"]);
      assert.ok(document.paths["/api/v1/links"]);
    });
  });
}

describe("plugin declarations", () => {
  it("refuses a wrong configuration at build() with a message naming the plugin and the setting", async () => {
    await assert.rejects(
      new ServiceBuilder({ info: { display_name: "Links" } }).withSettings({ env: {} }).withDatabase("sqlite::memory:")
        .withJobs().withPlugin(linkChecker({ timeoutMs: 5 })).build(),
      (error: unknown) => error instanceof ConfigurationError && /Plugin "link-checker".*plugins\.link-checker\.timeoutMs/.test(error.message),
    );
  });

  it("refuses a plugin name that is not lower-case words", () => {
    assert.throws(() => definePlugin({ name: "Bad Name" }), ConfigurationError);
  });

  it("needs the jobs module when it brings job handlers, and says so", async () => {
    const plugin = definePlugin({ name: "needs-jobs", jobs: { "needs-jobs.run": { payload: Type.Object({}), run: () => 1 } } });
    await assert.rejects(
      new ServiceBuilder({ info: { display_name: "x" } }).withSettings({ env: {} }).withDatabase("sqlite::memory:").withPlugin(plugin).build(),
      /jobs/,
    );
  });

  it("receives committed events its selector picks, from start until stop", async () => {
    const Memo = (await import("../../src/core/entity-definition.ts")).defineEntity({ table: "memos", fields: { text: Type.String() } });
    const seen: string[] = [];
    const plugin = definePlugin({
      name: "memo-watch",
      entities: [Memo],
      events: [{
        selector: { types: ["entity.created", "entity.deleted"], collections: ["memos"] },
        handle: (event) => void seen.push(`${event.type} ${(event.data.entity as { text: string }).text}`),
      }, {
        handle: () => {
          throw new Error("a failing handler is logged and does not stop the others");
        },
      }],
    });
    const app = await new ServiceBuilder({ info: { display_name: "x" } }).withSettings({ env: {} })
      .withDatabase("sqlite::memory:").withPlugin(plugin).build();
    const memo = await json(await call(app, "POST", "/api/v1/memos", { text: "a" }), 201);
    await call(app, "PUT", `/api/v1/memos/${memo.id}`, { text: "b" });
    await call(app, "DELETE", `/api/v1/memos/${memo.id}`);
    await call(app, "POST", "/api/v1/memos", { text: 5 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(seen, ["entity.created a", "entity.deleted b"]);
    await app.chapkit.close();
  });

  it("runs its lifecycle hooks in order", async () => {
    const seen: string[] = [];
    const plugin = definePlugin({
      name: "lifecycle",
      setup: () => void seen.push("setup"),
      start: () => void seen.push("start"),
      stop: () => void seen.push("stop"),
    });
    const app = await new ServiceBuilder({ info: { display_name: "x" } }).withSettings({ env: {} })
      .withDatabase("sqlite::memory:").withPlugin(plugin).build();
    await app.chapkit.close();
    assert.deepEqual(seen, ["setup", "start", "stop"]);
  });
});
