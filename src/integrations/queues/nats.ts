/**
 * NATS JetStream through `@nats-io/transport-node` and `@nats-io/jetstream`,
 * optional peers loaded on first use. Publishing stores the message in a
 * stream (created when missing) with `Nats-Msg-Id` = the message id, so the
 * server itself drops a duplicate published within the stream's duplicate
 * window (2 minutes by default); a publish resolves on the JetStream ack.
 * Consuming reads a durable consumer with explicit acks; an unacknowledged
 * message is redelivered after `ackWaitMs`. The client reconnects by itself.
 *
 * @module
 */
import { importPeer } from "../../core/optional-peer.ts";
import type { IncomingMessage, MessageHandler, MessageQueue, OutgoingMessage, QueueConsumer } from "./types.ts";

/** Options of {@link NatsJetStreamQueue}. */
export interface NatsJetStreamOptions {
  /** `nats://host:4222` (several: comma-separated). */
  url: string;
  /** The stream (default `CHAPKIT_EVENTS`), created with the subjects `<subjectPrefix>.>` when missing. */
  stream?: string;
  /** Prefix of every subject (default `chapkit.events`). */
  subjectPrefix?: string;
  /** The durable consumer {@link NatsJetStreamQueue.consume} reads (created when missing); needed to consume. */
  durable?: string;
  /** Subjects the consumer takes, below the prefix (`entity.*.orders`; default all). */
  filter?: string;
  /** Milliseconds before an unacknowledged message is redelivered (default 30 000). */
  ackWaitMs?: number;
  /** Milliseconds a publish may wait for its ack (default 10 000). */
  timeoutMs?: number;
}

interface NatsHeaders {
  set(name: string, value: string): void;
  get(name: string): string;
  keys(): string[];
}

interface JsMsg {
  subject: string;
  data: Uint8Array;
  redelivered: boolean;
  headers?: NatsHeaders;
  ack(): void;
  nak(delayMs?: number): void;
}

interface Connection {
  close(): Promise<void>;
  isClosed(): boolean;
}

interface JetStream {
  publish(subject: string, data: string, options: Record<string, unknown>): Promise<unknown>;
  consumers: {
    get(stream: string, durable: string): Promise<{ consume(options: Record<string, unknown>): Promise<AsyncIterable<JsMsg> & { close(): Promise<unknown> }> }>;
  };
}

interface JetStreamManager {
  streams: { info(name: string): Promise<unknown>; add(config: Record<string, unknown>): Promise<unknown> };
  consumers: { info(stream: string, name: string): Promise<unknown>; add(stream: string, config: Record<string, unknown>): Promise<unknown> };
}

interface NatsClient {
  connection: Connection;
  js: JetStream;
  jsm: JetStreamManager;
  headers(): NatsHeaders;
}

const MS_TO_NS = 1_000_000;

/**
 * See the module doc.
 *
 * @example
 * ```ts ignore
 * import { NatsJetStreamQueue } from "chapkit/integrations";
 * const queue = new NatsJetStreamQueue({ url: "nats://127.0.0.1:4222", durable: "orders" });
 * await queue.publish({ id: "01K79YAHJ7BR4E87VVTG8FNBMA", subject: "orders.created", body: "{}" });
 * ```
 */
export class NatsJetStreamQueue implements MessageQueue {
  /** `nats`. */
  readonly kind = "nats";
  readonly #options: NatsJetStreamOptions;
  readonly #stream: string;
  readonly #prefix: string;
  #client: Promise<NatsClient> | null = null;
  #streamReady: Promise<void> | null = null;

  /** Nothing connects before the first publish or consume. */
  constructor(options: NatsJetStreamOptions) {
    this.#options = options;
    this.#stream = options.stream ?? "CHAPKIT_EVENTS";
    this.#prefix = options.subjectPrefix ?? "chapkit.events";
  }

  #connect(): Promise<NatsClient> {
    this.#client ??= (async () => {
      const [transport, jetstream] = await Promise.all([
        importPeer("@nats-io/transport-node", "NATS queues", () => import("@nats-io/transport-node")),
        importPeer("@nats-io/jetstream", "NATS queues", () => import("@nats-io/jetstream")),
      ]);
      const connection = await transport.connect({
        servers: this.#options.url.split(",").map((server) => server.trim()),
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
      });
      return {
        connection: connection as unknown as Connection,
        js: jetstream.jetstream(connection) as unknown as JetStream,
        jsm: (await jetstream.jetstreamManager(connection)) as unknown as JetStreamManager,
        headers: () => transport.headers() as unknown as NatsHeaders,
      };
    })();
    const client = this.#client;
    client.catch(() => {
      if (this.#client === client) this.#client = null;
    });
    return client;
  }

  #ensureStream(client: NatsClient): Promise<void> {
    this.#streamReady ??= client.jsm.streams.info(this.#stream).then(
      () => undefined,
      () => client.jsm.streams.add({ name: this.#stream, subjects: [`${this.#prefix}.>`] }).then(() => undefined),
    );
    const ready = this.#streamReady;
    ready.catch(() => {
      if (this.#streamReady === ready) this.#streamReady = null;
    });
    return ready;
  }

  /** Stores the message in the stream under `<subjectPrefix>.<subject>`; resolves on the JetStream ack. */
  async publish(message: OutgoingMessage): Promise<void> {
    const client = await this.#connect();
    await this.#ensureStream(client);
    const headers = client.headers();
    for (const [name, value] of Object.entries(message.headers ?? {})) headers.set(name, value);
    headers.set("content-type", "application/json");
    await client.js.publish(`${this.#prefix}.${message.subject}`, message.body, {
      msgID: message.id,
      headers,
      timeout: this.#options.timeoutMs ?? 10_000,
    });
  }

  /**
   * Reads the durable consumer (created with explicit acks when missing; like
   * a new RabbitMQ queue, a new consumer starts with the messages published
   * after it was created).
   *
   * @throws {TypeError} when no durable name is configured.
   */
  async consume(handler: MessageHandler): Promise<QueueConsumer> {
    const durable = this.#options.durable;
    if (!durable) throw new TypeError("NatsJetStreamQueue.consume needs the durable option");
    const client = await this.#connect();
    await this.#ensureStream(client);
    try {
      await client.jsm.consumers.info(this.#stream, durable);
    } catch {
      await client.jsm.consumers.add(this.#stream, {
        durable_name: durable,
        ack_policy: "explicit",
        deliver_policy: "new",
        ack_wait: (this.#options.ackWaitMs ?? 30_000) * MS_TO_NS,
        filter_subject: `${this.#prefix}.${this.#options.filter ?? ">"}`,
      });
    }
    const consumer = await client.js.consumers.get(this.#stream, durable);
    const messages = await consumer.consume({ max_messages: 1 });
    const prefix = `${this.#prefix}.`;
    const loop = (async () => {
      for await (const raw of messages) {
        const headers: Record<string, string> = {};
        for (const name of raw.headers?.keys() ?? []) headers[name] = raw.headers!.get(name);
        const incoming: IncomingMessage = {
          id: headers["Nats-Msg-Id"] || undefined,
          subject: raw.subject.startsWith(prefix) ? raw.subject.slice(prefix.length) : raw.subject,
          body: raw.data,
          headers,
          redelivered: raw.redelivered,
        };
        try {
          await handler(incoming);
          raw.ack();
        } catch {
          raw.nak(1000);
        }
      }
    })().catch(() => {});
    return {
      stop: async () => {
        await messages.close().catch(() => {});
        await loop;
      },
    };
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    const client = this.#client;
    this.#client = null;
    this.#streamReady = null;
    if (client) await (await client.catch(() => null))?.connection.close().catch(() => {});
  }
}
