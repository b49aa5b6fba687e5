/**
 * The one interface of notification channels: e-mail, Slack-compatible
 * chats, generic webhooks and SMS are each a {@link NotificationChannel}
 * that sends one rendered {@link NotificationMessage}. The notifications
 * module renders templates, queues each send as a job and retries it; a
 * channel only sends, and rejects when the other side did not accept.
 */
import type { ServiceEvent } from "../../core/events/types.ts";

/** A rendered notification. */
export interface NotificationMessage {
  /** The subject (e-mail subject; the first line elsewhere). */
  subject: string;
  /** The plain-text body. */
  text: string;
  /** An HTML body, for channels that show one (e-mail). */
  html?: string;
  /** The event that triggered it, when an event did (generic webhooks send it along). */
  event?: ServiceEvent;
}

/** What a channel gets besides the message. */
export interface ChannelContext {
  /** The outbound HTTP policy's fetch (timeout, circuit breaker per origin). */
  fetch(url: string, init: RequestInit): Promise<Response>;
  /** Aborted when the send's job is canceled or times out. */
  signal: AbortSignal;
}

/** A way to reach people. */
export interface NotificationChannel {
  /** `email`, `slack`, `webhook`, `sms`, … for logs and docs. */
  readonly kind: string;
  /** Sends one message; resolves once the other side accepted it, rejects otherwise (the job queue retries). */
  send(message: NotificationMessage, context: ChannelContext): Promise<void>;
}
