import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, it } from "node:test";
import { Type } from "@sinclair/typebox";
import { factory, load, ManualClock, temporaryPostgres, temporarySqlite, testClient } from "chapkit/testing";
import { openDatabase } from "../../src/db/open.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import { DATABASE_URL } from "../_support/stores.ts";

const Settings = Type.Object({ threshold: Type.Number({ minimum: 0 }) }, { title: "Settings" });

function service(databaseUrl = "sqlite::memory:"): ServiceBuilder {
  return new ServiceBuilder({ info: { display_name: "testing utilities" }, databaseUrl })
    .withHealth()
    .withConfig(Settings)
    .withArtifacts({ hierarchy: { name: "h", level_labels: { 0: "root" } } })
    .withTasks({ shell: { commands: ["echo step"] } })
    .withJobs();
}

const configs = factory((n) => ({ name: `config-${n}`, data: { threshold: n } }));

describe("testClient", () => {
  it("calls the built service in-process: status, parsed body, headers and problems", async () => {
    await using client = await testClient(service());
    const created = await client.post("/api/v1/config", configs.build());
    assert.equal(created.status, 201);
    assert.match(created.headers.get("location") ?? "", /\/api\/v1\/config\/[0-9A-Z]{26}$/);
    const read = await client.get(`/api/v1/config/${created.body.id}`);
    assert.deepEqual(read.body.data, created.body.data);
    const invalid = await client.post("/api/v1/config", { name: "bad", data: { threshold: -1 } });
    assert.equal(invalid.status, 422);
    const listed = await client.get("/api/v1/config", { query: { page: 1, size: 10 } });
    assert.equal(listed.body.items.length, 1);
  });

  it("waits for a job to finish and returns its record", async () => {
    await using client = await testClient(service());
    const task = await client.post("/api/v1/tasks", { command: "echo step" });
    const submitted = await client.post(`/api/v1/tasks/${task.body.id}/$execute`);
    const job = await client.waitForJob(submitted.body.job_id);
    assert.equal(job.status, "completed");
    const artifact = await client.get(`/api/v1/artifacts/${job.artifact_id}`);
    assert.equal(artifact.body.data.stdout, "step\n");
  });
});

describe("temporary stores", () => {
  it("temporarySqlite keeps data across services on its URL and removes the file on cleanup", async () => {
    const store = await temporarySqlite();
    const file = store.url.slice("sqlite:".length);
    {
      await using first = await testClient(service(store.url));
      await first.post("/api/v1/config", configs.build({ name: "kept" }));
    }
    {
      await using second = await testClient(service(store.url));
      const listed = await second.get("/api/v1/config");
      assert.deepEqual(listed.body.map((c: { name: string }) => c.name), ["kept"]);
    }
    assert.ok(existsSync(file));
    await store.cleanup();
    assert.ok(!existsSync(file));
  });

  it("temporaryPostgres gives each test its own schema and drops it on cleanup", async () => {
    const a = await temporaryPostgres(DATABASE_URL);
    const b = await temporaryPostgres(DATABASE_URL);
    try {
      await using one = await testClient(service(a.url));
      await using two = await testClient(service(b.url));
      await one.post("/api/v1/config", configs.build({ name: "only-in-a" }));
      assert.equal((await one.get("/api/v1/config")).body.length, 1);
      assert.equal((await two.get("/api/v1/config")).body.length, 0);
    } finally {
      await a.cleanup();
      await b.cleanup();
    }
    const db = await openDatabase(DATABASE_URL);
    try {
      const schema = new URL(a.url).searchParams.get("search_path");
      const rows = await db.query("SELECT 1 FROM information_schema.schemata WHERE schema_name = ?", [schema]);
      assert.equal(rows.length, 0);
    } finally {
      await db.close();
    }
  });
});

describe("factory, ManualClock and load", () => {
  it("factory numbers each input, applies overrides and hands inputs to create", async () => {
    const notes = factory((n) => ({ title: `note-${n}`, stars: 3 }));
    assert.deepEqual(notes.build(), { title: "note-1", stars: 3 });
    assert.deepEqual(notes.buildList(2, { stars: 5 }), [{ title: "note-2", stars: 5 }, { title: "note-3", stars: 5 }]);
    assert.deepEqual(await notes.create((input) => ({ saved: input.title })), { saved: "note-4" });
  });

  it("ManualClock moves only when told, and never backwards", () => {
    const clock = new ManualClock("2026-03-01T00:00:00.000Z");
    assert.equal(clock.iso(), "2026-03-01T00:00:00.000Z");
    clock.advance(90_000);
    assert.equal(clock.iso(), "2026-03-01T00:01:30.000Z");
    assert.equal(clock.now(), Date.parse("2026-03-01T00:01:30.000Z"));
    assert.throws(() => clock.advance(-1), RangeError);
    clock.set("2027-01-01T00:00:00.000Z");
    assert.equal(clock.date().getUTCFullYear(), 2027);
  });

  it("load runs every request at the given concurrency and counts failures", async () => {
    await using client = await testClient(service());
    let running = 0;
    let peak = 0;
    const report = await load(async (i) => {
      running++;
      peak = Math.max(peak, running);
      try {
        if (i % 10 === 9) throw new Error("every tenth fails");
        const answer = await client.get("/api/v1/health");
        assert.equal(answer.status, 200);
      } finally {
        running--;
      }
    }, { requests: 50, concurrency: 4 });
    assert.equal(report.requests, 50);
    assert.equal(report.failed, 5);
    assert.equal(peak, 4);
    assert.ok(report.p50 <= report.p95 && report.p95 <= report.p99 && report.p99 <= report.max);
  });
});
