import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Type } from "@sinclair/typebox";
import type { JobRecord, JobRunner } from "../../../src/modules/jobs/types.ts";
import { newUlid } from "../../../src/core/ulid.ts";
import type { Driver } from "../../../src/db/driver.ts";
import { jobsModule } from "../../../src/modules/jobs/mod.ts";
import { taskFunction } from "../../../src/modules/task/functions.ts";
import { tasksModule } from "../../../src/modules/task/mod.ts";
import type { ServiceApp } from "../../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../../src/service/service-builder.ts";
import { testStores } from "../../_support/stores.ts";
import { eventually, gate } from "../jobs/_support.ts";
import { type ResultArtifacts, resultArtifactsModule } from "./_support.ts";

const BASE = "http://localhost";
type Json = Record<string, unknown>;

function call(app: ServiceApp, method: string, path: string, body?: unknown): Promise<Response> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    init.headers = { "content-type": "application/json" };
  }
  return app.handle(new Request(`${BASE}${path}`, init));
}

async function json(response: Response, status: number): Promise<Json> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  return JSON.parse(text) as Json;
}

const functions = {
  add: taskFunction({
    params: Type.Object({ a: Type.Number(), b: Type.Number() }),
    run: ({ a, b }) => ({ sum: a + b }),
  }),
  wait: taskFunction({
    run: (_params, { signal }) => new Promise((resolve) => signal.addEventListener("abort", resolve)),
  }),
};

for (const store of testStores()) {
  describe(`tasks on ${store.name}`, () => {
    let db: Driver;
    let app: ServiceApp;
    let runner: JobRunner;
    let artifacts: ResultArtifacts;

    const createTask = async (body: Json): Promise<Json> => json(await call(app, "POST", "/api/v1/tasks", body), 201);
    const execute = async (id: string, body?: unknown): Promise<string> => {
      const answer = await json(await call(app, "POST", `/api/v1/tasks/${id}/$execute`, body), 202);
      return String(answer.job_id);
    };
    const finished = async (jobId: string): Promise<JobRecord> => {
      const record = await runner.wait(jobId, 30_000);
      assert.ok(record.finished_at, `job ${jobId} still ${record.status}`);
      return record;
    };
    const resultOf = async (jobId: string): Promise<Json> => {
      const record = await finished(jobId);
      assert.equal(record.status, "completed", record.error ?? "");
      const artifact = await artifacts.get(record.artifact_id!);
      assert.ok(artifact);
      assert.equal(artifact.parent_id, null);
      return artifact.data as Json;
    };

    before(async () => {
      db = await store.open();
      app = await new ServiceBuilder({ info: { display_name: "Tasks" } })
        .withDatabase(db)
        .module(jobsModule({ maxConcurrency: 3 }))
        .module(resultArtifactsModule())
        .module(tasksModule({ functions, shell: true }))
        .build();
      runner = app.chapkit.context.get<JobRunner>("jobs");
      artifacts = app.chapkit.context.get<ResultArtifacts>("artifacts");
    });
    after(async () => {
      await app.chapkit.close();
      await db.close();
      await store.cleanup();
    });

    test("a task is created with defaults and answered with its fields in order", async () => {
      const response = await call(app, "POST", "/api/v1/tasks", { command: "echo hi" });
      const task = await json(response, 201);
      assert.deepEqual(Object.keys(task), ["id", "created_at", "updated_at", "command", "task_type", "timeout_seconds"]);
      assert.equal(task.task_type, "shell");
      assert.equal(task.timeout_seconds, null);
      assert.equal(response.headers.get("location"), `${BASE}/api/v1/tasks/${task.id}`);
    });

    test("tasks have full CRUD", async () => {
      const task = await createTask({ command: "echo one" });
      const listed = await (await call(app, "GET", "/api/v1/tasks")).json() as Json[];
      assert.ok(listed.some((item) => item.id === task.id));
      assert.deepEqual(await json(await call(app, "GET", `/api/v1/tasks/${task.id}`), 200), task);
      const updated = await json(
        await call(app, "PUT", `/api/v1/tasks/${task.id}`, { command: "echo two", timeout_seconds: 5 }),
        200,
      );
      assert.equal(updated.command, "echo two");
      assert.equal(updated.timeout_seconds, 5);
      const cleared = await json(
        await call(app, "PUT", `/api/v1/tasks/${task.id}`, { command: "echo two", timeout_seconds: null }),
        200,
      );
      assert.equal(cleared.timeout_seconds, null);
      assert.equal((await call(app, "DELETE", `/api/v1/tasks/${task.id}`)).status, 204);
      assert.equal((await call(app, "GET", `/api/v1/tasks/${task.id}`)).status, 404);
    });

    test("bad task bodies are 422 problems and store nothing", async () => {
      const before = ((await (await call(app, "GET", "/api/v1/tasks")).json()) as Json[]).length;
      for (const body of [{}, { command: ["x"] }, { command: "x", timeout_seconds: 0 }, { command: "x", task_type: "python" }]) {
        const problem = await json(await call(app, "POST", "/api/v1/tasks", body), 422);
        assert.equal(problem.type, "urn:chapkit:error:validation-failed");
      }
      const unknown = await json(await call(app, "POST", "/api/v1/tasks", { command: "nope", task_type: "function" }), 422);
      assert.deepEqual((unknown.errors as { loc: unknown[] }[])[0]!.loc, ["body", "command"]);
      const after = ((await (await call(app, "GET", "/api/v1/tasks")).json()) as Json[]).length;
      assert.equal(after, before);
    });

    test("$execute answers 202 and the job stores {task, stdout, stderr, exit_code} as a new root artifact", async () => {
      const task = await createTask({ command: "echo 'Hello World'" });
      const response = await json(await call(app, "POST", `/api/v1/tasks/${task.id}/$execute`), 202);
      assert.deepEqual(Object.keys(response), ["job_id", "message"]);
      assert.equal(response.message, `Task submitted for execution. Job ID: ${response.job_id}`);
      const data = await resultOf(String(response.job_id));
      assert.deepEqual(data, {
        task: { id: task.id, command: task.command, created_at: task.created_at, updated_at: task.updated_at },
        stdout: "Hello World\n",
        stderr: "",
        exit_code: 0,
      });
    });

    test("a failing command still completes the job, with its exit code and stderr", async () => {
      const task = await createTask({ command: "ls /nonexistent-chapkit-path" });
      const data = await resultOf(await execute(String(task.id)));
      assert.notEqual(data.exit_code, 0);
      assert.ok(String(data.stderr).length > 0);
    });

    test("stdout and stderr are captured separately; undecodable bytes become U+FFFD", async () => {
      const task = await createTask({ command: "printf 'out\\377'; printf 'err' >&2" });
      const data = await resultOf(await execute(String(task.id)));
      assert.equal(data.stdout, "out\uFFFD");
      assert.equal(data.stderr, "err");
    });

    test("commands run in the server's working directory", async () => {
      const task = await createTask({ command: "pwd" });
      const data = await resultOf(await execute(String(task.id)));
      assert.equal(data.stdout, `${process.cwd()}\n`);
    });

    test("a command past its timeout is killed and the job completes with exit code -9", async () => {
      const task = await createTask({ command: "sleep 30", timeout_seconds: 0.3 });
      const data = await resultOf(await execute(String(task.id)));
      assert.equal(data.exit_code, -9);
    });

    test("re-executing creates distinct artifacts; deleting the task keeps them", async () => {
      const task = await createTask({ command: "echo again" });
      const first = await finished(await execute(String(task.id)));
      const second = await finished(await execute(String(task.id)));
      assert.notEqual(first.artifact_id, second.artifact_id);
      await call(app, "DELETE", `/api/v1/tasks/${task.id}`);
      assert.ok(await artifacts.get(first.artifact_id!));
      assert.ok(await artifacts.get(second.artifact_id!));
    });

    test("a task deleted before its job runs fails the job with 'Task … not found'", async () => {
      const hold = gate();
      const blockers = await Promise.all([1, 2, 3].map(() => runner.submit(() => hold.promise)));
      const task = await createTask({ command: "echo late" });
      const jobId = await execute(String(task.id));
      assert.equal((await runner.get(jobId)).status, "pending");
      assert.equal((await call(app, "DELETE", `/api/v1/tasks/${task.id}`)).status, 204);
      hold.open();
      const record = await finished(jobId);
      assert.equal(record.status, "failed");
      assert.equal(record.error, `NotFoundError: Task ${task.id} not found`);
      for (const id of blockers) await finished(id);
    });

    test("$execute on an unknown task is a 404 problem; a malformed id is 400 invalid-ulid", async () => {
      const id = newUlid();
      const missing = await json(await call(app, "POST", `/api/v1/tasks/${id}/$execute`), 404);
      assert.equal(missing.type, "urn:chapkit:error:not-found");
      assert.equal(missing.detail, `Task ${id} not found`);
      assert.equal(missing.instance, `/api/v1/tasks/${id}`);
      const bad = await json(await call(app, "POST", "/api/v1/tasks/not-a-ulid/$execute"), 400);
      assert.equal(bad.type, "urn:chapkit:error:invalid-ulid");
    });

    test("a function task runs the registered function with validated params", async () => {
      const task = await createTask({ command: "add", task_type: "function" });
      const data = await resultOf(await execute(String(task.id), { params: { a: 2, b: 3 } }));
      assert.deepEqual(data, {
        task: { id: task.id, command: "add", created_at: task.created_at, updated_at: task.updated_at },
        params: { a: 2, b: 3 },
        result: { sum: 5 },
      });
    });

    test("params that do not fit the function are a 422 problem and submit no job", async () => {
      const task = await createTask({ command: "add", task_type: "function" });
      const jobsBefore = (await runner.list()).length;
      const problem = await json(
        await call(app, "POST", `/api/v1/tasks/${task.id}/$execute`, { params: { a: "x" } }),
        422,
      );
      const locs = (problem.errors as { loc: unknown[] }[]).map((error) => error.loc.join("."));
      assert.ok(locs.includes("body.params.a") && locs.includes("body.params.b"), locs.join(" "));
      assert.equal((await json(await call(app, "POST", `/api/v1/tasks/${task.id}/$execute`, "{oops"), 422)).type,
        "urn:chapkit:error:validation-failed");
      assert.equal((await call(app, "POST", `/api/v1/tasks/${task.id}/$execute`, { params: [1] })).status, 422);
      assert.equal((await runner.list()).length, jobsBefore);
    });

    test("a function task past its timeout fails with a TimeoutError", async () => {
      const task = await createTask({ command: "wait", task_type: "function", timeout_seconds: 0.2 });
      const record = await finished(await execute(String(task.id)));
      assert.equal(record.status, "failed");
      assert.match(record.error!, /^TimeoutError: Task .* did not finish within 0.2 s$/);
    });

    test("canceling a shell task's job stops its process", async () => {
      const task = await createTask({ command: "sleep 30" });
      const jobId = await execute(String(task.id));
      await eventually(async () => (await runner.get(jobId)).status === "running");
      const canceled = await json(await call(app, "POST", `/api/v1/jobs/${jobId}/$cancel`), 200);
      assert.equal(canceled.status, "canceled");
      const started = Date.now();
      await call(app, "DELETE", `/api/v1/jobs/${jobId}`);
      assert.ok(Date.now() - started < 20_000);
    });

    test("$schema describes TaskOut with the task fields", async () => {
      const schema = await json(await call(app, "GET", "/api/v1/tasks/$schema"), 200);
      const properties = Object.keys(schema.properties as Json);
      assert.deepEqual(properties, ["id", "created_at", "updated_at", "command", "task_type", "timeout_seconds"]);
      assert.match(String(schema.title), /TaskOut/);
    });

    test("the OpenAPI document tags $execute with tasks", async () => {
      const doc = await json(await call(app, "GET", "/openapi.json"), 200) as {
        paths: Record<string, Record<string, { tags?: string[] }>>;
      };
      const path = Object.keys(doc.paths).find((key) => key.startsWith("/api/v1/tasks/") && key.endsWith("/$execute"));
      assert.ok(path);
      assert.deepEqual(doc.paths[path]!.post!.tags, ["tasks"]);
    });
  });
}

describe("tasks without the jobs module", () => {
  test("build() fails naming the missing builder method", async () => {
    await assert.rejects(
      new ServiceBuilder({ info: { display_name: "No jobs" } }).module(resultArtifactsModule()).module(tasksModule()).build(),
      /withTasks\(\) requires withJobs\(\)/,
    );
  });

  test("the tasks module requires the artifacts module", async () => {
    await assert.rejects(
      new ServiceBuilder({ info: { display_name: "No artifacts" } }).module(tasksModule()).build(),
      /requires/,
    );
  });
});
