import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Type } from "@sinclair/typebox";
import { ValidationError } from "../../../src/core/errors.ts";
import { newUlid } from "../../../src/core/ulid.ts";
import type { Driver } from "../../../src/db/driver.ts";
import { backoffDelay } from "../../../src/modules/jobs/enqueue-options.ts";
import type { InProcessJobRunner } from "../../../src/modules/jobs/runner.ts";
import type { JobHandler, JobRecord, JobRunner } from "../../../src/modules/jobs/types.ts";
import type { ServiceApp } from "../../../src/service/lifecycle.ts";
import { call, json } from "../../_support/http.ts";
import { postgresStore, sqliteFileStore } from "../../_support/stores.ts";
import { eventually, gate, jobsApp, type JobsApp, runnerOn } from "./_support.ts";

const Step = Type.Object({ key: Type.String(), fail_times: Type.Optional(Type.Integer({ minimum: 0 })) });

describe("back-off", () => {
  test("doubles from delay_ms per attempt up to max_ms, with jitter in the upper half", () => {
    const policy = { delay_ms: 100, factor: 2, max_ms: 1_000, jitter: false };
    assert.deepEqual([1, 2, 3, 4, 5].map((attempt) => backoffDelay(policy, attempt)), [100, 200, 400, 800, 1_000]);
    assert.equal(backoffDelay({ delay_ms: 100 }, 3, () => 0), 200);
    assert.equal(backoffDelay({ delay_ms: 100 }, 3, () => 1), 400);
  });
});

for (const makeStore of [sqliteFileStore, postgresStore]) {
  const store = makeStore();
  const httpStore = makeStore();
  describe(`the job queue on ${store.name}`, () => {
    let db: Driver;
    let runner: InProcessJobRunner;
    /** Order in which `step` jobs started, by key. */
    const started: string[] = [];
    const tries = new Map<string, number>();
    let hold = gate();
    hold.open();

    const step: JobHandler<{ key: string; fail_times?: number }> = {
      payload: Step,
      async run({ key, fail_times = 0 }) {
        started.push(key);
        const attempt = (tries.get(key) ?? 0) + 1;
        tries.set(key, attempt);
        await hold.promise;
        if (attempt <= fail_times) throw new Error(`${key} failed attempt ${attempt}`);
        return key;
      },
    };

    before(async () => {
      db = await store.open();
      runner = await runnerOn(db, { maxConcurrency: 1, queuePollMs: 20, heartbeatMs: 50 });
      runner.register("step", step);
      runner.register("sleepy", {
        payload: Type.Object({}),
        run: (_payload, { signal }) =>
          new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))),
      });
    });
    after(async () => {
      await runner.close();
      await db.close();
      await store.cleanup();
    });

    test("a named job runs its handler with the payload and shows its queue fields", async () => {
      const { record, created } = await runner.enqueue("step", { key: "plain" });
      assert.equal(created, true);
      assert.equal(record.status, "pending");
      const done = await runner.wait(record.id, 10_000);
      assert.equal(done.status, "completed");
      assert.deepEqual(Object.keys(done).slice(0, 8), [
        "id", "status", "submitted_at", "started_at", "finished_at", "error", "error_traceback", "artifact_id",
      ]);
      assert.equal(done.name, "step");
      assert.deepEqual(done.payload, { key: "plain" });
      assert.equal(done.attempts, 1);
      assert.equal(done.max_attempts, 1);
      assert.equal(done.dead_letter, false);
      assert.equal(done.next_run_at, null);
    });

    test("an unknown handler or a payload that misses its schema is refused and stores nothing", async () => {
      const before = (await runner.list()).length;
      await assert.rejects(runner.enqueue("nope", {}), (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.deepEqual(error.errors[0]!.loc, ["body", "name"]);
        return true;
      });
      await assert.rejects(runner.enqueue("step", { key: 7 }), (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.deepEqual(error.errors[0]!.loc.slice(0, 3), ["body", "payload", "key"]);
        return true;
      });
      await assert.rejects(runner.enqueue("step", { key: "x" }, { priority: 1.5, maxAttempts: 0 }), ValidationError);
      assert.equal((await runner.list()).length, before);
    });

    test("higher priority runs first and jobs of one priority run in the order enqueued", async () => {
      hold = gate();
      const blocker = await runner.enqueue("step", { key: "blocker" });
      await eventually(() => started.includes("blocker"));
      const ids: string[] = [];
      for (const [key, priority] of [["low-1", 0], ["high-1", 5], ["low-2", 0], ["high-2", 5], ["mid", 2]] as const) {
        ids.push((await runner.enqueue("step", { key }, { priority })).record.id);
      }
      started.length = 0;
      hold.open();
      for (const id of [blocker.record.id, ...ids]) await runner.wait(id, 10_000);
      assert.deepEqual(started, ["high-1", "high-2", "mid", "low-1", "low-2"]);
    });

    test("a failing attempt is retried with back-off, pending with next_run_at meanwhile, each attempt recorded", async () => {
      const { record } = await runner.enqueue("step", { key: "flaky", fail_times: 2 }, {
        maxAttempts: 3,
        backoff: { delay_ms: 150, jitter: false },
      });
      await eventually(async () => (await runner.get(record.id)).attempts === 1);
      await eventually(async () => (await runner.get(record.id)).status === "pending");
      const waiting = await runner.get(record.id);
      assert.equal(waiting.last_error, "Error: flaky failed attempt 1");
      assert.ok(waiting.next_run_at !== null && Date.parse(waiting.next_run_at!) > Date.now() - 50);
      const done = await runner.wait(record.id, 10_000);
      assert.equal(done.status, "completed");
      assert.equal(done.attempts, 3);
      assert.equal(done.last_error, "Error: flaky failed attempt 2");
      assert.equal(done.dead_letter, false);
      assert.ok(Date.parse(done.finished_at!) - Date.parse(done.submitted_at) >= 150 + 300);
    });

    test("a job that uses every attempt is a dead letter, listed as such, and $retry runs it again", async () => {
      const { record } = await runner.enqueue("step", { key: "doomed", fail_times: 2 }, {
        maxAttempts: 2,
        backoff: { delay_ms: 10 },
      });
      const dead = await runner.wait(record.id, 10_000);
      assert.equal(dead.status, "failed");
      assert.equal(dead.dead_letter, true);
      assert.equal(dead.attempts, 2);
      assert.equal(dead.error, "Error: doomed failed attempt 2");
      const letters = await runner.list({ status: "failed", deadLetter: true });
      assert.ok(letters.some((job) => job.id === record.id));
      assert.ok(letters.every((job) => job.dead_letter === true));
      const requeued = await runner.retry(record.id);
      assert.equal(requeued.status, "pending");
      assert.equal(requeued.attempts, 0);
      assert.equal(requeued.dead_letter, false);
      const again = await runner.wait(record.id, 10_000);
      assert.equal(again.status, "completed");
      assert.equal(again.attempts, 1);
    });

    test("an attempt past timeout_ms aborts the handler's signal and fails as JobTimeout", async () => {
      const { record } = await runner.enqueue("sleepy", {}, { timeoutMs: 50 });
      const done = await runner.wait(record.id, 10_000);
      assert.equal(done.status, "failed");
      assert.equal(done.error, "JobTimeout: Job attempt timed out after 50 ms");
      assert.equal(done.dead_letter, true);
    });

    test("a dedup key returns the pending or running job instead of adding one; after it ends a new one is added", async () => {
      hold = gate();
      const first = await runner.enqueue("step", { key: "dedup-1" }, { dedupKey: "nightly" });
      const second = await runner.enqueue("step", { key: "dedup-2" }, { dedupKey: "nightly" });
      assert.equal(second.created, false);
      assert.equal(second.record.id, first.record.id);
      assert.deepEqual(second.record.payload, { key: "dedup-1" });
      hold.open();
      await runner.wait(first.record.id, 10_000);
      const third = await runner.enqueue("step", { key: "dedup-3" }, { dedupKey: "nightly" });
      assert.equal(third.created, true);
      assert.notEqual(third.record.id, first.record.id);
      await runner.wait(third.record.id, 10_000);
    });

    test("a delayed job waits until its run time", async () => {
      const { record } = await runner.enqueue("step", { key: "later" }, { delayMs: 200 });
      assert.ok(Date.parse(record.next_run_at!) >= Date.parse(record.submitted_at) + 200);
      const done = await runner.wait(record.id, 10_000);
      assert.ok(Date.parse(done.started_at!) >= Date.parse(record.submitted_at) + 200);
    });

    test("a job runs after all its dependencies completed; a failed dependency fails it and its dependents", async () => {
      hold = gate();
      const train = await runner.enqueue("step", { key: "train" });
      const evaluate = await runner.enqueue("step", { key: "evaluate" }, { dependsOn: [train.record.id], priority: 9 });
      assert.deepEqual(evaluate.record.depends_on, [train.record.id]);
      await eventually(() => started.includes("train"));
      assert.equal((await runner.get(evaluate.record.id)).status, "pending");
      hold.open();
      const done = await runner.wait(evaluate.record.id, 10_000);
      assert.equal(done.status, "completed");
      assert.ok(done.started_at! >= (await runner.get(train.record.id)).finished_at!);

      const broken = await runner.enqueue("step", { key: "broken", fail_times: 1 });
      const next = await runner.enqueue("step", { key: "next" }, { dependsOn: [broken.record.id] });
      const last = await runner.enqueue("step", { key: "last" }, { dependsOn: [next.record.id] });
      const failed = await runner.wait(last.record.id, 10_000);
      assert.equal((await runner.get(next.record.id)).status, "failed");
      assert.equal(failed.status, "failed");
      assert.match(failed.error!, /^DependencyFailed: Job [0-9A-Z]{26} it depends on failed/);
      assert.ok(!started.includes("next") && !started.includes("last"));
    });

    test("depends_on an unknown job is refused and stores nothing", async () => {
      const count = (await runner.list()).length;
      await assert.rejects(runner.enqueue("step", { key: "orphan" }, { dependsOn: [newUlid()] }), ValidationError);
      assert.equal((await runner.list()).length, count);
    });

    test("jobs claimed ahead start by priority, FIFO within one, whichever claim brought them", async () => {
      const order: string[] = [];
      const hold = gate();
      // A claim batch above the concurrency: the runner holds claimed jobs until a slot is free.
      const prefetching = await runnerOn(db, { maxConcurrency: 1, claimBatch: 4, queuePollMs: 20, heartbeatMs: 50 });
      prefetching.register("ordered", {
        payload: Step,
        async run({ key }) {
          order.push(key);
          if (key === "blocker") await hold.promise;
        },
      });
      const claimed = async (jobs: readonly { record: JobRecord }[]): Promise<void> => {
        const ids = jobs.map(({ record }) => record.id);
        await eventually(async () => (await prefetching.list({ status: "running" })).filter((job) => ids.includes(job.id)).length === ids.length);
        await new Promise((resolve) => setTimeout(resolve, 50)); // the claim's answer reaches the runner
      };
      const enqueue = (keys: readonly (readonly [string, number])[]) =>
        prefetching.enqueueMany(keys.map(([key, priority]) => ({ name: "ordered", payload: { key }, options: { priority } })));
      try {
        const blocker = await prefetching.enqueue("ordered", { key: "blocker" });
        await eventually(() => order.includes("blocker"));
        const early = await enqueue([["low-1", 0], ["mid-1", 2], ["low-2", 0]]);
        await claimed(early);
        const late = await enqueue([["high-1", 5], ["mid-2", 2], ["high-2", 5]]);
        await claimed(late);
        hold.open();
        for (const { record } of [blocker, ...early, ...late]) assert.equal((await prefetching.wait(record.id, 10_000)).status, "completed");
        assert.deepEqual(order, ["blocker", "high-1", "high-2", "mid-1", "mid-2", "low-1", "low-2"]);
      } finally {
        await prefetching.close();
      }
    });

    test("$retry refuses active jobs and jobs submitted as functions", async () => {
      const fn = await runner.submit(() => {
        throw new Error("x");
      });
      await runner.wait(fn, 10_000);
      await assert.rejects(runner.retry(fn), /submitted as a function/);
      const { record } = await runner.enqueue("step", { key: "ok" });
      await runner.wait(record.id, 10_000);
      await assert.rejects(runner.retry(record.id), /only failed or canceled/);
    });
  });

  describe(`POST /api/v1/jobs and $retry on ${httpStore.name}`, () => {
    let app: ServiceApp;
    let runner: JobRunner;
    let failures = 1;

    let service: JobsApp;

    before(async () => {
      service = await jobsApp(httpStore, {
        maxConcurrency: 2,
        queuePollMs: 20,
        handlers: {
          echo: { payload: Type.Object({ text: Type.String() }), run: ({ text }: { text: string }) => text },
          once: {
            payload: Type.Object({}),
            run: () => {
              if (failures-- > 0) throw new Error("first time");
            },
          },
        },
      });
      ({ app, runner } = service);
    });
    after(() => service.close());

    test("a valid body answers 202 with the pending record; the job then completes", async () => {
      const body = await json<JobRecord>(
        await call(app, "POST", "/api/v1/jobs", { name: "echo", payload: { text: "hi" }, priority: 3, max_attempts: 2 }),
        202,
      );
      assert.equal(body.status, "pending");
      assert.equal(body.priority, 3);
      assert.equal(body.max_attempts, 2);
      assert.equal((await runner.wait(body.id, 10_000)).status, "completed");
    });

    test("the same dedup_key while the job is active answers 200 with that job", async () => {
      const first = await json<JobRecord>(
        await call(app, "POST", "/api/v1/jobs", { name: "echo", payload: { text: "a" }, dedup_key: "k", delay_ms: 60_000 }),
        202,
      );
      const again = await json<JobRecord>(
        await call(app, "POST", "/api/v1/jobs", { name: "echo", payload: { text: "b" }, dedup_key: "k" }),
        200,
      );
      assert.equal(again.id, first.id);
      await runner.cancel(first.id);
    });

    test("bad bodies are 422 problems naming the field, and nothing is stored", async () => {
      const count = (await runner.list()).length;
      for (const [body, loc] of [
        [{ payload: {} }, "name"],
        [{ name: "echo", payload: { text: 1 } }, "payload"],
        [{ name: "missing", payload: {} }, "name"],
        [{ name: "echo", payload: { text: "x" }, priority: "high" }, "priority"],
        [{ name: "echo", payload: { text: "x" }, max_attempts: 0 }, "max_attempts"],
        [{ name: "echo", payload: { text: "x" }, depends_on: ["nope"] }, "depends_on"],
        [{ name: "echo", payload: { text: "x" }, depends_on: [newUlid()] }, "depends_on"],
        [{ name: "echo", payload: { text: "x" }, run_at: "2030-01-01T00:00:00Z", delay_ms: 5 }, "run_at"],
      ] as const) {
        const response = await call(app, "POST", "/api/v1/jobs", body);
        assert.equal(response.status, 422, JSON.stringify(body));
        assert.match(response.headers.get("content-type") ?? "", /problem\+json/);
        const problem = await response.json() as { errors: { loc: unknown[] }[] };
        assert.equal(problem.errors[0]!.loc[1], loc, JSON.stringify(problem));
      }
      assert.equal((await runner.list()).length, count);
    });

    test("dead letters are listed with ?status_filter=failed&dead_letter=true and $retry re-queues one", async () => {
      const job = await json<JobRecord>(await call(app, "POST", "/api/v1/jobs", { name: "once", payload: {} }), 202);
      await runner.wait(job.id, 10_000);
      const letters = await json<JobRecord[]>(
        await call(app, "GET", "/api/v1/jobs?status_filter=failed&dead_letter=true"),
        200,
      );
      assert.deepEqual(letters.map((item) => item.id), [job.id]);
      const others = await json<JobRecord[]>(await call(app, "GET", "/api/v1/jobs?dead_letter=false"), 200);
      assert.ok(others.every((item) => item.id !== job.id));
      assert.equal((await call(app, "GET", "/api/v1/jobs?dead_letter=maybe")).status, 422);
      const retried = await json<JobRecord>(await call(app, "POST", `/api/v1/jobs/${job.id}/$retry`), 200);
      assert.equal(retried.status, "pending");
      assert.equal((await runner.wait(job.id, 10_000)).status, "completed");
      assert.equal((await call(app, "POST", `/api/v1/jobs/${job.id}/$retry`)).status, 409);
      assert.equal((await call(app, "POST", `/api/v1/jobs/${newUlid()}/$retry`)).status, 404);
      assert.equal((await call(app, "POST", "/api/v1/jobs/bad/$retry")).status, 400);
    });
  });
}
