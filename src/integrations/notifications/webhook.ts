import { expectAccepted } from "./_http.ts";
import type { ChannelContext, NotificationChannel, NotificationMessage } from "./types.ts";

/** Options of {@link webhookChannel}. */
export interface WebhookChannelOptions {
  /** Where the notification is POSTed. */
  url: string;
  /** Extra headers (an `authorization`, an API key). */
  headers?: Record<string, string>;
}

/**
 * A generic webhook: POSTs `{ subject, text, html, event }` as JSON with an
 * `idempotency-key` header (the event id when an event triggered it), so a
 * receiver can drop the duplicate of a retried send. (For signed deliveries
 * of raw events, use `withWebhooks()`.)
 *
 * @example
 * ```ts ignore
 * const pager = webhookChannel({ url: "https://ops.example.org/hooks/chapkit", headers: { authorization: "Bearer …" } });
 * ```
 */
export function webhookChannel(options: WebhookChannelOptions): NotificationChannel {
  return {
    kind: "webhook",
    async send(message: NotificationMessage, context: ChannelContext): Promise<void> {
      const response = await context.fetch(options.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(message.event ? { "idempotency-key": message.event.id } : {}),
          ...options.headers,
        },
        body: JSON.stringify({ subject: message.subject, text: message.text, html: message.html ?? null, event: message.event ?? null }),
        signal: context.signal,
      });
      await expectAccepted(response, "The webhook");
    },
  };
}
