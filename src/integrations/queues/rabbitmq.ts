/**
 * RabbitMQ (AMQP 0-9-1) through `amqplib`, an optional peer loaded on first
 * use. Publishing goes to a durable topic exchange with the subject as the
 * routing key, persistent, on a confirm channel: a publish resolves once the
 * broker confirmed it. Consuming reads a durable queue bound to the exchange,
 * one unacknowledged message at a time, acknowledged after the handler.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { importPeer } from "../../core/optional-peer.ts";
import { withTimeout } from "./_timeout.ts";
import type { IncomingMessage, MessageHandler, MessageQueue, OutgoingMessage, QueueConsumer } from "./types.ts";

/** Options of {@link RabbitMqQueue}. */
export interface RabbitMqOptions {
  /** `amqp://user:password@host:5672/vhost`. */
  url: string;
  /** The topic exchange published to and bound from (default `chapkit.events`; declared durable). */
  exchange?: string;
  /** The durable queue {@link RabbitMqQueue.consume} reads (declared and bound when given); needed to consume. */
  queue?: string;
  /** Routing-key patterns the queue is bound with (default `["#"]`: everything). */
  bindings?: readonly string[];
  /** Milliseconds a publish may wait for its confirm (default 10 000). */
  timeoutMs?: number;
  /** Milliseconds between reconnection attempts of a consumer (default 1 000). */
  reconnectMs?: number;
}

interface AmqpMessage {
  content: Uint8Array;
  fields: { routingKey: string; redelivered: boolean };
  properties: { messageId?: string; headers?: Record<string, unknown> };
}

interface AmqpChannel {
  assertExchange(name: string, type: string, options: Record<string, unknown>): Promise<unknown>;
  assertQueue(name: string, options: Record<string, unknown>): Promise<unknown>;
  bindQueue(queue: string, exchange: string, pattern: string): Promise<unknown>;
  prefetch(count: number): Promise<unknown>;
  publish(exchange: string, key: string, content: Buffer, options: Record<string, unknown>, done?: (error: unknown) => void): boolean;
  consume(queue: string, onMessage: (message: AmqpMessage | null) => void, options: Record<string, unknown>): Promise<{ consumerTag: string }>;
  ack(message: AmqpMessage): void;
  nack(message: AmqpMessage, allUpTo?: boolean, requeue?: boolean): void;
  close(): Promise<void>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
}

interface AmqpConnection {
  createChannel(): Promise<AmqpChannel>;
  createConfirmChannel(): Promise<AmqpChannel>;
  close(): Promise<void>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
}

type Amqplib = { connect(url: string): Promise<AmqpConnection> };

function load(): Promise<Amqplib> {
  return importPeer("amqplib", "RabbitMQ queues", async () => (await import("amqplib")) as unknown as Amqplib);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * See the module doc.
 *
 * @example
 * ```ts ignore
 * import { RabbitMqQueue } from "chapkit/integrations";
 * const queue = new RabbitMqQueue({ url: "amqp://guest:guest@127.0.0.1:5672", queue: "orders" });
 * await queue.publish({ id: "01K79YAHJ7BR4E87VVTG8FNBMA", subject: "orders.created", body: "{}" });
 * ```
 */
export class RabbitMqQueue implements MessageQueue {
  /** `rabbitmq`. */
  readonly kind = "rabbitmq";
  readonly #options: RabbitMqOptions;
  readonly #exchange: string;
  #publisher: Promise<{ connection: AmqpConnection; channel: AmqpChannel }> | null = null;
  readonly #connections = new Set<AmqpConnection>();
  #closed = false;

  /** Nothing connects before the first publish or consume. */
  constructor(options: RabbitMqOptions) {
    this.#options = options;
    this.#exchange = options.exchange ?? "chapkit.events";
  }

  async #connect(confirm: boolean): Promise<{ connection: AmqpConnection; channel: AmqpChannel }> {
    if (this.#closed) throw new Error("RabbitMQ queue closed");
    const amqp = await load();
    const connection = await amqp.connect(this.#options.url);
    this.#connections.add(connection);
    connection.on("error", () => {});
    connection.on("close", () => this.#connections.delete(connection));
    try {
      const channel = confirm ? await connection.createConfirmChannel() : await connection.createChannel();
      channel.on("error", () => {});
      await channel.assertExchange(this.#exchange, "topic", { durable: true });
      return { connection, channel };
    } catch (error) {
      await connection.close().catch(() => {});
      throw error;
    }
  }

  /** Publishes persistent to the exchange and waits for the broker's confirm. */
  async publish(message: OutgoingMessage): Promise<void> {
    if (!this.#publisher) {
      const opening = this.#connect(true);
      this.#publisher = opening;
      opening.then(({ connection, channel }) => {
        const reset = () => {
          if (this.#publisher === opening) this.#publisher = null;
        };
        connection.on("close", reset);
        channel.on("close", reset);
      }, () => {
        if (this.#publisher === opening) this.#publisher = null;
      });
    }
    const { channel } = await this.#publisher;
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        channel.publish(this.#exchange, message.subject, Buffer.from(message.body), {
          persistent: true,
          messageId: message.id,
          contentType: "application/json",
          headers: message.headers ?? {},
        }, (error) => (error ? reject(error instanceof Error ? error : new Error(`RabbitMQ refused the message: ${String(error)}`)) : resolve()));
      }),
      this.#options.timeoutMs ?? 10_000,
      "RabbitMQ publish confirm",
    );
  }

  /**
   * Consumes {@link RabbitMqOptions.queue} (declared durable, bound to the
   * exchange): after a lost connection it reconnects every `reconnectMs`
   * until stopped; unacknowledged messages return to the queue meanwhile.
   *
   * @throws {TypeError} when no queue is configured.
   */
  async consume(handler: MessageHandler): Promise<QueueConsumer> {
    const queue = this.#options.queue;
    if (!queue) throw new TypeError("RabbitMqQueue.consume needs the queue option");
    let stopped = false;
    let current: { connection: AmqpConnection; channel: AmqpChannel } | null = null;
    let lost: () => void = () => {};
    const open = async (): Promise<void> => {
      const opened = await this.#connect(false);
      current = opened;
      const { connection, channel } = opened;
      const ended = new Promise<void>((resolve) => {
        lost = resolve;
        connection.on("close", () => resolve());
        channel.on("close", () => resolve());
      });
      await channel.assertQueue(queue, { durable: true });
      for (const pattern of this.#options.bindings ?? ["#"]) await channel.bindQueue(queue, this.#exchange, pattern);
      await channel.prefetch(1);
      await channel.consume(queue, (raw) => {
        if (!raw) return;
        handler(toIncoming(raw)).then(() => channel.ack(raw), () => channel.nack(raw, false, true)).catch(() => {});
      }, { noAck: false });
      void ended.then(() => reconnect());
    };
    const reconnect = async (): Promise<void> => {
      current = null;
      while (!stopped && !this.#closed) {
        await sleep(this.#options.reconnectMs ?? 1000);
        if (stopped || this.#closed) return;
        try {
          await open();
          return;
        } catch {
          // The broker is still away: try again.
        }
      }
    };
    await open();
    return {
      stop: async () => {
        stopped = true;
        lost();
        const opened = current as { connection: AmqpConnection } | null;
        current = null;
        if (opened) {
          this.#connections.delete(opened.connection);
          await opened.connection.close().catch(() => {});
        }
      },
    };
  }

  /** Closes the publisher's and every consumer's connection. */
  async close(): Promise<void> {
    this.#closed = true;
    const connections = [...this.#connections];
    this.#connections.clear();
    this.#publisher = null;
    await Promise.all(connections.map((connection) => connection.close().catch(() => {})));
  }
}

function toIncoming(raw: AmqpMessage): IncomingMessage {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw.properties.headers ?? {})) {
    if (value !== undefined && value !== null) headers[name] = String(value);
  }
  return {
    id: raw.properties.messageId,
    subject: raw.fields.routingKey,
    body: new Uint8Array(raw.content),
    headers,
    redelivered: raw.fields.redelivered,
  };
}
