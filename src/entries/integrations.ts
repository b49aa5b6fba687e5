/**
 * Integrations (`chapkit/integrations`, `@chapkit/core/integrations`):
 * message-queue adapters (RabbitMQ, NATS JetStream, MQTT) behind one
 * {@link MessageQueue} interface, and the `queues` module that makes them
 * sinks of the event bus and sources of jobs (`withQueues()`), and
 * notification channels (e-mail over SMTP, Slack-compatible and generic
 * webhooks, SMS over any provider's HTTP API) with the `notifications` module
 * (`withNotifications()`). Each client library is an optional peer, loaded
 * on first use (see docs/integrations.md). The types of ETL pipelines
 * (`withEtl()`: scheduled imports into a collection, see docs/etl.md) are
 * here too.
 *
 * @example
 * ```ts ignore
 * import { ServiceBuilder } from "chapkit";
 * import { RabbitMqQueue } from "chapkit/integrations";
 *
 * const events = new RabbitMqQueue({ url: "amqp://guest:guest@127.0.0.1:5672", exchange: "chapkit.events" });
 * const app = await new ServiceBuilder({ info: { display_name: "Orders" } })
 *   .withJobs()
 *   .withQueues({ sinks: [{ name: "orders-out", queue: events, types: ["entity.*"], collections: ["orders"] }] })
 *   .build();
 * ```
 *
 * @module
 */

export type { IncomingMessage, MessageHandler, MessageQueue, OutgoingMessage, QueueConsumer } from "../integrations/queues/types.ts";
export { RabbitMqQueue } from "../integrations/queues/rabbitmq.ts";
export type { RabbitMqOptions } from "../integrations/queues/rabbitmq.ts";
export { NatsJetStreamQueue } from "../integrations/queues/nats.ts";
export type { NatsJetStreamOptions } from "../integrations/queues/nats.ts";
export { MqttQueue } from "../integrations/queues/mqtt.ts";
export type { MqttOptions } from "../integrations/queues/mqtt.ts";
export { eventMessage, PUBLISH_JOB, QueueSinks, QueueSources, queuesModule } from "../modules/queues/mod.ts";
export type { QueueSink, QueueSinksOptions, QueueSource, QueueSourcesOptions, QueuesModuleOptions, ReceiptOutcome } from "../modules/queues/mod.ts";
export type { ChannelContext, NotificationChannel, NotificationMessage } from "../integrations/notifications/types.ts";
export { emailChannel } from "../integrations/notifications/email.ts";
export type { EmailChannelOptions } from "../integrations/notifications/email.ts";
export { slackChannel } from "../integrations/notifications/slack.ts";
export type { SlackChannelOptions } from "../integrations/notifications/slack.ts";
export { webhookChannel } from "../integrations/notifications/webhook.ts";
export type { WebhookChannelOptions } from "../integrations/notifications/webhook.ts";
export { smsChannel } from "../integrations/notifications/sms.ts";
export type { SmsChannelOptions } from "../integrations/notifications/sms.ts";
export { smtpMailer } from "../integrations/smtp-mailer.ts";
export type { MailMessage, Mailer, SmtpMailerOptions } from "../integrations/smtp-mailer.ts";
export { DEFAULT_TEMPLATES, GENERIC_TEMPLATE, NOTIFICATIONS_KEY, notificationsModule, Notifier, renderTemplate, SEND_JOB } from "../modules/notifications/mod.ts";
export type { NotificationRule, NotificationsModuleOptions, NotificationTemplate, NotifierOptions } from "../modules/notifications/mod.ts";
export type {
  EtlFormat,
  EtlLoad,
  EtlManager,
  EtlModuleOptions,
  EtlOnInvalid,
  EtlPipelineSpec,
  EtlPipelineView,
  EtlRowContext,
  EtlRowError,
  EtlRunRecord,
  EtlRunStatus,
  EtlSource,
  EtlTransform,
} from "../modules/etl/mod.ts";
