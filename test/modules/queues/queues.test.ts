/**
 * `withQueues()` end to end against the real brokers: chosen events reach
 * RabbitMQ, NATS JetStream and MQTT once their publish job ran (the event id
 * as the message id), an event published while the broker is unreachable is
 * delivered once it is back (the job queue retries), and consumed messages
 * become jobs exactly once however often the broker delivers them.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Type } from "@sinclair/typebox";
import type { IncomingMessage, MessageQueue } from "../../../src/integrations/queues/types.ts";
import { PUBLISH_JOB, QueueSources } from "../../../src/modules/queues/mod.ts";
import type { JobRunner } from "../../../src/modules/jobs/types.ts";
import type { ServiceApp } from "../../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../../src/service/service-builder.ts";
import { ensureMosquitto, ensureNats, ensureRabbitMQ, MQTT_URL, NATS_URL, RABBITMQ_URL, runId } from "../../_support/brokers.ts";
import { postgresStore, sqliteFileStore, type TestStore } from "../../_support/stores.ts";
import { TcpProxy } from "../../db/_tcp-proxy.ts";
import { brokerCleanup, type BrokerKind, queueFor } from "../../integrations/_queues.ts";

const BROKERS: Record<BrokerKind, { url: string; port: number; ensure(): Promise<void> }> = {
  rabbitmq: { url: RABBITMQ_URL, port: 5672, ensure: ensureRabbitMQ },
  nats: { url: NATS_URL, port: 4222, ensure: ensureNats },
  mqtt: { url: MQTT_URL, port: 1883, ensure: ensureMosquitto },
};

async function until<T>(read: () => T | Promise<T>, done: (value: T) => boolean, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function call(app: ServiceApp, method: string, path: string, body?: unknown): Promise<Response> {
  return await app.handle(new Request(`http://local${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  }));
}

const json = (message: IncomingMessage) => JSON.parse(new TextDecoder().decode(message.body)) as { id: string; type: string; data: { id: string; entity: { name: string } } };

for (const kind of ["rabbitmq", "nats", "mqtt"] as const) {
  describe(`withQueues and ${kind}`, () => {
    const id = runId(`chapkit_svc_${kind}`);
    const store: TestStore = kind === "nats" ? postgresStore() : sqliteFileStore();
    const proxy = new TcpProxy({ host: "127.0.0.1", port: BROKERS[kind].port });
    const received: IncomingMessage[] = [];
    const handled: unknown[] = [];
    let watcher: MessageQueue;
    let app: ServiceApp;
    let feed: MessageQueue;

    before(async () => {
      await BROKERS[kind].ensure();
      await proxy.listen();
      await (await store.open()).close();
      // What an outside consumer of the sink sees.
      watcher = queueFor(kind, id, { consumer: "watcher" });
      await watcher.consume(async (message) => void received.push(message));
      const through = new URL(BROKERS[kind].url);
      through.port = String(proxy.port);
      const sinkQueue = queueFor(kind, id, { url: through.href.replace(/\/$/, ""), consumer: "unused" });
      feed = queueFor(kind, `${id}_in`, { consumer: "main" });
      app = await new ServiceBuilder({ info: { display_name: "Queues" } })
        .withSettings({ env: {} })
        .withDatabase(store.url())
        .withConfig(Type.Object({ k: Type.Integer({ default: 0 }) }))
        .withJobs({
          queuePollMs: 20,
          handlers: { "orders.import": { payload: Type.Object({ order: Type.String() }), run: (payload: { order: string }) => void handled.push(payload) } },
        })
        .withQueues({
          sinks: [{ name: "configs-out", queue: sinkQueue, types: ["entity.created"], collections: ["configs"], filter: "data.k >= 10" }],
          sources: [{ name: "orders-in", queue: queueFor(kind, `${id}_in`, { consumer: "main" }), job: "orders.import" }],
          maxAttempts: 50,
          backoff: { delay_ms: 100, factor: 1, jitter: false },
        })
        .build();
    });
    after(async () => {
      await app?.chapkit.close();
      await watcher?.close();
      await feed?.close();
      await proxy.cut();
      await brokerCleanup(kind, id, ["watcher", "unused"]);
      await brokerCleanup(kind, `${id}_in`, ["main"]);
      await store.cleanup();
    });

    it("publishes a selected event with the event id as the message id, and nothing else", async () => {
      await call(app, "POST", "/api/v1/config", { name: "small", data: { k: 1 } });
      const created = await (await call(app, "POST", "/api/v1/config", { name: "big", data: { k: 12 } })).json() as { id: string };
      const [message] = await until(() => received, (list) => list.length >= 1);
      const body = json(message!);
      assert.equal(body.type, "entity.created");
      assert.equal(body.data.id, created.id);
      assert.equal(message!.id, body.id, "the message id is the event id");
      assert.equal(message!.subject, "entity.created.configs");
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(received.map((m) => json(m).data.entity.name), ["big"], "unselected events are not published");
    });

    it("delivers an event published while the broker is unreachable once it is back", async () => {
      received.length = 0;
      await proxy.cut();
      const created = await (await call(app, "POST", "/api/v1/config", { name: "during-outage", data: { k: 99 } })).json() as { id: string };
      const jobs = app.chapkit.context.get<JobRunner>("jobs");
      const failing = await until(
        async () => (await jobs.list()).filter((job) => job.name === PUBLISH_JOB && (job.attempts ?? 0) >= 2 && job.status !== "completed"),
        (list) => list.length > 0,
      );
      assert.match(failing[0]!.last_error ?? "", /./, "the publish job failed while the broker was away");
      assert.equal(received.length, 0);
      await proxy.listen();
      await until(() => received, (list) => list.some((m) => json(m).data.id === created.id), 30_000);
      const done = await until(() => jobs.get(failing[0]!.id), (job) => job.status === "completed", 30_000);
      assert.ok((done.attempts ?? 0) >= 2);
    });

    it("turns a consumed message into one job, however often it is delivered", async () => {
      await feed.publish({ id: "order-1", subject: "orders.created", body: JSON.stringify({ order: "A-1" }) });
      await feed.publish({ id: "order-1", subject: "orders.created", body: JSON.stringify({ order: "A-1" }) });
      await feed.publish({ id: "order-2", subject: "orders.created", body: JSON.stringify({ order: "B-2" }) });
      await until(() => handled, (list) => list.length >= 2);
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.deepEqual(handled, [{ order: "A-1" }, { order: "B-2" }]);
    });

    it("makes no second job when the broker redelivers a message whose acknowledgement was lost", async () => {
      const inbox = queueFor(kind, `${id}_re`, { consumer: "main" });
      const deliveries: IncomingMessage[] = [];
      // The job commits, then the acknowledgement is lost once (as when the connection drops just then).
      const lossy: MessageQueue = {
        kind,
        publish: (message) => inbox.publish(message),
        close: () => inbox.close(),
        consume: (handler) =>
          inbox.consume(async (message) => {
            deliveries.push(message);
            await handler(message);
            if (deliveries.length === 1) throw new Error("connection lost before the acknowledgement");
          }),
      };
      const sources = new QueueSources({
        sources: [{ name: "lossy", queue: lossy, job: "orders.import" }],
        db: app.chapkit.context.db,
        jobs: app.chapkit.context.get<JobRunner>("jobs"),
      });
      await sources.start();
      try {
        const before = handled.length;
        await inbox.publish({ id: "order-redelivered", subject: "orders.created", body: JSON.stringify({ order: "R-1" }) });
        await until(() => deliveries, (list) => list.length >= 2);
        await until(() => handled.length, (count) => count > before);
        await new Promise((resolve) => setTimeout(resolve, 500));
        assert.deepEqual(handled.slice(before), [{ order: "R-1" }]);
        assert.deepEqual(deliveries.map((message) => message.id), ["order-redelivered", "order-redelivered"]);
      } finally {
        await sources.stop();
        await inbox.close();
        await brokerCleanup(kind, `${id}_re`, ["main"]);
      }
    });

    it("records a message its job refuses and does not make it come back", async () => {
      const sources = new QueueSources({ sources: [], db: app.chapkit.context.db, jobs: app.chapkit.context.get<JobRunner>("jobs") });
      const source = { name: "orders-in", queue: feed, job: "orders.import" };
      const message = (body: string, id?: string): IncomingMessage => ({ id, subject: "orders.created", body: new TextEncoder().encode(body), headers: {}, redelivered: false });
      assert.equal(await sources.receive(source, message('{"order": 5}', "bad-1")), "rejected");
      assert.equal(await sources.receive(source, message("not json", "bad-2")), "rejected");
      assert.equal(await sources.receive(source, message('{"order": "C-3"}')), "enqueued");
      assert.equal(await sources.receive(source, message('{"order": "C-3"}')), "duplicate", "without an id the same bytes are the same message");
      const [receipt] = await app.chapkit.context.db.query<{ error: string }>("SELECT error FROM chapkit_queue_receipts WHERE message_id = ?", ["bad-1"]);
      assert.match(receipt!.error, /Refused by job orders.import/);
    });
  });
}

describe("withQueues configuration", () => {
  const build = (options: Parameters<ServiceBuilder["withQueues"]>[0]) =>
    new ServiceBuilder({ info: { display_name: "Broken queues" } }).withSettings({ env: {} }).withJobs().withQueues(options).build();
  const queue = () => queueFor("rabbitmq", runId("chapkit_cfg"));

  it("refuses two sinks of one name and a sink filter that does not parse", async () => {
    await assert.rejects(build({ sinks: [{ name: "out", queue: queue() }, { name: "out", queue: queue() }] }), /Queue sink "out" is configured twice/);
    await assert.rejects(build({ sinks: [{ name: "out", queue: queue(), filter: "data.k >" }] }), /Invalid query parameter filter/);
  });

  it("needs withJobs()", async () => {
    await assert.rejects(
      new ServiceBuilder({ info: { display_name: "No jobs" } }).withSettings({ env: {} }).withQueues({ sinks: [] }).build(),
      /withQueues\(\) requires withJobs\(\)/,
    );
  });

  it("fails the start when a source's broker cannot be reached", async () => {
    const unreachable = queueFor("rabbitmq", runId("chapkit_cfg"), { url: "amqp://guest:guest@127.0.0.1:1" });
    await assert.rejects(build({ sources: [{ name: "in", queue: unreachable, job: "orders.import" }] }), /ECONNREFUSED/);
  });
});
