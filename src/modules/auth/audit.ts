import type { Logger } from "../../core/logging.ts";
import type { Page } from "../../core/manager.ts";
import { whereEquals } from "../../core/query/model.ts";
import type { Repository } from "../../core/repository.ts";
import type { AuditRecord } from "./schema.ts";

/** Audit event names. */
export type AuditEvent =
  | "auth.login"
  | "auth.login.locked"
  | "auth.login.mfa_challenge"
  | "auth.login.mfa"
  | "auth.mfa.enrolled"
  | "auth.magic_link.sent"
  | "auth.passkey.registered"
  | "auth.refresh"
  | "auth.refresh.reuse"
  | "auth.logout"
  | "auth.session.revoked"
  | "auth.key.issued"
  | "auth.key.revoked"
  | "auth.user.created"
  | "auth.user.deleted"
  | "auth.user.unlocked"
  | "auth.role.changed"
  | "auth.permission.denied";

/** One event to record; never put a secret in it. */
export interface AuditEntry {
  /** What happened. */
  event: AuditEvent;
  /** Whether it succeeded. */
  outcome: "success" | "failure";
  /** Who did it: a user, an API key or a static key. */
  actor?: { kind: string; id?: string | null; name?: string | null } | null;
  /** The id of what it was done to, e.g. a user or key. */
  target?: string | null;
  /** The HTTP method of the request. */
  method?: string | null;
  /** The request path. */
  path?: string | null;
  /** Further facts about the event; never a secret. */
  details?: Record<string, unknown> | null;
}

/** An audit event as listed. */
export type AuditOut = Omit<AuditRecord, "updated_at">;

/**
 * The audit log of auth events, stored in the service's database (and
 * mirrored to the logger), listed newest first.
 */
export class AuditLog {
  readonly #repository: Repository<AuditRecord>;
  readonly #logger: Logger | undefined;

  /** Creates the audit log over its repository, mirroring events to a logger when given. */
  constructor(repository: Repository<AuditRecord>, logger?: Logger) {
    this.#repository = repository;
    this.#logger = logger;
  }

  /** Stores an event. A failure to store is logged, never thrown into the request. */
  async record(entry: AuditEntry): Promise<void> {
    const row = {
      event: entry.event,
      outcome: entry.outcome,
      actor_kind: entry.actor?.kind ?? null,
      actor_id: entry.actor?.id ?? null,
      actor_name: entry.actor?.name ?? null,
      target: entry.target ?? null,
      method: entry.method ?? null,
      path: entry.path ?? null,
      details: entry.details ?? null,
    };
    this.#logger?.info(entry.event, { outcome: row.outcome, actor: row.actor_name, target: row.target, path: row.path });
    try {
      await this.#repository.insert(row);
    } catch (error) {
      this.#logger?.error("auth.audit.failed", { event: entry.event, error });
    }
  }

  /** One page of events, newest first, optionally of one event type. */
  async page(page: number, size: number, filter: { event?: string; outcome?: string } = {}): Promise<Page<AuditOut>> {
    const where = whereEquals({ event: filter.event, outcome: filter.outcome });
    const query = where ? { filter: where } : {};
    const [rows, total] = await Promise.all([
      this.#repository.findMany({ ...query, sort: [{ field: "id", direction: "desc" }], limit: size, offset: (page - 1) * size }),
      this.#repository.count(query),
    ]);
    const items = rows.map(({ updated_at: _u, ...rest }) => rest);
    return { items, total, page, size, pages: total === 0 ? 0 : Math.ceil(total / size) };
  }
}
