/**
 * The message-queue adapters against the machine's real brokers (RabbitMQ,
 * NATS JetStream, Mosquitto), started when they are down; every run uses its
 * own exchange and queue, stream and subjects, topics and client ids. One
 * contract for all three: confirmed publishes, acknowledgement after the
 * handler, redelivery of a failed message, messages kept while the consumer
 * is away, and publishes refused during an outage that succeed after it.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MqttQueue } from "../../src/integrations/queues/mqtt.ts";
import { NatsJetStreamQueue } from "../../src/integrations/queues/nats.ts";
import { RabbitMqQueue } from "../../src/integrations/queues/rabbitmq.ts";
import type { IncomingMessage, MessageQueue } from "../../src/integrations/queues/types.ts";
import { ensureMosquitto, ensureNats, ensureRabbitMQ, MQTT_URL, NATS_URL, RABBITMQ_URL, runId } from "../_support/brokers.ts";
import { TcpProxy } from "../db/_tcp-proxy.ts";
import { brokerCleanup, type BrokerKind, queueFor } from "./_queues.ts";

const text = (message: IncomingMessage) => new TextDecoder().decode(message.body);

async function until<T>(read: () => T, done: (value: T) => boolean, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = read();
    if (done(value)) return value;
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const PORTS: Record<BrokerKind, { url: string; port: number; ensure(): Promise<void> }> = {
  rabbitmq: { url: RABBITMQ_URL, port: 5672, ensure: ensureRabbitMQ },
  nats: { url: NATS_URL, port: 4222, ensure: ensureNats },
  mqtt: { url: MQTT_URL, port: 1883, ensure: ensureMosquitto },
};

for (const kind of ["rabbitmq", "nats", "mqtt"] as const) {
  describe(`${kind} adapter`, () => {
    const id = runId(`chapkit_${kind}`);
    const opened: MessageQueue[] = [];
    const open = (overrides: { url?: string; consumer?: string } = {}) => {
      const queue = queueFor(kind, id, overrides);
      opened.push(queue);
      return queue;
    };
    before(() => PORTS[kind].ensure());
    after(async () => {
      for (const queue of opened) await queue.close();
      await brokerCleanup(kind, id);
    });

    it("delivers a published message with its id, subject and headers, acknowledged once", async () => {
      const consumerSide = open();
      const got: IncomingMessage[] = [];
      const consumer = await consumerSide.consume(async (message) => void got.push(message));
      const publisher = open();
      await publisher.publish({ id: "01K79YAHJ7BR4E87VVTG8FNBMA", subject: "entity.created.notes", body: '{"n":1}', headers: { "x-origin": "test" } });
      const [message] = await until(() => got, (list) => list.length >= 1);
      assert.equal(message!.id, "01K79YAHJ7BR4E87VVTG8FNBMA");
      assert.equal(message!.subject, "entity.created.notes");
      assert.equal(text(message!), '{"n":1}');
      assert.equal(message!.headers["x-origin"], "test");
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(got.length, 1, "an acknowledged message is not delivered again");
      await consumer.stop();
    });

    it("delivers a message again when its handler fails, until one succeeds", async () => {
      const consumerSide = open({ consumer: "retry" });
      const attempts: IncomingMessage[] = [];
      const consumer = await consumerSide.consume(async (message) => {
        attempts.push(message);
        if (attempts.length < 2) throw new Error("not yet");
      });
      await open().publish({ id: "01K79YAHJ7BR4E87VVTG8FNBMB", subject: "job.failed.jobs", body: "{}" });
      await until(() => attempts, (list) => list.length >= 2);
      assert.deepEqual(attempts.map((message) => message.id), ["01K79YAHJ7BR4E87VVTG8FNBMB", "01K79YAHJ7BR4E87VVTG8FNBMB"]);
      if (kind !== "nats") assert.equal(attempts[1]!.redelivered, true);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(attempts.length, 2);
      await consumer.stop();
    });

    it("keeps messages published while the consumer is away", async () => {
      const first = open({ consumer: "away" });
      const stop = await first.consume(async () => {});
      await stop.stop();
      await open().publish({ id: "01K79YAHJ7BR4E87VVTG8FNBMC", subject: "model.promoted.models", body: '{"away":true}' });
      const got: IncomingMessage[] = [];
      const again = await open({ consumer: "away" }).consume(async (message) => void got.push(message));
      const [message] = await until(() => got, (list) => list.length >= 1);
      assert.equal(message!.id, "01K79YAHJ7BR4E87VVTG8FNBMC");
      await again.stop();
    });

    it("refuses a publish while the broker is unreachable and delivers the retry once it is back", async () => {
      const proxy = new TcpProxy({ host: "127.0.0.1", port: PORTS[kind].port });
      await proxy.listen();
      const target = new URL(PORTS[kind].url);
      target.port = String(proxy.port);
      const publisher = open({ url: target.href.replace(/\/$/, "") });
      const got: IncomingMessage[] = [];
      const consumer = await open({ consumer: "outage" }).consume(async (message) => void got.push(message));
      await publisher.publish({ id: "01K79YAHJ7BR4E87VVTG8FNBMD", subject: "entity.created.notes", body: '{"before":true}' });
      await proxy.cut();
      const outage = { id: "01K79YAHJ7BR4E87VVTG8FNBME", subject: "entity.created.notes", body: '{"during":true}' };
      await assert.rejects(publisher.publish(outage));
      await proxy.listen();
      // The caller (the job queue) retries until the broker confirms.
      for (let attempt = 0;; attempt++) {
        try {
          await publisher.publish(outage);
          break;
        } catch (error) {
          if (attempt > 40) throw error;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
      await until(() => got, (list) => list.some((message) => message.id === outage.id));
      await consumer.stop();
      await proxy.cut();
    });
  });
}
