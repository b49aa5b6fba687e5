import type { Mailer } from "../../integrations/smtp-mailer.ts";
import type { AuthStores } from "./store.ts";
import type { Tickets } from "./tickets.ts";
import type { UserRecord } from "./schema.ts";

/** Options of `withAuth({ magicLinks })`. */
export interface MagicLinkOptions {
  /** Sends the links (`smtpMailer(...)` or your own {@link Mailer}). */
  mailer: Mailer;
  /** Minutes a link stays valid (default 15). */
  ttlMinutes?: number;
  /**
   * Where the link points: a page that posts its `token` to
   * `POST /auth/magic-link/$redeem` (the token is appended as `#token=…`).
   * Default this service's own `GET /auth/magic-link/$redeem?token=…`, a page with one button.
   */
  linkUrl?: string;
  /** The service's public origin for the default link (default the request's). */
  publicUrl?: string;
  /** The subject line (default `Your sign-in link`). */
  subject?: string;
  /** Who the mail says it is from in its text (default `chapkit`). */
  serviceName?: string;
  /** Unexpired links a user may hold at once; asking for more sends nothing (default 3), so no one floods a mailbox. */
  maxActiveLinks?: number;
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Passwordless login by e-mail: a single-use link (a ticket whose hash alone
 * is stored) that expires after a few minutes, sent only to a user's own
 * address. Asking never tells whether the address belongs to a user.
 */
export class MagicLinks {
  readonly #stores: AuthStores;
  readonly #tickets: Tickets;
  readonly #options: MagicLinkOptions;

  /** Sends through `options.mailer`. */
  constructor(stores: AuthStores, tickets: Tickets, options: MagicLinkOptions) {
    this.#stores = stores;
    this.#tickets = tickets;
    this.#options = options;
  }

  /** Minutes a link stays valid. */
  get ttlMinutes(): number {
    return this.#options.ttlMinutes ?? 15;
  }

  /**
   * Mails a link to the user with this address, if there is one and it may
   * log in; otherwise does nothing, the same to the caller.
   * `defaultLink` is the redeem route's URL, used without `linkUrl`.
   */
  async send(email: string, defaultLink: string, redirectTo: string | null = null): Promise<boolean> {
    const [user] = await this.#stores.users.findMany({ filter: { kind: "compare", field: "email", op: "eq", value: email.toLowerCase() }, limit: 1 });
    if (!user || user.disabled || !user.email) return false;
    const purpose = `magic_link:${user.id}`;
    if (await this.#tickets.active(purpose) >= (this.#options.maxActiveLinks ?? 3)) return false;
    const token = await this.#tickets.issue(purpose, { user_id: user.id, redirect_to: redirectTo }, this.ttlMinutes * 60);
    const link = this.#options.linkUrl ? `${this.#options.linkUrl}#token=${token}` : `${defaultLink}?token=${token}`;
    const name = this.#options.serviceName ?? "chapkit";
    const text = `Sign in to ${name} with this link:\n\n${link}\n\nIt works once, for ${this.ttlMinutes} minutes. If you did not ask for it, ignore this message.\n`;
    await this.#options.mailer.send({
      to: user.email,
      subject: this.#options.subject ?? "Your sign-in link",
      text,
      html: `<p>Sign in to ${escapeHtml(name)}:</p><p><a href="${escapeHtml(link)}">Sign in</a></p><p>The link works once, for ${this.ttlMinutes} minutes. If you did not ask for it, ignore this message.</p>`,
    });
    return true;
  }

  /** Spends a link's token: its user and where to go next, or null (unknown, used or expired). */
  async redeem(token: string): Promise<{ user: UserRecord; redirectTo: string | null } | null> {
    const data = await this.#tickets.redeem("magic_link", token);
    if (!data) return null;
    const user = await this.#stores.users.findById(String(data.user_id));
    return user ? { user, redirectTo: typeof data.redirect_to === "string" ? data.redirect_to : null } : null;
  }
}
