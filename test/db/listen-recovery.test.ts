/**
 * `listen` subscriptions outlive outages of PostgreSQL (a real server behind a
 * TCP proxy the test cuts): after the breaker replaced the pool, or after the
 * listening connection alone dropped, LISTEN is sent again and a NOTIFY sent
 * after recovery reaches the subscriber, the job runner and the event outbox,
 * none of which polls within the test.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Type } from "@sinclair/typebox";
import type { ServiceEvent } from "../../src/core/events/types.ts";
import type { Driver } from "../../src/db/driver.ts";
import { EVENT_OUTBOX_MIGRATIONS, OutboxJournal } from "../../src/db/event-outbox.ts";
import { migrate } from "../../src/db/migrate.ts";
import { openDatabase } from "../../src/db/open.ts";
import { JOBS_CHANNEL } from "../../src/modules/jobs/migrations.ts";
import { InProcessJobRunner } from "../../src/modules/jobs/runner.ts";
import { DATABASE_URL } from "../_support/stores.ts";
import { eventually, jobStoreOn } from "../modules/jobs/_support.ts";
import { databaseUrlAt, postgresProxy } from "./_tcp-proxy.ts";

const schema = `chapkit_listen_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
const CHANNEL = `${schema}_channel`;

describe("listen subscriptions across a PostgreSQL outage", () => {
  const proxy = postgresProxy();
  /** The store behind the proxy, with its breaker. */
  let db: Driver;
  /** The same schema reached directly: another instance that stays connected. */
  let direct: Driver;
  const received: string[] = [];
  let relistened = 0;
  let runnerRelistened = 0;
  let worker: InProcessJobRunner;
  let producer: InProcessJobRunner;
  const delivered: ServiceEvent[] = [];
  let stops: (() => Promise<void>)[] = [];
  const handler = { payload: Type.Object({}), run: () => "done" };

  /** Cuts the store and makes the breaker open (its pool is then replaced). */
  const cutUntilOpen = async (): Promise<void> => {
    await proxy.cut();
    await eventually(async () => {
      await db.query("SELECT 1").catch(() => {});
      return db.circuit?.state === "open";
    });
  };

  before(async () => {
    await proxy.listen();
    db = await openDatabase(databaseUrlAt(proxy.port), {
      postgres: { schema, max: 4, connectRetries: 0, connectTimeoutSeconds: 2, breaker: { probeIntervalMs: 50 } },
    });
    direct = await openDatabase(DATABASE_URL, { postgres: { schema, max: 2 } });
    await migrate(db, EVENT_OUTBOX_MIGRATIONS);
    stops.push(await db.listen!(CHANNEL, (payload) => received.push(payload), { onRelisten: () => relistened++ }));

    // The worker polls once a minute and ticks once a minute: only a notification wakes it within the test.
    worker = new InProcessJobRunner({
      store: await jobStoreOn(db),
      queuePollMs: 60_000,
      heartbeatMs: 60_000,
      storeRetryMaxMs: 20,
      listen: (wake) =>
        db.listen!(JOBS_CHANNEL, wake, {
          onRelisten: () => {
            runnerRelistened++;
            wake();
          },
        }),
    });
    worker.register("wake", handler);
    await worker.start();
    // Never started: it only inserts, as another instance would.
    producer = new InProcessJobRunner({ store: await jobStoreOn(direct) });
    producer.register("wake", handler);

    const journal = new OutboxJournal(db, { origin: "listener", listen: (channel, onNotify, options) => db.listen!(channel, onNotify, options) });
    stops.push(await journal.listen((events) => delivered.push(...events)));
  });

  after(async () => {
    await proxy.listen().catch(() => {});
    for (const stop of stops) await stop().catch(() => {});
    stops = [];
    await worker.close();
    await producer.close();
    await db.close();
    await direct.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await direct.close();
    await proxy.cut();
  });

  it("delivers a NOTIFY sent after the breaker replaced the pool and closed again", async () => {
    await direct.exec("SELECT pg_notify(?, ?)", [CHANNEL, "before"]);
    await eventually(() => received.includes("before"));
    const relistenedBefore = relistened;
    await cutUntilOpen();
    await proxy.listen();
    await eventually(() => db.circuit?.state === "closed" && relistened > relistenedBefore);
    await direct.exec("SELECT pg_notify(?, ?)", [CHANNEL, "after the new pool"]);
    await eventually(() => received.includes("after the new pool"), 5_000);
  });

  it("wakes a waiting runner with the NOTIFY of a job enqueued elsewhere after recovery", async () => {
    const relistenedBefore = runnerRelistened;
    await cutUntilOpen();
    await proxy.listen();
    await eventually(() => db.circuit?.state === "closed" && runnerRelistened > relistenedBefore);
    // The wake-ups of the recovery itself are spent before the job exists.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const { record } = await producer.enqueue("wake", {});
    const done = await worker.wait(record.id, 10_000);
    assert.equal(done.status, "completed");
  });

  it("delivers another instance's events through the outbox after recovery", async () => {
    const relistenedBefore = relistened;
    await cutUntilOpen();
    await proxy.listen();
    // The outbox shares the breaker and pool with the plain subscription: both listen again together.
    await eventually(() => db.circuit?.state === "closed" && relistened > relistenedBefore);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const other = new OutboxJournal(direct, { origin: "other", listen: direct.listen! });
    const event: ServiceEvent = {
      id: "01M8PK5J4MS1H8BRZJCX86Z092",
      type: "entity.created",
      timestamp: new Date().toISOString(),
      data: { collection: "notes", id: "01M8PK5J4MS1H8BRZJCX86Z093", entity: { text: "after the outage" } },
    };
    await other.append([event]);
    await eventually(() => delivered.length > 0, 5_000);
    assert.deepEqual(delivered.at(-1), event);
  });

  it("listens again on the same pool when only the listening connection dropped", async () => {
    const relistenedBefore = relistened;
    // Cut and restored at once: too short for the breaker, the connections reconnect by themselves.
    await proxy.cut();
    await proxy.listen();
    await eventually(() => relistened > relistenedBefore, 10_000);
    assert.equal(db.circuit?.state, "closed");
    await direct.exec("SELECT pg_notify(?, ?)", [CHANNEL, "after the reconnection"]);
    await eventually(() => received.includes("after the reconnection"), 5_000);
  });
});
