/**
 * Multi-tenancy and jobs: a job enqueued or submitted under a tenant runs
 * scoped to it and is visible only to it.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Type } from "@sinclair/typebox";
import { defineEntity } from "../../../src/core/entity-definition.ts";
import type { Driver } from "../../../src/db/driver.ts";
import { entityManagerOf } from "../../../src/modules/entity/mod.ts";
import { ROW_ACCESS_KEY } from "../../../src/http/row-access-key.ts";
import type { RowAccess } from "../../../src/http/row-policy.ts";
import { JOBS_KEY } from "../../../src/modules/jobs/mod.ts";
import type { JobRecord, JobRunner } from "../../../src/modules/jobs/types.ts";
import type { ServiceApp } from "../../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../../src/service/service-builder.ts";
import { call, json } from "../../_support/http.ts";
import { memoryStore, postgresStore, type TestStore } from "../../_support/stores.ts";
import { serve } from "../../../src/runtime/serve.ts";
import { openStream } from "../../http/realtime/_sse.ts";

const PLATFORM_KEY = "tenant-jobs-platform-key-0123456789abcdef";
const Note = defineEntity({
  table: "notes",
  name: "Note",
  fields: { title: Type.String({ minLength: 1 }), tenant_id: Type.Optional(Type.Union([Type.String(), Type.Null()])) },
});

for (const store of [memoryStore(), postgresStore()] as TestStore[]) {
  describe(`jobs under tenancy on ${store.name}`, () => {
    let db: Driver;
    let app: ServiceApp;
    const platform = { "x-api-key": PLATFORM_KEY };
    const keys: Record<"a" | "b", Record<string, string>> = { a: {}, b: {} };

    /** The notes of every tenant, read as the platform. */
    const allNotes = async () => await json<{ title: string; tenant_id: string | null }[]>(await call(app, "GET", "/api/v1/notes", undefined, platform), 200);
    const finished = async (id: string): Promise<JobRecord> => await app.chapkit.context.get<JobRunner>(JOBS_KEY).wait(id, 10_000);

    before(async () => {
      db = await store.open();
      app = await new ServiceBuilder({ info: { display_name: "Tenant jobs" } })
        .withSettings({ env: {} })
        .withDatabase(db)
        .withEntity(Note)
        .withRealtime()
        .withJobs({
          handlers: {
            // Writes a note and reports how many notes it could see.
            note: {
              payload: Type.Object({ title: Type.String() }),
              run: async ({ title }: { title: string }) => {
                const notes = entityManagerOf(app.chapkit.context, Note);
                const seen = (await notes.list()).length;
                await notes.create({ title: `${title} saw ${seen}`, tenant_id: "someone-else" });
              },
            },
          },
        })
        .withAuth({ jwtSecret: "tenant-jobs-jwt-secret-0123456789abcdef0123", staticKeys: [PLATFORM_KEY], passwordCost: { ln: 10, r: 8, p: 1 }, env: {}, tenancy: { tables: ["notes"] } })
        .build();
      for (const name of ["a", "b"] as const) {
        const key = await json<{ key: string }>(await call(app, "POST", "/api/v1/auth/keys", { name: `ci-${name}`, role: "admin", tenant_id: name }, platform), 201);
        keys[name] = { "x-api-key": key.key };
        await json(await call(app, "POST", "/api/v1/notes", { title: `first of ${name}` }, keys[name]), 201);
      }
      await json(await call(app, "POST", "/api/v1/notes", { title: "second of b" }, keys.b), 201);
    });

    after(async () => {
      await app.chapkit.close();
      await db.close();
    });

    it("runs a job enqueued by a tenant scoped to that tenant", async () => {
      const job = await json<{ id: string }>(await call(app, "POST", "/api/v1/jobs", { name: "note", payload: { title: "job of a" } }, keys.a), 202);
      const done = await finished(job.id);
      assert.equal(done.status, "completed", done.error ?? "");
      const written = (await allNotes()).find((note) => note.title.startsWith("job of a"));
      // It saw only a's note, and its note landed in a whatever it asked for.
      assert.deepEqual(written, { ...written, title: "job of a saw 1", tenant_id: "a" });
    });

    it("shows a tenant's job to that tenant only", async () => {
      const job = await json<{ id: string }>(await call(app, "POST", "/api/v1/jobs", { name: "note", payload: { title: "job of b" } }, keys.b), 202);
      await finished(job.id);
      assert.equal((await call(app, "GET", `/api/v1/jobs/${job.id}`, undefined, keys.b)).status, 200);
      const foreign = await call(app, "GET", `/api/v1/jobs/${job.id}`, undefined, keys.a);
      assert.equal(foreign.status, 404);
      assert.equal((await foreign.json() as { type: string }).type, "urn:chapkit:error:not-found");
      const listed = await json<{ id: string }[]>(await call(app, "GET", "/api/v1/jobs", undefined, keys.a), 200);
      assert.ok(!listed.some((record) => record.id === job.id));
      assert.ok((await json<{ id: string }[]>(await call(app, "GET", "/api/v1/jobs", undefined, keys.b), 200)).some((record) => record.id === job.id));
      assert.ok((await json<{ id: string }[]>(await call(app, "GET", "/api/v1/jobs", undefined, platform), 200)).some((record) => record.id === job.id));
      for (const [method, path] of [["DELETE", `/api/v1/jobs/${job.id}`], ["POST", `/api/v1/jobs/${job.id}/$retry`], ["POST", `/api/v1/jobs/${job.id}/$cancel`]] as const) {
        assert.equal((await call(app, method, path, undefined, keys.a)).status, 404, `${method} ${path}`);
      }
      assert.equal((await call(app, "GET", `/api/v1/jobs/${job.id}`, undefined, keys.b)).status, 200, "still there after the other tenant's tries");
    });

    it("keeps dedup keys of tenants apart", async () => {
      const body = (title: string) => ({ name: "note", payload: { title }, dedup_key: "nightly", run_at: new Date(Date.now() + 60_000).toISOString() });
      const a = await json<{ id: string }>(await call(app, "POST", "/api/v1/jobs", body("dedup a"), keys.a), 202);
      const b = await call(app, "POST", "/api/v1/jobs", body("dedup b"), keys.b);
      assert.equal(b.status, 202, await b.clone().text());
      const second = await call(app, "POST", "/api/v1/jobs", body("dedup a again"), keys.a);
      assert.equal(second.status, 200, "the same tenant's key still dedups");
      assert.equal((await second.json() as { dedup_key: string }).dedup_key, "nightly");
      assert.notEqual((await b.json() as { id: string }).id, a.id);
    });

    it("runs a function job submitted in a tenant's request scoped to it", async () => {
      const runner = app.chapkit.context.get<JobRunner>(JOBS_KEY);
      const access = app.chapkit.context.get<RowAccess>(ROW_ACCESS_KEY);
      const id = await access.runAs({ user: { id: "k", kind: "api_key", role: "admin", tenantId: "b" } }, () =>
        runner.submit(async () => {
          const notes = entityManagerOf(app.chapkit.context, Note);
          await notes.create({ title: `function saw ${(await notes.list()).length}` });
        }));
      assert.equal((await finished(id)).status, "completed");
      const written = (await allNotes()).find((note) => note.title.startsWith("function saw"));
      assert.equal(written?.tenant_id, "b");
      assert.match(written!.title, /^function saw [2-9]/);
      assert.ok(!written!.title.includes("saw 5"), "never the other tenant's notes too");
    });

    it("streams a tenant the events of its own jobs only", async () => {
      const server = await serve((request) => app.fetch(request), { port: 0, hostname: "127.0.0.1" });
      try {
        const stream = await openStream(`http://127.0.0.1:${server.port}/api/v1/jobs/$subscribe`, keys.a);
        const other = await json<{ id: string }>(await call(app, "POST", "/api/v1/jobs", { name: "note", payload: { title: "stream b" } }, keys.b), 202);
        await finished(other.id);
        const own = await json<{ id: string }>(await call(app, "POST", "/api/v1/jobs", { name: "note", payload: { title: "stream a" } }, keys.a), 202);
        const event = await stream.next();
        assert.equal((event.data as { data: { id: string } }).data.id, own.id, `the first event a sees is of its own job, not b's: ${JSON.stringify(event.data)} (b: ${other.id})`);
        await stream.close();
      } finally {
        await server.stop(1000);
      }
    });

    it("runs jobs without a principal unscoped, visible to the platform only", async () => {
      const runner = app.chapkit.context.get<JobRunner>(JOBS_KEY);
      const { record } = await runner.enqueue("note", { title: "cron" });
      await finished(record.id);
      const written = (await allNotes()).find((note) => note.title.startsWith("cron saw"));
      assert.equal(written?.tenant_id, "someone-else");
      assert.equal((await call(app, "GET", `/api/v1/jobs/${record.id}`, undefined, keys.a)).status, 404);
      assert.equal((await call(app, "GET", `/api/v1/jobs/${record.id}`, undefined, platform)).status, 200);
    });
  });
}
