import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { InProcessJobRunner } from "../../../src/modules/jobs/runner.ts";
import { jobInterruptedError, type JobLease } from "../../../src/modules/jobs/job-store.ts";
import type { JobRecord, JobStatus } from "../../../src/modules/jobs/types.ts";
import { newUlid } from "../../../src/core/ulid.ts";
import type { Driver } from "../../../src/db/driver.ts";
import { openDatabase } from "../../../src/db/open.ts";
import { SqlJobStore } from "../../../src/modules/jobs/store.ts";
import { DATABASE_URL, type TestStore, testStores } from "../../_support/stores.ts";
import { eventually, jobStoreOn, runnerOn } from "./_support.ts";

const MINUTE = 60_000;

function ago(ms: number): string {
  return new Date(Date.now() - ms).toISOString();
}

function foreignRecord(status: JobStatus): JobRecord {
  const submitted = ago(2 * MINUTE);
  return {
    id: newUlid(),
    status,
    submitted_at: submitted,
    started_at: status === "running" ? submitted : null,
    finished_at: null,
    error: null,
    error_traceback: null,
    artifact_id: null,
  };
}

async function insertForeign(store: SqlJobStore, status: JobStatus, lease: Partial<JobLease> = {}): Promise<string> {
  const record = foreignRecord(status);
  await store.insert(record, { owner: newUlid(), ownerKey: null, heartbeatAt: ago(5 * MINUTE), ...lease });
  return record.id;
}

/** The same store opened again, as a restarted process would (memory stores keep their one connection). */
async function reopen(store: TestStore, db: Driver): Promise<Driver> {
  if (store.name.includes("memory")) return db;
  await db.close();
  if (store.kind === "postgres") {
    const schema = new URL(store.url()).searchParams.get("search_path")!;
    return openDatabase(DATABASE_URL, { postgres: { schema, max: 4 } });
  }
  return openDatabase(store.url());
}

for (const store of testStores()) {
  describe(`job leases and persistence on ${store.name}`, () => {
    let db: Driver;
    const runners: InProcessJobRunner[] = [];
    const track = (runner: InProcessJobRunner): InProcessJobRunner => {
      runners.push(runner);
      return runner;
    };

    before(async () => {
      db = await store.open();
    });
    afterEach(async () => {
      for (const runner of runners.splice(0)) await runner.close();
    });
    after(async () => {
      await db.close();
      await store.cleanup();
    });

    test("finished jobs are still listed after the store is reopened by a new runner", async () => {
      const first = track(await runnerOn(db));
      const ok = await first.submit(() => newUlid());
      const bad = await first.submit(() => {
        throw new Error("nope");
      });
      const okRecord = await first.wait(ok, 10_000);
      const badRecord = await first.wait(bad, 10_000);
      await first.close();
      db = await reopen(store, db);
      const second = track(await runnerOn(db));
      assert.deepEqual(await second.get(ok), okRecord);
      assert.deepEqual(await second.get(bad), badRecord);
      const ids = (await second.list()).map((record) => record.id);
      assert.ok(ids.includes(ok) && ids.includes(bad));
    });

    test("at start-up, active jobs whose lease expired fail as interrupted", async () => {
      const jobs = await jobStoreOn(db);
      const owner = newUlid();
      const running = await insertForeign(jobs, "running", { owner });
      const pending = await insertForeign(jobs, "pending", { owner });
      const runner = track(await runnerOn(db, { leaseTtlMs: MINUTE }));
      for (const id of [running, pending]) {
        const record = await runner.get(id);
        assert.equal(record.status, "failed");
        assert.equal(record.error, jobInterruptedError(owner));
        assert.match(record.error!, /^JobInterrupted: Job was interrupted: its instance .* stopped before it finished$/);
        assert.ok(record.finished_at);
        assert.equal(record.artifact_id, null);
      }
    });

    test("a job with a fresh heartbeat from another instance is left alone at start-up and by sweeps", async () => {
      const jobs = await jobStoreOn(db);
      const live = await insertForeign(jobs, "running", { heartbeatAt: new Date().toISOString(), ownerKey: "other" });
      const runner = track(await runnerOn(db, { leaseTtlMs: MINUTE, heartbeatMs: 20, identity: "this-one" }));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const record = await runner.get(live);
      assert.equal(record.status, "running");
      assert.equal(record.error, null);
    });

    test("at start-up, active jobs left by an earlier run under the same identity fail at once", async () => {
      const jobs = await jobStoreOn(db);
      const earlier = newUlid();
      const id = await insertForeign(jobs, "running", {
        owner: earlier,
        ownerKey: "service-a",
        heartbeatAt: new Date().toISOString(),
      });
      const runner = track(await runnerOn(db, { identity: "service-a", leaseTtlMs: MINUTE }));
      const record = await runner.get(id);
      assert.equal(record.status, "failed");
      assert.equal(record.error, jobInterruptedError(earlier));
    });

    test("the periodic sweep fails a job whose lease expires while the runner runs", async () => {
      const runner = track(await runnerOn(db, { heartbeatMs: 25, leaseTtlMs: 30 * 1000 }));
      const jobs = await jobStoreOn(db);
      const id = await insertForeign(jobs, "running");
      await eventually(async () => (await runner.get(id)).status === "failed");
      assert.match((await runner.get(id)).error!, /^JobInterrupted: /);
    });

    test("heartbeats keep a long job's lease alive while other runners sweep", async () => {
      // The lease is long next to the heartbeat, so a loaded machine's pauses do not outlast it;
      // the wait below still outlasts the lease, which would expire without heartbeats.
      const owner = track(await runnerOn(db, { heartbeatMs: 20, leaseTtlMs: 1000 }));
      let release!: () => void;
      const id = await owner.submit(() => new Promise<void>((resolve) => (release = resolve)));
      await eventually(async () => (await owner.get(id)).status === "running");
      track(await runnerOn(db, { heartbeatMs: 20, leaseTtlMs: 1000 }));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal((await owner.get(id)).status, "running");
      release();
      assert.equal((await owner.wait(id, 10_000)).status, "completed");
    });

    test("a cancel from another instance aborts the owner's running function", async () => {
      const owner = track(await runnerOn(db, { heartbeatMs: 20 }));
      const other = track(await runnerOn(db, { heartbeatMs: 20 }));
      let aborted = false;
      const id = await owner.submit(({ signal }) =>
        new Promise<void>((resolve) =>
          signal.addEventListener("abort", () => {
            aborted = true;
            resolve();
          })
        )
      );
      await eventually(async () => (await owner.get(id)).status === "running");
      assert.equal((await other.cancel(id)).status, "canceled");
      await eventually(() => aborted);
      assert.equal((await owner.get(id)).status, "canceled");
    });

    test("concurrent sweeps fail each abandoned job exactly once", async () => {
      const jobs = await jobStoreOn(db);
      const ids = new Set<string>();
      for (let i = 0; i < 20; i++) ids.add(await insertForeign(jobs, i % 2 ? "running" : "pending"));
      const second = store.kind === "postgres" ? await reopenExtra(store) : db;
      try {
        const now = new Date().toISOString();
        const options = { now, staleBefore: ago(MINUTE) };
        const results = await Promise.all([
          jobs.sweep(options),
          new SqlJobStore(second).sweep(options),
          jobs.sweep(options),
        ]);
        const swept = results.flat().map((record) => record.id).filter((id) => ids.has(id));
        assert.equal(swept.length, ids.size);
        assert.equal(new Set(swept).size, ids.size);
      } finally {
        if (second !== db) await second.close();
      }
    });

    test("close fails the jobs still active as interrupted by this instance", async () => {
      const runner = new InProcessJobRunner({ store: await jobStoreOn(db), cancelGraceMs: 100 });
      await runner.start();
      const id = await runner.submit(() => new Promise(() => {}));
      await eventually(async () => (await runner.get(id)).status === "running");
      await runner.close();
      const record = await new SqlJobStore(db).get(id);
      assert.equal(record!.status, "failed");
      assert.equal(record!.error, jobInterruptedError(runner.instanceId));
    });
  });
}

async function reopenExtra(store: TestStore): Promise<Driver> {
  const schema = new URL(store.url()).searchParams.get("search_path")!;
  return openDatabase(DATABASE_URL, { postgres: { schema, max: 2 } });
}
