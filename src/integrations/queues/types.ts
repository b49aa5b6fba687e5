/**
 * The one interface of message-queue adapters. A broker is a
 * {@link MessageQueue}: it publishes messages the broker has taken
 * responsibility for, and delivers messages to a handler, acknowledging each
 * only after the handler succeeded. chapkit's queue sinks and sources (the
 * `queues` module) work with any implementation, so a Kafka or SQS adapter is
 * one more class of this shape.
 */

/** A message to publish. */
export interface OutgoingMessage {
  /**
   * The idempotency key, carried as the broker's message id (AMQP
   * `message-id`, NATS `Nats-Msg-Id`, MQTT 5 user property `message-id`).
   * Event sinks use the event's id, so a message published twice after a
   * retry is recognisably the same message.
   */
  id: string;
  /**
   * Where it goes within the adapter's destination, dotted
   * (`entity.created.configs`): the routing key (RabbitMQ), appended to the
   * subject prefix (NATS) or, with `/` for `.`, to the topic prefix (MQTT).
   */
  subject: string;
  /** The body, JSON text. */
  body: string;
  /** Extra headers (MQTT 5: user properties). */
  headers?: Record<string, string>;
}

/** A delivered message. */
export interface IncomingMessage {
  /** The broker's message id, when the publisher set one. */
  id: string | undefined;
  /** The dotted subject it was published under (see {@link OutgoingMessage.subject}). */
  subject: string;
  /** The raw body. */
  body: Uint8Array;
  /** Its headers (MQTT 5 user properties). */
  headers: Record<string, string>;
  /** Whether the broker says it delivered this message before (not every broker knows). */
  redelivered: boolean;
}

/** What handles delivered messages: resolving acknowledges, throwing asks for a redelivery. */
export type MessageHandler = (message: IncomingMessage) => Promise<void>;

/** A running consumer. */
export interface QueueConsumer {
  /** Stops receiving; a message whose handler is running is neither acknowledged nor lost (the broker redelivers it). */
  stop(): Promise<void>;
}

/**
 * A broker connection. Adapters connect on first use and reconnect by
 * themselves after an outage; a publish during an outage rejects (after at
 * most the adapter's timeout) so its caller, the job queue, retries it.
 */
export interface MessageQueue {
  /** `rabbitmq`, `nats`, `mqtt`, … for logs and docs. */
  readonly kind: string;
  /**
   * Publishes one message and resolves once the broker has taken
   * responsibility for it (RabbitMQ publisher confirm, JetStream ack, MQTT
   * QoS 1 PUBACK). A rejection means it may or may not have arrived: publish
   * again with the same id.
   */
  publish(message: OutgoingMessage): Promise<void>;
  /**
   * Delivers the adapter's consumed messages to `handler`, one at a time
   * per consumer, acknowledging each only after `handler` resolved; a throw
   * (or a crash before the acknowledgement) leaves it to be redelivered.
   * Delivery is at least once: handlers must be idempotent (the queue
   * sources are, by message id).
   */
  consume(handler: MessageHandler): Promise<QueueConsumer>;
  /** Closes connections; consumers stop. */
  close(): Promise<void>;
}
