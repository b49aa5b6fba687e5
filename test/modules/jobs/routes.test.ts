import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { JobRunner } from "../../../src/modules/jobs/types.ts";
import { newUlid } from "../../../src/core/ulid.ts";
import type { Driver } from "../../../src/db/driver.ts";
import { jobsModule } from "../../../src/modules/jobs/mod.ts";
import type { ServiceApp } from "../../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../../src/service/service-builder.ts";
import { testStores } from "../../_support/stores.ts";
import { eventually, gate } from "./_support.ts";

const BASE = "http://localhost";
const PROBLEM = "application/problem+json";

function call(app: ServiceApp, method: string, path: string): Promise<Response> {
  return app.handle(new Request(`${BASE}${path}`, { method }));
}

async function problem(response: Response, status: number, type: string): Promise<Record<string, unknown>> {
  assert.equal(response.status, status);
  assert.match(response.headers.get("content-type") ?? "", new RegExp(PROBLEM.replace("+", "\\+")));
  const body = await response.json() as Record<string, unknown>;
  assert.equal(body.type, `urn:chapkit:error:${type}`);
  return body;
}

for (const store of testStores()) {
  describe(`jobs routes on ${store.name}`, () => {
    let db: Driver;
    let app: ServiceApp;
    let runner: JobRunner;

    before(async () => {
      db = await store.open();
      app = await new ServiceBuilder({ info: { display_name: "Jobs" } })
        .withDatabase(db)
        .module(jobsModule({ maxConcurrency: 5 }))
        .build();
      runner = app.chapkit.context.get<JobRunner>("jobs");
    });
    after(async () => {
      await app.chapkit.close();
      await db.close();
      await store.cleanup();
    });

    test("an empty runner lists []", async () => {
      const response = await call(app, "GET", "/api/v1/jobs");
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), []);
    });

    test("a job's record is served by id with every key in order", async () => {
      const id = await runner.submit(() => newUlid());
      await runner.wait(id, 10_000);
      const response = await call(app, "GET", `/api/v1/jobs/${id}`);
      assert.equal(response.status, 200);
      const body = await response.json() as Record<string, unknown>;
      assert.deepEqual(Object.keys(body), [
        "id", "status", "submitted_at", "started_at", "finished_at", "error", "error_traceback", "artifact_id",
      ]);
      assert.equal(body.status, "completed");
      assert.match(String(body.artifact_id), /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/);
    });

    test("a failed job shows the error class and message", async () => {
      const id = await runner.submit(() => {
        throw new TypeError("Config 01K72P5N5KCRM6MD3BRE4P0999 not found");
      });
      await runner.wait(id, 10_000);
      const body = await (await call(app, "GET", `/api/v1/jobs/${id}`)).json() as Record<string, unknown>;
      assert.equal(body.status, "failed");
      assert.equal(body.error, "TypeError: Config 01K72P5N5KCRM6MD3BRE4P0999 not found");
      assert.equal(typeof body.error_traceback, "string");
    });

    test("the list is newest first and status_filter keeps one status exactly", async () => {
      const hold = gate();
      const done = await runner.submit(() => 1);
      await runner.wait(done, 10_000);
      const running = await runner.submit(() => hold.promise);
      await eventually(async () => (await runner.get(running)).status === "running");
      const all = await (await call(app, "GET", "/api/v1/jobs")).json() as { id: string; submitted_at: string }[];
      assert.equal(all[0]!.id, running);
      for (let i = 1; i < all.length; i++) assert.ok(all[i - 1]!.submitted_at >= all[i]!.submitted_at);
      const onlyRunning = await (await call(app, "GET", "/api/v1/jobs?status_filter=running")).json() as {
        id: string;
        status: string;
      }[];
      assert.deepEqual(onlyRunning.map((job) => job.id), [running]);
      const completed = await (await call(app, "GET", "/api/v1/jobs?status_filter=completed")).json() as {
        status: string;
      }[];
      assert.ok(completed.length >= 1 && completed.every((job) => job.status === "completed"));
      hold.open();
      await runner.wait(running, 10_000);
    });

    test("an invalid status_filter is a 422 validation problem naming the parameter", async () => {
      const body = await problem(await call(app, "GET", "/api/v1/jobs?status_filter=done"), 422, "validation-failed");
      const errors = body.errors as { loc: unknown[]; type: string; msg: string }[];
      assert.deepEqual(errors[0]!.loc, ["query", "status_filter"]);
      assert.equal(errors[0]!.type, "enum");
      assert.match(errors[0]!.msg, /'pending', 'running', 'completed', 'failed' or 'canceled'/);
    });

    test("an unknown query parameter is a 400 invalid-query problem; _-prefixed ones are ignored", async () => {
      const body = await problem(await call(app, "GET", "/api/v1/jobs?status=running"), 400, "invalid-query");
      assert.match(String(body.detail), /status/);
      assert.equal((await call(app, "GET", "/api/v1/jobs?_=123")).status, 200);
    });

    test("a malformed job id is a 400 invalid-ulid problem on get, delete and $cancel", async () => {
      for (const [method, path] of [
        ["GET", "/api/v1/jobs/invalid-ulid"],
        ["DELETE", "/api/v1/jobs/invalid-ulid"],
        ["POST", "/api/v1/jobs/invalid-ulid/$cancel"],
      ] as const) {
        const body = await problem(await call(app, method, path), 400, "invalid-ulid");
        assert.equal(body.instance, "/api/v1/jobs/invalid-ulid");
        assert.match(String(body.detail), /Invalid ULID format/);
      }
    });

    test("an unknown job is a 404 problem on get, delete and $cancel", async () => {
      const id = newUlid();
      for (const [method, path] of [
        ["GET", `/api/v1/jobs/${id}`],
        ["DELETE", `/api/v1/jobs/${id}`],
        ["POST", `/api/v1/jobs/${id}/$cancel`],
      ] as const) {
        const body = await problem(await call(app, method, path), 404, "not-found");
        assert.equal(body.detail, "Job not found");
        assert.equal(body.instance, `/api/v1/jobs/${id}`);
      }
    });

    test("DELETE of a completed job answers 204 with no body, then the job is gone", async () => {
      const id = await runner.submit(() => 1);
      await runner.wait(id, 10_000);
      const response = await call(app, "DELETE", `/api/v1/jobs/${id}`);
      assert.equal(response.status, 204);
      assert.equal(await response.text(), "");
      assert.equal((await call(app, "GET", `/api/v1/jobs/${id}`)).status, 404);
    });

    test("DELETE of a running job cancels it, answers 204 and removes it", async () => {
      let aborted = false;
      const id = await runner.submit(({ signal }) =>
        new Promise<void>((resolve) =>
          signal.addEventListener("abort", () => {
            aborted = true;
            resolve();
          })
        )
      );
      await eventually(async () => (await runner.get(id)).status === "running");
      assert.equal((await call(app, "DELETE", `/api/v1/jobs/${id}`)).status, 204);
      assert.equal(aborted, true);
      assert.equal((await call(app, "GET", `/api/v1/jobs/${id}`)).status, 404);
    });

    test("$cancel on a running job answers 200 with the canceled record and keeps it", async () => {
      const id = await runner.submit(({ signal }) => new Promise((resolve) => signal.addEventListener("abort", resolve)));
      await eventually(async () => (await runner.get(id)).status === "running");
      const response = await call(app, "POST", `/api/v1/jobs/${id}/$cancel`);
      assert.equal(response.status, 200);
      const body = await response.json() as Record<string, unknown>;
      assert.equal(body.status, "canceled");
      assert.equal(body.id, id);
      const again = await (await call(app, "GET", `/api/v1/jobs/${id}`)).json() as Record<string, unknown>;
      assert.equal(again.status, "canceled");
    });

    test("$cancel on a finished job is a 409 conflict problem", async () => {
      const id = await runner.submit(() => 1);
      await runner.wait(id, 10_000);
      const body = await problem(await call(app, "POST", `/api/v1/jobs/${id}/$cancel`), 409, "conflict");
      assert.match(String(body.detail), /already finished/);
      const record = await (await call(app, "GET", `/api/v1/jobs/${id}`)).json() as Record<string, unknown>;
      assert.equal(record.status, "completed");
    });

    test("the OpenAPI document tags the job routes and names the path parameter job_id", async () => {
      const response = await call(app, "GET", "/openapi.json");
      assert.equal(response.status, 200);
      const doc = await response.json() as { paths: Record<string, Record<string, Record<string, unknown>>> };
      const byId = doc.paths["/api/v1/jobs/{job_id}"];
      assert.ok(byId, Object.keys(doc.paths).join(", "));
      for (const operation of [doc.paths["/api/v1/jobs"]!.get!, byId.get!, byId.delete!]) {
        assert.deepEqual(operation.tags, ["jobs"]);
        assert.equal(typeof operation.summary, "string");
      }
      const params = byId.get!.parameters as { name: string; in: string }[];
      assert.ok(params.some((param) => param.name === "job_id" && param.in === "path"));
      assert.ok(doc.paths["/api/v1/jobs/{job_id}/$cancel"]?.post);
    });
  });
}
