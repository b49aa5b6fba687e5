/** Per-run adapters of the three brokers for the queue tests, and their clean-up. */
import { MqttQueue } from "../../src/integrations/queues/mqtt.ts";
import { NatsJetStreamQueue } from "../../src/integrations/queues/nats.ts";
import { RabbitMqQueue } from "../../src/integrations/queues/rabbitmq.ts";
import type { MessageQueue } from "../../src/integrations/queues/types.ts";
import { MQTT_URL, NATS_URL, RABBITMQ_URL } from "../_support/brokers.ts";

/** The brokers under test. */
export type BrokerKind = "rabbitmq" | "nats" | "mqtt";

/**
 * An adapter of `kind` whose names all derive from the run id `id`; `consumer`
 * names the queue / durable consumer / MQTT session (default `main`).
 */
export function queueFor(kind: BrokerKind, id: string, overrides: { url?: string; consumer?: string } = {}): MessageQueue {
  const consumer = overrides.consumer ?? "main";
  switch (kind) {
    case "rabbitmq":
      return new RabbitMqQueue({ url: overrides.url ?? RABBITMQ_URL, exchange: `${id}.x`, queue: `${id}.${consumer}`, timeoutMs: 2000, reconnectMs: 200 });
    case "nats":
      return new NatsJetStreamQueue({ url: overrides.url ?? NATS_URL, stream: id.toUpperCase(), subjectPrefix: id, durable: consumer, ackWaitMs: 2000, timeoutMs: 2000 });
    case "mqtt":
      return new MqttQueue({ url: overrides.url ?? MQTT_URL, topicPrefix: `${id}/events`, clientId: `${id}-${consumer}`, sessionExpirySeconds: 120, timeoutMs: 2000, reconnectMs: 200 });
  }
}

/** Removes what a run left on a broker: RabbitMQ's exchange and queues, the NATS stream (MQTT sessions expire). */
export async function brokerCleanup(kind: BrokerKind, id: string, consumers: readonly string[] = ["main", "retry", "away", "outage"]): Promise<void> {
  if (kind === "rabbitmq") {
    const amqp = await import("amqplib");
    const connection = await amqp.connect(RABBITMQ_URL);
    const channel = await connection.createChannel();
    for (const consumer of consumers) await channel.deleteQueue(`${id}.${consumer}`).catch(() => {});
    await channel.deleteExchange(`${id}.x`).catch(() => {});
    await connection.close();
  } else if (kind === "nats") {
    const { connect } = await import("@nats-io/transport-node");
    const { jetstreamManager } = await import("@nats-io/jetstream");
    const nc = await connect({ servers: NATS_URL });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(id.toUpperCase()).catch(() => {});
    await nc.close();
  }
}
