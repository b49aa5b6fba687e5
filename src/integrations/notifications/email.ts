import type { Mailer } from "../smtp-mailer.ts";
import type { NotificationChannel, NotificationMessage } from "./types.ts";

/** Options of {@link emailChannel}. */
export interface EmailChannelOptions {
  /** The mailer (`smtpMailer({ host, port, from })`, shared with magic links). */
  mailer: Mailer;
  /** Recipients; one message names them all. */
  to: readonly string[];
  /** The sender (default the mailer's). */
  from?: string;
}

/**
 * E-mail through a {@link Mailer} (SMTP with `smtpMailer`): the subject, the
 * text and, when the template has one, the HTML alternative.
 *
 * @example
 * ```ts ignore
 * const ops = emailChannel({ mailer: smtpMailer({ host: "smtp.example.org", from: "Lab <lab@example.org>" }), to: ["ops@example.org"] });
 * ```
 */
export function emailChannel(options: EmailChannelOptions): NotificationChannel {
  if (options.to.length === 0) throw new TypeError("emailChannel needs at least one recipient");
  return {
    kind: "email",
    async send(message: NotificationMessage): Promise<void> {
      await options.mailer.send({
        to: options.to.join(", "),
        ...(options.from ? { from: options.from } : {}),
        subject: message.subject,
        text: message.text,
        ...(message.html ? { html: message.html } : {}),
      });
    },
  };
}
