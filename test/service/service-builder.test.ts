import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Elysia } from "elysia";
import { openDatabase } from "../../src/db/open.ts";
import type { ServiceModule } from "../../src/http/module.ts";
import { BaseServiceBuilder } from "../../src/service/base-service-builder.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import { call } from "../http/_notes.ts";
import { notesModule } from "./_notes-module.ts";

const info = { display_name: "Builder Test", version: "2.0.0" };

describe("service builder", () => {
  it("builds a service whose health includes the database check", async () => {
    const app = await new ServiceBuilder({ info }).withHealth().build();
    const res = await call(app, "GET", "/api/v1/health");
    await app.chapkit.close();
    assert.deepEqual(res.body, { status: "healthy", checks: { database: { state: "healthy" } } });
  });

  it("leaves the database check out when asked", async () => {
    const app = await new ServiceBuilder({ info }).withHealth({ includeDatabaseCheck: false }).build();
    const res = await call(app, "GET", "/api/v1/health");
    await app.chapkit.close();
    assert.deepEqual(res.body, { status: "healthy" });
  });

  it("puts custom checks before the database check", async () => {
    const app = await new ServiceBuilder({ info })
      .withHealth({ checks: [{ name: "cache", check: () => ({ state: "healthy" }) }] })
      .build();
    const res = await call(app, "GET", "/api/v1/health");
    await app.chapkit.close();
    assert.deepEqual(Object.keys(res.body.checks), ["cache", "database"]);
  });

  it("refuses a health check name with a space at build time", async () => {
    const builder = new ServiceBuilder({ info }).withHealth({ checks: [{ name: "my check", check: () => ({ state: "healthy" }) }] });
    await assert.rejects(builder.build(), /Invalid health check name "my check"/);
  });

  it("names the missing module when a requirement is not installed", async () => {
    const builder = new ServiceBuilder({ info }).module(notesModule({ name: "tasks", requires: ["artifacts"] }));
    await assert.rejects(builder.build(), /withTasks\(\) requires withArtifacts\(\)/);
  });

  it("runs a module's migrations and serves its routes", async () => {
    const app = await new ServiceBuilder({ info }).module(notesModule()).build();
    const created = await call(app, "POST", "/api/v1/notes", { title: "hello" });
    const listed = await call(app, "GET", "/api/v1/notes");
    await app.chapkit.close();
    assert.equal(created.status, 201);
    assert.deepEqual(listed.body.map((note: { title: string }) => note.title), ["hello"]);
  });

  it("sets modules up after what they require", async () => {
    const events: string[] = [];
    const app = await new ServiceBuilder({ info })
      .module(notesModule({ name: "second", requires: ["first"], events }))
      .module({ name: "first", setup: () => void events.push("setup:first") })
      .build();
    await app.chapkit.close();
    assert.deepEqual(events.slice(0, 2), ["setup:first", "setup:second"]);
  });

  it("runs start-up hooks after set-up and shutdown hooks before modules stop", async () => {
    const events: string[] = [];
    const app = await new ServiceBuilder({ info })
      .module(notesModule({ events }))
      .onStartup(() => void events.push("startup"))
      .onShutdown(() => void events.push("shutdown"))
      .build();
    await app.chapkit.close();
    assert.deepEqual(events, ["setup:notes", "start:notes", "startup", "shutdown", "stop:notes"]);
  });

  it("stops modules in reverse order", async () => {
    const events: string[] = [];
    const stopper = (name: string): ServiceModule => ({ name, stop: () => void events.push(name) });
    const app = await new ServiceBuilder({ info }).module(stopper("a")).module(stopper("b")).build();
    await app.chapkit.close();
    assert.deepEqual(events, ["b", "a"]);
  });

  it("closes a store it opened", async () => {
    const app = await new ServiceBuilder({ info }).build();
    await app.chapkit.close();
    await assert.rejects(app.chapkit.context.db.query("SELECT 1"));
  });

  it("leaves a store it was given open", async () => {
    const db = await openDatabase("sqlite::memory:");
    const app = await new ServiceBuilder({ info }).withDatabase(db).build();
    await app.chapkit.close();
    assert.equal(Number((await db.query("SELECT 1 AS one"))[0]?.one), 1);
    await db.close();
  });

  it("mounts custom plugins after module routes", async () => {
    const app = await new ServiceBuilder({ info }).use(new Elysia().get("/custom", () => ({ mine: true }))).build();
    const res = await call(app, "GET", "/custom");
    await app.chapkit.close();
    assert.deepEqual(res.body, { mine: true });
  });

  it("answers 404 at / without the landing page", async () => {
    const app = await new ServiceBuilder({ info }).build();
    const res = await call(app, "GET", "/");
    await app.chapkit.close();
    assert.equal(res.status, 404);
  });

  it("serves the landing page when asked", async () => {
    const app = await new ServiceBuilder({ info }).withLandingPage().build();
    const res = await call(app, "GET", "/");
    await app.chapkit.close();
    assert.equal(res.status, 200);
  });

  it("answers 413 above the configured body size", async () => {
    const app = await new ServiceBuilder({ info, maxBodyBytes: 100 }).module(notesModule()).build();
    const res = await call(app, "POST", "/api/v1/notes", { title: "x".repeat(500) });
    await app.chapkit.close();
    assert.equal(res.status, 413);
  });

  it("has a core-only builder without domain-module methods", async () => {
    const builder = new BaseServiceBuilder({ info }).withSystem();
    assert.equal("withConfig" in builder, false);
    const app = await builder.build();
    const res = await call(app, "GET", "/api/v1/system");
    await app.chapkit.close();
    assert.equal(res.status, 200);
  });
});
