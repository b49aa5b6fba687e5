import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Type } from "@sinclair/typebox";
import { ConflictError, NotFoundError } from "../../../src/core/errors.ts";
import type { ClaimedJob } from "../../../src/modules/jobs/job-store.ts";
import { InProcessJobRunner } from "../../../src/modules/jobs/runner.ts";
import { SqlJobStore } from "../../../src/modules/jobs/store.ts";
import type { JobContext } from "../../../src/modules/jobs/types.ts";
import { newUlid } from "../../../src/core/ulid.ts";
import type { Driver } from "../../../src/db/driver.ts";
import { testStores } from "../../_support/stores.ts";
import { eventually, gate, jobStoreOn, runnerOn } from "./_support.ts";

const KEYS = ["id", "status", "submitted_at", "started_at", "finished_at", "error", "error_traceback", "artifact_id"];
const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/**
 * The SQL job store, whose next claim can be held on its way until the test lets it go on; it
 * then runs as if issued that millisecond (a claim's `now` bounds which jobs it sees).
 */
class HeldClaims extends SqlJobStore {
  hold: { entered: () => void; until: Promise<void>; done: () => void } | undefined;

  override async claim(options: Parameters<SqlJobStore["claim"]>[0]): Promise<ClaimedJob[]> {
    const hold = this.hold;
    if (!hold) return super.claim(options);
    this.hold = undefined;
    hold.entered();
    await hold.until;
    try {
      return await super.claim({ ...options, now: new Date().toISOString() });
    } finally {
      hold.done();
    }
  }
}

for (const store of testStores()) {
  describe(`in-process job runner on ${store.name}`, () => {
    let db: Driver;
    const runners: InProcessJobRunner[] = [];
    const open = async (options: Parameters<typeof runnerOn>[1] = {}): Promise<InProcessJobRunner> => {
      const runner = await runnerOn(db, options);
      runners.push(runner);
      return runner;
    };

    before(async () => {
      db = await store.open();
    });
    after(async () => {
      for (const runner of runners) await runner.close();
      await db.close();
      await store.cleanup();
    });

    test("a job completes with every record key in contract order and millisecond UTC timestamps", async () => {
      const runner = await open();
      const id = await runner.submit(() => "done");
      const record = await runner.wait(id, 10_000);
      assert.deepEqual(Object.keys(record), KEYS);
      assert.equal(record.status, "completed");
      assert.match(record.submitted_at, ISO_MS);
      assert.match(record.started_at!, ISO_MS);
      assert.match(record.finished_at!, ISO_MS);
      assert.ok(record.submitted_at <= record.started_at! && record.started_at! <= record.finished_at!);
      assert.equal(record.error, null);
      assert.equal(record.error_traceback, null);
    });

    test("a function job is stored running at once when a slot is free, and pending while none is", async () => {
      const runner = await open({ maxConcurrency: 1 });
      const hold = gate();
      const first = await runner.submit(() => hold.promise);
      assert.equal((await runner.get(first)).status, "running");
      const second = await runner.submit(() => "second");
      assert.equal((await runner.get(second)).status, "pending");
      hold.open();
      assert.equal((await runner.wait(second, 10_000)).status, "completed");
      assert.deepEqual(await runner.wait(first, 10_000), await runner.get(first));
    });

    test("jobs enqueued inside a caller's transaction run and end after it commits", async () => {
      // The claim outside the transaction cannot see the job before the commit: the next poll takes it.
      const runner = await open({ queuePollMs: 20 });
      runner.register("in-tx", { payload: Type.Object({}), run: () => "ran" });
      const id = await db.transaction(async () => (await runner.enqueue("in-tx", {})).record.id);
      assert.equal((await runner.wait(id, 10_000)).status, "completed");
    });

    test("a job returning a ULID sets artifact_id; any other value leaves it null", async () => {
      const runner = await open();
      const artifact = newUlid();
      const withUlid = await runner.wait(await runner.submit(async () => artifact), 10_000);
      const withText = await runner.wait(await runner.submit(() => "not-a-ulid"), 10_000);
      const withObject = await runner.wait(await runner.submit(() => ({ id: artifact })), 10_000);
      assert.equal(withUlid.artifact_id, artifact);
      assert.equal(withText.artifact_id, null);
      assert.equal(withObject.artifact_id, null);
    });

    test("a throwing job fails with the last line of '<ErrorName>: <message>' and its stack as traceback", async () => {
      const runner = await open();
      const id = await runner.submit(() => {
        throw new RangeError("Training failed:\nInsufficient training data: 2 < 5");
      });
      const record = await runner.wait(id, 10_000);
      assert.equal(record.status, "failed");
      assert.equal(record.error, "Insufficient training data: 2 < 5");
      assert.match(record.error_traceback!, /RangeError: Training failed:/);
      assert.match(record.error_traceback!, /\n\s+at /);
      assert.equal(record.artifact_id, null);
      assert.ok(record.finished_at);
    });

    test("a rejected promise with a non-error value still fails the job", async () => {
      const runner = await open();
      const record = await runner.wait(await runner.submit(() => Promise.reject("boom")), 10_000);
      assert.equal(record.status, "failed");
      assert.equal(record.error, "Error: boom");
    });

    test("at most maxConcurrency jobs run; the rest stay pending until a slot frees", async () => {
      const runner = await open({ maxConcurrency: 2 });
      const hold = gate();
      let active = 0;
      let peak = 0;
      const job = async (): Promise<void> => {
        active += 1;
        peak = Math.max(peak, active);
        await hold.promise;
        active -= 1;
      };
      const ids = [];
      for (let i = 0; i < 4; i++) ids.push(await runner.submit(job));
      await eventually(() => active === 2);
      const statuses = await Promise.all(ids.map(async (id) => (await runner.get(id)).status));
      assert.deepEqual(statuses.filter((s) => s === "running").length, 2);
      assert.deepEqual(statuses.filter((s) => s === "pending").length, 2);
      const pending = await runner.get(ids[3]!);
      assert.equal(pending.started_at, null);
      hold.open();
      for (const id of ids) assert.equal((await runner.wait(id, 10_000)).status, "completed");
      assert.equal(peak, 2);
    });

    test("maxConcurrency null or 0 runs every job at once", async () => {
      for (const maxConcurrency of [null, 0]) {
        const runner = await open({ maxConcurrency });
        const hold = gate();
        let active = 0;
        const ids = [];
        for (let i = 0; i < 6; i++) {
          ids.push(await runner.submit(async () => {
            active += 1;
            await hold.promise;
          }));
        }
        await eventually(() => active === 6);
        hold.open();
        for (const id of ids) assert.equal((await runner.wait(id, 10_000)).status, "completed");
      }
    });

    test("cancel aborts the running job's signal and keeps the record as canceled", async () => {
      const runner = await open();
      let seen: JobContext | undefined;
      const id = await runner.submit((context) => {
        seen = context;
        return new Promise((_, reject) => context.signal.addEventListener("abort", () => reject(context.signal.reason)));
      });
      await eventually(async () => (await runner.get(id)).status === "running");
      const record = await runner.cancel(id);
      assert.equal(record.status, "canceled");
      assert.ok(record.finished_at);
      assert.equal(seen!.signal.aborted, true);
      assert.equal(seen!.jobId, id);
      const later = await runner.wait(id, 10_000);
      assert.equal(later.status, "canceled");
      assert.equal(later.error, null);
    });

    test("a canceled pending job never runs", async () => {
      const runner = await open({ maxConcurrency: 1 });
      const hold = gate();
      const first = await runner.submit(() => hold.promise);
      let ran = false;
      const second = await runner.submit(() => {
        ran = true;
      });
      const record = await runner.cancel(second);
      assert.equal(record.status, "canceled");
      assert.equal(record.started_at, null);
      hold.open();
      await runner.wait(first, 10_000);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(ran, false);
      assert.equal((await runner.get(second)).status, "canceled");
    });

    test("a job submitted while a claim is on its way waits for it: no more jobs are claimed than may run", async () => {
      await jobStoreOn(db);
      const jobs = new HeldClaims(db);
      const runner = new InProcessJobRunner({ store: jobs, maxConcurrency: 1 });
      runners.push(runner);
      await runner.start();
      // Registering a handler wakes the runner: its claim, sized for the one free slot, is held on its way.
      const entered = gate();
      const held = gate();
      const done = gate();
      jobs.hold = { entered: entered.open, until: held.promise, done: done.open };
      runner.register("noop", { payload: Type.Object({}), run: () => {} });
      await entered.promise;
      const release = gate();
      const first = await runner.submit(() => release.promise);
      const second = await runner.submit(() => "second");
      held.open();
      await done.promise;
      await eventually(async () => (await runner.get(first)).status === "running");
      // The claim took the first job for the slot; the second is still pending, never stored started.
      const waiting = await runner.get(second);
      assert.equal(waiting.status, "pending");
      assert.equal(waiting.started_at, null);
      release.open();
      assert.equal((await runner.wait(second, 10_000)).status, "completed");
      assert.equal((await runner.get(first)).status, "completed");
    });

    test("canceling a finished job is a conflict and changes nothing", async () => {
      const runner = await open();
      const id = await runner.submit(() => 1);
      await runner.wait(id, 10_000);
      await assert.rejects(runner.cancel(id), ConflictError);
      assert.equal((await runner.get(id)).status, "completed");
    });

    test("delete cancels an active job, waits for it and removes the record", async () => {
      const runner = await open();
      let settled = false;
      const id = await runner.submit(({ signal }) =>
        new Promise<void>((resolve) =>
          signal.addEventListener("abort", () => {
            settled = true;
            resolve();
          })
        )
      );
      await eventually(async () => (await runner.get(id)).status === "running");
      await runner.delete(id);
      assert.equal(settled, true);
      await assert.rejects(runner.get(id), NotFoundError);
      assert.equal((await runner.list()).some((record) => record.id === id), false);
    });

    test("unknown jobs are not found on get, cancel, delete and wait", async () => {
      const runner = await open();
      const id = newUlid();
      await assert.rejects(runner.get(id), NotFoundError);
      await assert.rejects(runner.cancel(id), NotFoundError);
      await assert.rejects(runner.delete(id), NotFoundError);
      await assert.rejects(runner.wait(id, 10), NotFoundError);
    });

    test("wait returns the still-active record when its timeout passes first", async () => {
      const runner = await open();
      const hold = gate();
      const id = await runner.submit(() => hold.promise);
      const record = await runner.wait(id, 50);
      assert.ok(record.status === "pending" || record.status === "running");
      hold.open();
      assert.equal((await runner.wait(id, 10_000)).status, "completed");
    });

    test("list is newest first and filters by status", async () => {
      const runner = await open();
      const ok = await runner.submit(() => 1);
      await runner.wait(ok, 10_000);
      const bad = await runner.submit(() => {
        throw new Error("x");
      });
      await runner.wait(bad, 10_000);
      const all = await runner.list();
      const ours = all.filter((record) => record.id === ok || record.id === bad).map((record) => record.id);
      assert.deepEqual(ours, [bad, ok]);
      for (let i = 1; i < all.length; i++) assert.ok(all[i - 1]!.submitted_at >= all[i]!.submitted_at);
      const failed = await runner.list({ status: "failed" });
      assert.ok(failed.every((record) => record.status === "failed"));
      assert.ok(failed.some((record) => record.id === bad));
      assert.ok(!failed.some((record) => record.id === ok));
    });
  });
}
