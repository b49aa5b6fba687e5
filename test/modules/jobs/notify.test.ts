/** PostgreSQL wakes idle runners with NOTIFY: a job enqueued elsewhere is claimed without waiting for a poll. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Type } from "@sinclair/typebox";
import type { Driver } from "../../../src/db/driver.ts";
import { JOBS_CHANNEL } from "../../../src/modules/jobs/migrations.ts";
import { InProcessJobRunner } from "../../../src/modules/jobs/runner.ts";
import { postgresStore } from "../../_support/stores.ts";
import { jobStoreOn } from "./_support.ts";

describe("wake-ups through LISTEN/NOTIFY on postgres", () => {
  const store = postgresStore();
  let db: Driver;
  let worker: InProcessJobRunner;
  let producer: InProcessJobRunner;
  const handler = { payload: Type.Object({}), run: () => "done" };

  before(async () => {
    db = await store.open();
    const jobs = await jobStoreOn(db);
    // The worker polls once a minute: only a notification can make it claim within the test.
    worker = new InProcessJobRunner({ store: jobs, queuePollMs: 60_000, listen: (wake) => db.listen!(JOBS_CHANNEL, wake) });
    worker.register("wake", handler);
    await worker.start();
    // The producer never starts, so it never claims: it only inserts, as another instance would.
    producer = new InProcessJobRunner({ store: jobs });
    producer.register("wake", handler);
  });
  after(async () => {
    await worker.close();
    await producer.close();
    await db.close();
    await store.cleanup();
  });

  test("a job inserted by another runner is claimed by the idle listener long before its next poll", async () => {
    await new Promise((resolve) => setTimeout(resolve, 100)); // the worker's first poll has passed
    const { record } = await producer.enqueue("wake", {});
    const done = await worker.wait(record.id, 20_000);
    assert.equal(done.status, "completed");
  });
});
