/**
 * MQTT 5 through `mqtt` (MQTT.js), an optional peer loaded on first use.
 * Publishing uses QoS 1 under `<topicPrefix>/<subject with / for .>`, the
 * message id in the user property `message-id`; a publish resolves on the
 * broker's PUBACK. Consuming subscribes with QoS 1 on a persistent session
 * (fixed client id, `clean: false`, a session expiry), so messages published
 * while the consumer is away wait on the broker; the PUBACK is sent only
 * after the handler, and a failed handler drops the connection so the broker
 * delivers the message again on the resumed session.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { importPeer } from "../../core/optional-peer.ts";
import { withTimeout } from "./_timeout.ts";
import type { IncomingMessage, MessageHandler, MessageQueue, OutgoingMessage, QueueConsumer } from "./types.ts";

/** Options of {@link MqttQueue}. */
export interface MqttOptions {
  /** `mqtt://user:password@host:1883` (or `mqtts://`). */
  url: string;
  /** Prefix of every topic (default `chapkit/events`). */
  topicPrefix?: string;
  /** The consumer's client id, which names its persistent session on the broker; needed to consume. */
  clientId?: string;
  /** Topic filter the consumer subscribes to, below the prefix (default `#`: everything). */
  filter?: string;
  /** Seconds the broker keeps the consumer's session (and its queued messages) while it is away (default 86 400). */
  sessionExpirySeconds?: number;
  /** Milliseconds a publish may wait for its PUBACK, connecting included (default 10 000). */
  timeoutMs?: number;
  /** Milliseconds between reconnection attempts (default 1 000). */
  reconnectMs?: number;
}

interface MqttPacket {
  topic: string;
  payload: Uint8Array;
  dup?: boolean;
  properties?: { userProperties?: Record<string, string | string[]> };
}

interface MqttClient {
  connected: boolean;
  publish(topic: string, payload: Buffer, options: Record<string, unknown>, done: (error?: Error) => void): unknown;
  subscribe(topic: string, options: Record<string, unknown>, done: (error?: Error | null) => void): unknown;
  end(force: boolean, options: Record<string, unknown>, done: () => void): unknown;
  on(event: string, listener: (...args: never[]) => void): unknown;
  once(event: string, listener: (...args: never[]) => void): unknown;
  handleMessage: (packet: MqttPacket, done: (error?: Error) => void) => void;
  stream?: { destroy(): void };
}

type MqttModule = { connect(url: string, options: Record<string, unknown>): MqttClient };

async function load(): Promise<MqttModule> {
  const module = await importPeer("mqtt", "MQTT queues", () => import("mqtt")) as unknown as MqttModule & { default?: MqttModule };
  return typeof module.connect === "function" ? module : module.default!;
}

function connected(client: MqttClient): Promise<void> {
  if (client.connected) return Promise.resolve();
  return new Promise((resolve) => client.once("connect", () => resolve()));
}

/**
 * See the module doc.
 *
 * @example
 * ```ts ignore
 * import { MqttQueue } from "chapkit/integrations";
 * const queue = new MqttQueue({ url: "mqtt://127.0.0.1:1883", clientId: "orders-importer" });
 * await queue.publish({ id: "01K79YAHJ7BR4E87VVTG8FNBMA", subject: "orders.created", body: "{}" });
 * ```
 */
export class MqttQueue implements MessageQueue {
  /** `mqtt`. */
  readonly kind = "mqtt";
  readonly #options: MqttOptions;
  readonly #prefix: string;
  #publisher: Promise<MqttClient> | null = null;
  readonly #clients = new Set<MqttClient>();

  /** Nothing connects before the first publish or consume. */
  constructor(options: MqttOptions) {
    this.#options = options;
    this.#prefix = options.topicPrefix ?? "chapkit/events";
  }

  async #open(options: Record<string, unknown>): Promise<MqttClient> {
    const mqtt = await load();
    const client = mqtt.connect(this.#options.url, {
      protocolVersion: 5,
      reconnectPeriod: this.#options.reconnectMs ?? 1000,
      connectTimeout: this.#options.timeoutMs ?? 10_000,
      ...options,
    });
    client.on("error", () => {});
    this.#clients.add(client);
    return client;
  }

  /** Publishes with QoS 1 and waits for the PUBACK (a message sent during an outage may still go out after the timeout: at least once). */
  async publish(message: OutgoingMessage): Promise<void> {
    this.#publisher ??= this.#open({ clean: true });
    const client = await this.#publisher;
    const topic = `${this.#prefix}/${message.subject.replaceAll(".", "/")}`;
    await withTimeout(
      connected(client).then(() =>
        new Promise<void>((resolve, reject) => {
          client.publish(topic, Buffer.from(message.body), {
            qos: 1,
            properties: { contentType: "application/json", userProperties: { ...message.headers, "message-id": message.id } },
          }, (error) => (error ? reject(error) : resolve()));
        })
      ),
      this.#options.timeoutMs ?? 10_000,
      "MQTT publish",
    );
  }

  /**
   * Subscribes on the persistent session of {@link MqttOptions.clientId}.
   *
   * @throws {TypeError} when no client id is configured.
   */
  async consume(handler: MessageHandler): Promise<QueueConsumer> {
    const clientId = this.#options.clientId;
    if (!clientId) throw new TypeError("MqttQueue.consume needs the clientId option");
    const client = await this.#open({
      clientId,
      clean: false,
      properties: { sessionExpiryInterval: this.#options.sessionExpirySeconds ?? 86_400 },
    });
    const prefix = `${this.#prefix}/`;
    client.handleMessage = (packet, done) => {
      const user = packet.properties?.userProperties ?? {};
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(user)) headers[name] = Array.isArray(value) ? value.join(",") : value;
      const topic = packet.topic.startsWith(prefix) ? packet.topic.slice(prefix.length) : packet.topic;
      const incoming: IncomingMessage = {
        id: headers["message-id"],
        subject: topic.replaceAll("/", "."),
        body: new Uint8Array(packet.payload),
        headers,
        redelivered: packet.dup === true,
      };
      handler(incoming).then(() => done(), () => {
        // No PUBACK: the broker resends the message once the session resumes.
        done(new Error("handler failed"));
        setTimeout(() => client.stream?.destroy(), this.#options.reconnectMs ?? 1000);
      });
    };
    const filter = `${prefix}${this.#options.filter ?? "#"}`;
    // Subscribing again on every connection is harmless and survives a broker that lost the session.
    client.on("connect", () => client.subscribe(filter, { qos: 1 }, () => {}));
    await withTimeout(connected(client), this.#options.timeoutMs ?? 10_000, "MQTT connect");
    await new Promise<void>((resolve, reject) => client.subscribe(filter, { qos: 1 }, (error) => (error ? reject(error) : resolve())));
    return {
      stop: () => this.#end(client),
    };
  }

  #end(client: MqttClient): Promise<void> {
    this.#clients.delete(client);
    return new Promise((resolve) => client.end(true, {}, () => resolve()));
  }

  /** Closes the publisher and every consumer. */
  async close(): Promise<void> {
    this.#publisher = null;
    await Promise.all([...this.#clients].map((client) => this.#end(client)));
  }
}
