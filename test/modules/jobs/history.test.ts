/**
 * The history of finished jobs: finished jobs move from `jobs` to
 * `job_history` (range-partitioned by `finished_at` on PostgreSQL) and stay
 * readable, listable, deletable and usable as dependencies; live jobs never
 * move.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Type } from "@sinclair/typebox";
import { type Partitions, PARTITIONS_KEY } from "../../../src/db/partitions.ts";
import { SqlJobStore } from "../../../src/modules/jobs/store.ts";
import { intervalStart, partitionName } from "../../../src/db/partitions.ts";
import { postgresStore, sqliteFileStore } from "../../_support/stores.ts";
import { eventually, gate, jobsApp } from "./_support.ts";

for (const makeStore of [sqliteFileStore, postgresStore]) {
  const store = makeStore();
  describe(`job history on ${store.name}`, () => {
    test("moves finished jobs to the history, where they are read, listed, depended on and deleted; live jobs stay", { timeout: 60_000 }, async () => {
      const hold = gate();
      const jobs = await jobsApp(store, { queuePollMs: 20, history: { archiveAfterMs: 3_600_000, interval: "day", retention: 7 } });
      try {
        jobs.runner.register("echo", { payload: Type.Object({ n: Type.Integer() }), run: ({ n }) => n });
        jobs.runner.register("held", { payload: Type.Object({}), run: () => hold.promise });
        const done = await jobs.runner.enqueue("echo", { n: 1 });
        const live = await jobs.runner.enqueue("held", {});
        await eventually(async () => (await jobs.runner.get(done.record.id)).status === "completed");
        const moved = await new SqlJobStore(jobs.db).archive(new Date(Date.now() + 1000).toISOString());
        assert.equal(moved, 1, "only the finished job moves");
        const inJobs = await jobs.db.query<{ id: string }>("SELECT id FROM jobs");
        assert.deepEqual(inJobs.map((row) => row.id), [live.record.id]);
        assert.equal((await jobs.runner.get(done.record.id)).status, "completed");
        const listed = await jobs.runner.list();
        assert.deepEqual(listed.map((job) => job.id).sort(), [done.record.id, live.record.id].sort());
        // A job that depends on an archived, completed job runs.
        const next = await jobs.runner.enqueue("echo", { n: 2 }, { dependsOn: [done.record.id] });
        await eventually(async () => (await jobs.runner.get(next.record.id)).status === "completed");
        if (jobs.db.dialect === "postgres") {
          const part = await jobs.db.query<{ part: string }>("SELECT tableoid::regclass::text AS part FROM job_history WHERE id = ?", [done.record.id]);
          const today = partitionName("job_history", intervalStart(new Date(), "day"));
          // Today's partition exists only when no row of today reached the default partition first.
          assert.ok(part[0]?.part === today || part[0]?.part === "job_history_default", part[0]?.part);
          const policy = jobs.app.chapkit.context.get<Partitions>(PARTITIONS_KEY).tables.get("job_history");
          assert.deepEqual(policy, { column: "finished_at", interval: "day", ahead: 3, retention: 7 });
        }
        await jobs.runner.delete(done.record.id);
        assert.equal((await jobs.db.query("SELECT id FROM job_history WHERE id = ?", [done.record.id])).length, 0);
      } finally {
        hold.open();
        await jobs.close();
      }
    });
  });
}
