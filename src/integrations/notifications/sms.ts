import { expectAccepted } from "./_http.ts";
import type { ChannelContext, NotificationChannel, NotificationMessage } from "./types.ts";

/** Options of {@link smsChannel}. */
export interface SmsChannelOptions {
  /** The provider's send endpoint (Twilio `…/Messages.json`, Vonage `…/sms/json`, an in-house gateway…). */
  url: string;
  /** Recipients; one request each. */
  to: readonly string[];
  /** Headers (the provider's authorization). */
  headers?: Record<string, string>;
  /** `json` (default) or `form` (`application/x-www-form-urlencoded`, as Twilio takes it). */
  format?: "json" | "form";
  /** Names of the recipient and text fields (default `to` and `text`; Twilio: `To` and `Body`). */
  fields?: { to?: string; text?: string };
  /** Fields sent with every request (the sender: `{ From: "+15005550006" }`). */
  extra?: Record<string, string>;
  /** Characters of text at most (default 480, three SMS segments). */
  maxLength?: number;
}

/**
 * SMS through any provider's HTTP API: one POST per recipient with the
 * recipient and the text in the fields the provider names, as JSON or a
 * form; any 2xx answer counts as accepted.
 *
 * @example
 * ```ts ignore
 * const sms = smsChannel({
 *   url: "https://api.twilio.com/2010-04-01/Accounts/AC…/Messages.json",
 *   headers: { authorization: `Basic ${btoa("AC…:token")}` },
 *   format: "form", fields: { to: "To", text: "Body" }, extra: { From: "+15005550006" },
 *   to: ["+4712345678"],
 * });
 * ```
 */
export function smsChannel(options: SmsChannelOptions): NotificationChannel {
  if (options.to.length === 0) throw new TypeError("smsChannel needs at least one recipient");
  const toField = options.fields?.to ?? "to";
  const textField = options.fields?.text ?? "text";
  const maxLength = options.maxLength ?? 480;
  return {
    kind: "sms",
    async send(message: NotificationMessage, context: ChannelContext): Promise<void> {
      const full = message.text ? `${message.subject}\n${message.text}` : message.subject;
      const text = full.length > maxLength ? `${full.slice(0, maxLength - 1)}…` : full;
      for (const to of options.to) {
        const fields: Record<string, string> = { ...options.extra, [toField]: to, [textField]: text };
        const form = options.format === "form";
        const response = await context.fetch(options.url, {
          method: "POST",
          headers: { "content-type": form ? "application/x-www-form-urlencoded" : "application/json", ...options.headers },
          body: form ? new URLSearchParams(fields).toString() : JSON.stringify(fields),
          signal: context.signal,
        });
        await expectAccepted(response, `The SMS provider (to ${to})`);
      }
    },
  };
}
