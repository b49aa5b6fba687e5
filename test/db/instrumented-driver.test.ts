/** The monitoring wrapper of a store changes nothing but timing: notifications pass through it. */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { instrumentDriver } from "../../src/db/instrumented-driver.ts";
import { Monitoring } from "../../src/observability/monitoring.ts";
import { memoryStore, postgresStore } from "../_support/stores.ts";
import { eventually } from "../modules/jobs/_support.ts";

describe("the instrumented driver on postgres", () => {
  const store = postgresStore();
  after(() => store.cleanup());

  it("passes listen through: a NOTIFY reaches the subscriber until it unsubscribes", async () => {
    const raw = await store.open();
    const db = instrumentDriver(raw, new Monitoring({ processMetrics: false }));
    try {
      assert.equal(typeof db.listen, "function");
      const channel = `chapkit_instrumented_${Date.now().toString(36)}`;
      const received: string[] = [];
      const stop = await db.listen!(channel, (payload) => received.push(payload));
      await db.exec("SELECT pg_notify(?, ?)", [channel, "first"]);
      await eventually(() => received.includes("first"));
      await stop();
      await db.exec("SELECT pg_notify(?, ?)", [channel, "second"]);
      await raw.query("SELECT pg_sleep(0.1)");
      assert.deepEqual(received, ["first"]);
    } finally {
      await raw.close();
    }
  });
});

describe("the instrumented driver on sqlite", () => {
  const store = memoryStore();
  after(() => store.cleanup());

  it("has no listen when the store has none, so callers poll", async () => {
    const raw = await store.open();
    try {
      assert.equal(raw.listen, undefined);
      assert.equal(instrumentDriver(raw, new Monitoring({ processMetrics: false })).listen, undefined);
    } finally {
      await raw.close();
    }
  });
});
