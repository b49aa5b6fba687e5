import { importPeer } from "../core/optional-peer.ts";

/** An e-mail to send. */
export interface MailMessage {
  /** The recipient's address. */
  to: string;
  /** The sender (default the mailer's `from`). */
  from?: string;
  /** The subject line. */
  subject: string;
  /** The plain-text body. */
  text: string;
  /** An HTML alternative. */
  html?: string;
}

/**
 * Something that sends e-mail: the SMTP mailer below, or any other service
 * (an HTTP mail API, a notification module) behind this one method.
 */
export interface Mailer {
  /** Sends one message; rejects when the server refuses it. */
  send(message: MailMessage): Promise<void>;
}

/** Settings of {@link smtpMailer}. */
export interface SmtpMailerOptions {
  /** The server's host name (default `127.0.0.1`). */
  host?: string;
  /** The server's port (default 587, or 465 with `secure`). */
  port?: number;
  /** TLS from the first byte (port 465); otherwise STARTTLS is used when the server offers it. */
  secure?: boolean;
  /** Refuse to send unless the connection was upgraded with STARTTLS. */
  requireTLS?: boolean;
  /** Login at the server. */
  auth?: { user: string; pass: string };
  /** The default sender, e.g. `Lab <no-reply@lab.example.org>`. */
  from: string;
  /** Seconds to wait for the server at each step (default 15). */
  timeoutSeconds?: number;
}

type Nodemailer = { createTransport(options: Record<string, unknown>): { sendMail(message: Record<string, unknown>): Promise<unknown> } };

/**
 * An SMTP {@link Mailer} over the optional `nodemailer` package, loaded at
 * the first message. @throws {MissingPeerError} (at the first send) when
 * nodemailer is not installed.
 *
 * @example
 * ```ts ignore
 * const mailer = smtpMailer({ host: "smtp.example.org", auth: { user, pass }, from: "Lab <no-reply@lab.example.org>" });
 * await mailer.send({ to: "ada@example.org", subject: "Hello", text: "…" });
 * ```
 */
export function smtpMailer(options: SmtpMailerOptions): Mailer {
  let transport: Promise<ReturnType<Nodemailer["createTransport"]>> | undefined;
  const open = async () => {
    const loaded = await importPeer("nodemailer", "E-mails", () => import("nodemailer")) as unknown as { default?: Nodemailer } & Nodemailer;
    const nodemailer = loaded.default ?? loaded;
    const timeout = (options.timeoutSeconds ?? 15) * 1000;
    return nodemailer.createTransport({
      host: options.host ?? "127.0.0.1",
      port: options.port ?? (options.secure ? 465 : 587),
      secure: options.secure ?? false,
      requireTLS: options.requireTLS ?? false,
      ...(options.auth ? { auth: options.auth } : {}),
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
    });
  };
  return {
    async send(message: MailMessage): Promise<void> {
      transport ??= open();
      transport.catch(() => (transport = undefined));
      await (await transport).sendMail({ from: message.from ?? options.from, to: message.to, subject: message.subject, text: message.text, ...(message.html ? { html: message.html } : {}) });
    },
  };
}
