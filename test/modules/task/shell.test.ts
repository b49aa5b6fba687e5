import assert from "node:assert/strict";
import process from "node:process";
import { describe, test } from "node:test";
import type { JobRecord, JobRunner } from "../../../src/modules/jobs/types.ts";
import { jobsModule } from "../../../src/modules/jobs/mod.ts";
import { taskFunction } from "../../../src/modules/task/functions.ts";
import { tasksModule, type TasksModuleOptions } from "../../../src/modules/task/mod.ts";
import type { ServiceApp } from "../../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../../src/service/service-builder.ts";
import { eventually } from "../jobs/_support.ts";
import { type ResultArtifacts, resultArtifactsModule } from "./_support.ts";

type Json = Record<string, unknown>;

async function call(app: ServiceApp, method: string, path: string, body?: unknown): Promise<Response> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { "content-type": "application/json" };
  }
  return app.handle(new Request(`http://localhost${path}`, init));
}

async function json(response: Response, status: number): Promise<Json> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  return JSON.parse(text) as Json;
}

async function withService(options: TasksModuleOptions, body: (app: ServiceApp) => Promise<void>): Promise<void> {
  const app = await new ServiceBuilder({ info: { display_name: "Shell tasks" } })
    .module(jobsModule())
    .module(resultArtifactsModule())
    .module(tasksModule(options))
    .build();
  try {
    await body(app);
  } finally {
    await app.chapkit.close();
  }
}

async function runTask(app: ServiceApp, command: string, extra: Json = {}): Promise<{ job: JobRecord; data: Json }> {
  const task = await json(await call(app, "POST", "/api/v1/tasks", { command, ...extra }), 201);
  const started = await json(await call(app, "POST", `/api/v1/tasks/${task.id}/$execute`), 202);
  const job = await app.chapkit.context.get<JobRunner>("jobs").wait(String(started.job_id), 30_000);
  const artifact = job.artifact_id ? await app.chapkit.context.get<ResultArtifacts>("artifacts").get(job.artifact_id) : null;
  return { job, data: (artifact?.data ?? {}) as Json };
}

describe("shell tasks are opt-in", () => {
  test("creating a shell task while shell is off is a 403 problem that says how to enable it", async () => {
    await withService({ functions: { noop: taskFunction({ run: () => null }) } }, async (app) => {
      for (const body of [{ command: "id" }, { command: "id", task_type: "shell" }]) {
        const problem = await json(await call(app, "POST", "/api/v1/tasks", body), 403);
        assert.equal(problem.type, "urn:chapkit:error:forbidden");
        assert.match(String(problem.detail), /withTasks\(\{ shell: true \}\)/);
      }
      assert.equal((await json(await call(app, "POST", "/api/v1/tasks/$bulk-create", [{ command: "id" }]), 403)).status, 403);
      assert.deepEqual(await (await call(app, "GET", "/api/v1/tasks")).json(), []);
      await json(await call(app, "POST", "/api/v1/tasks", { command: "noop", task_type: "function" }), 201);
    });
  });

  test("running a stored shell task while shell is off is a 403 problem", async () => {
    await withService({}, async (app) => {
      const tasks = app.chapkit.context.get<{ repository: { insert(v: Json): Promise<{ id: string }> } }>("tasks");
      const stored = await tasks.repository.insert({ command: "id", task_type: "shell", timeout_seconds: null });
      const problem = await json(await call(app, "POST", `/api/v1/tasks/${stored.id}/$execute`), 403);
      assert.match(String(problem.detail), /withTasks\(\{ shell: true \}\)/);
      assert.deepEqual(await app.chapkit.context.get<JobRunner>("jobs").list(), []);
    });
  });

  test("an allowlist admits exactly its commands", async () => {
    await withService({ shell: { commands: ["echo listed", /^python3 scripts\/[a-z_]+\.py$/] } }, async (app) => {
      await json(await call(app, "POST", "/api/v1/tasks", { command: "echo listed" }), 201);
      await json(await call(app, "POST", "/api/v1/tasks", { command: "python3 scripts/train_model.py" }), 201);
      for (const command of ["echo listed; id", "python3 scripts/x.py; rm -rf /", "id"]) {
        await json(await call(app, "POST", "/api/v1/tasks", { command }), 403);
      }
    });
  });
});

describe("shell task runs", () => {
  test("a shell task sees PATH, HOME, LANG and declared variables, never the service's secrets", async () => {
    process.env.CHAPKIT_SHELL_TEST_SECRET = "s3cr3t";
    try {
      await withService({ shell: { env: { GREETING: "hi" } } }, async (app) => {
        const { job, data } = await runTask(app, "env");
        assert.equal(job.status, "completed", job.error ?? "");
        const names = String(data.stdout).trim().split("\n").map((line) => line.split("=")[0]);
        assert.ok(names.includes("PATH") && names.includes("HOME") && names.includes("GREETING"), names.join(","));
        assert.ok(!String(data.stdout).includes("s3cr3t"));
        assert.ok(!names.includes("DATABASE_URL"));
      });
    } finally {
      delete process.env.CHAPKIT_SHELL_TEST_SECRET;
    }
  });

  test("stdout past the cap is cut and the artifact says so", async () => {
    await withService({ shell: { maxOutputBytes: 100 } }, async (app) => {
      const { data } = await runTask(app, "head -c 5000 /dev/zero | tr '\\0' a");
      assert.equal(data.stdout, "a".repeat(100));
      assert.equal(data.stdout_truncated, true);
      assert.equal(data.stderr_truncated, undefined);
    });
  });

  test("a timeout ends a task whose background child holds stdout within a second", async () => {
    await withService({ shell: true }, async (app) => {
      const started = Date.now();
      const { job, data } = await runTask(app, "sleep 6 & echo x", { timeout_seconds: 0.3 });
      assert.ok(Date.now() - started < 300 + 1_000, `took ${Date.now() - started} ms`);
      assert.equal(job.status, "completed");
      assert.equal(data.exit_code, -9);
      assert.equal(data.stdout, "x\n");
    });
  });

  test("a canceled task writes no artifact", async () => {
    await withService({ shell: true }, async (app) => {
      const runner = app.chapkit.context.get<JobRunner>("jobs");
      const task = await json(await call(app, "POST", "/api/v1/tasks", { command: "sleep 30" }), 201);
      const jobId = String((await json(await call(app, "POST", `/api/v1/tasks/${task.id}/$execute`), 202)).job_id);
      await eventually(async () => (await runner.get(jobId)).status === "running");
      await json(await call(app, "POST", `/api/v1/jobs/${jobId}/$cancel`), 200);
      // DELETE waits for the job's function to settle.
      assert.equal((await call(app, "DELETE", `/api/v1/jobs/${jobId}`)).status, 204);
      const db = app.chapkit.context.db;
      const rows = await db.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM "task_test_artifacts"`);
      assert.equal(Number(rows[0]!.n), 0);
    });
  });
});
