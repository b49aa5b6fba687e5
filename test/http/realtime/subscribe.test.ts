/**
 * `GET {collection}/$subscribe` over real HTTP: matching events with ids,
 * filters, resume with `Last-Event-ID`, heartbeats, row visibility, a bad
 * filter as a problem; and, on PostgreSQL, a change made through one process
 * reaching a subscriber of another.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Type } from "@sinclair/typebox";
import type { ServiceEvent } from "../../../src/core/events/types.ts";
import { ROW_VISIBILITY_KEY, type RowVisibility } from "../../../src/http/realtime/visibility.ts";
import { type RunningServer, serve } from "../../../src/runtime/serve.ts";
import type { ServiceApp } from "../../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../../src/service/service-builder.ts";
import { startService } from "../../_support/service-process.ts";
import { postgresStore } from "../../_support/stores.ts";
import { type EventStream, openStream } from "./_sse.ts";

const hideSecret: RowVisibility = (_viewer, event) => (event.data.entity as { name?: string }).name !== "secret";

async function create(base: string, name: string, k = 1): Promise<{ id: string }> {
  const response = await fetch(`${base}/api/v1/config`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, data: { k } }),
  });
  assert.equal(response.status, 201);
  return await response.json() as { id: string };
}

describe("config $subscribe over HTTP (SQLite)", () => {
  let app: ServiceApp;
  let server: RunningServer;
  let base: string;
  const open: EventStream[] = [];
  const stream = async (query = "", headers: Record<string, string> = {}): Promise<EventStream> => {
    const s = await openStream(`${base}/api/v1/config/$subscribe${query}`, headers);
    open.push(s);
    return s;
  };

  before(async () => {
    app = await new ServiceBuilder({ info: { display_name: "Realtime" } })
      .withSettings({ env: {} })
      .withConfig(Type.Object({ k: Type.Integer({ default: 3 }) }))
      .withRealtime({ heartbeatMs: 50 })
      .module({ name: "row-policy", setup: (context) => context.provide(ROW_VISIBILITY_KEY, hideSecret) })
      .build();
    server = await serve((request) => app.handle(request), { port: 0 });
    base = `http://127.0.0.1:${server.port}`;
  });
  after(async () => {
    for (const s of open) await s.close();
    await server.stop(1000);
    await app.chapkit.close();
  });

  test("streams each committed change as an event whose id: is the event id", async () => {
    const events = await stream();
    const config = await create(base, "first");
    const { id, data } = await events.next();
    const event = data as ServiceEvent;
    assert.equal(event.id, id);
    assert.equal(event.type, "entity.created");
    assert.equal(event.data.collection, "configs");
    assert.equal(event.data.id, config.id);
    assert.deepEqual(event.data.entity, config);
  });

  test("a filter over the entity and a list of types select the events", async () => {
    const events = await stream(`?filter=${encodeURIComponent("data.k >= 10")}&types=entity.created`);
    await create(base, "small", 1);
    await create(base, "big", 12);
    const { data } = await events.next();
    assert.equal(((data as ServiceEvent).data.entity as { name: string }).name, "big");
  });

  test("a reconnecting client resumes after Last-Event-ID without missing an event", async () => {
    const events = await stream();
    await create(base, "r1");
    const first = await events.next();
    await events.close();
    await create(base, "r2");
    await create(base, "r3");
    const resumed = await stream("", { "last-event-id": first.id! });
    const names = [];
    for (let i = 0; i < 2; i++) names.push((((await resumed.next()).data as ServiceEvent).data.entity as { name: string }).name);
    assert.deepEqual(names, ["r2", "r3"]);
  });

  test("an idle stream sends heartbeat comments", async () => {
    const events = await stream();
    await events.comment("heartbeat");
  });

  test("rows the viewer may not see are left out", async () => {
    const events = await stream();
    await create(base, "secret");
    await create(base, "public");
    const { data } = await events.next();
    assert.equal(((data as ServiceEvent).data.entity as { name: string }).name, "public");
  });

  test("a bad filter answers a 400 invalid-query problem", async () => {
    const response = await fetch(`${base}/api/v1/config/$subscribe?filter=${encodeURIComponent("nope = 1")}`);
    assert.equal(response.status, 400);
    assert.match(response.headers.get("content-type") ?? "", /application\/problem\+json/);
    const problem = await response.json() as { type: string };
    assert.equal(problem.type, "urn:chapkit:error:invalid-query");
  });
});

describe("config $subscribe across two processes on one PostgreSQL", () => {
  const store = postgresStore();
  const stopped: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const stop of stopped) await stop();
    await store.cleanup();
  });

  test("a change made through one process reaches a subscriber of the other", async () => {
    await (await store.open()).close();
    const env = { DATABASE_URL: store.url() };
    const script = new URL("./_realtime-server.ts", import.meta.url).pathname;
    const a = await startService(script, env);
    stopped.push(() => a.stop());
    const b = await startService(script, env);
    stopped.push(() => b.stop());
    assert.ok(a.port && b.port, a.output() + b.output());
    const events = await openStream(`${b.url}/api/v1/config/$subscribe`);
    stopped.unshift(() => events.close());
    const config = await create(a.url, "from-a");
    const { data } = await events.next();
    assert.equal((data as ServiceEvent).data.id, config.id);
  });
});
