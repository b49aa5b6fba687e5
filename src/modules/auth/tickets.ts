import { defineTable, type EntityRecord, type TableDefinition } from "../../core/entity.ts";
import type { Driver } from "../../db/driver.ts";
import type { Migration } from "../../db/migration.ts";
import { createRepository, type SqlRepository } from "../../db/repository.ts";
import { tableMigration } from "../../db/table-migration.ts";
import { hashSecret, newSecret } from "./secrets.ts";

/**
 * Short-lived single-use tickets: OIDC login state, magic links, WebAuthn
 * challenges, SAML request ids. Only the token's hash is stored.
 */
export const TICKETS_TABLE: TableDefinition = defineTable({
  name: "auth_tickets",
  columns: {
    purpose: { type: "text" },
    token_hash: { type: "text", unique: true, secret: true },
    data: { type: "json", secret: true },
    expires_at: { type: "timestamp", indexed: true },
  },
});

/** A stored ticket. */
export interface TicketRecord extends EntityRecord {
  /** What the ticket is for (`oidc`, `magic_link`, `webauthn`, `saml`). */
  purpose: string;
  /** SHA-256 of the token. */
  token_hash: string;
  /** What the ticket carries (nonce, PKCE verifier, user id…). */
  data: Record<string, unknown>;
  /** When it stops being accepted. */
  expires_at: string;
}

/** The auth module's migration of the tickets table. */
export function ticketsMigration(version: number): Migration {
  return { ...tableMigration(TICKETS_TABLE, "auth"), version };
}

/** Single-use, expiring tickets kept in the service's store (so any instance may redeem them). */
export class Tickets {
  readonly #db: Driver;
  readonly #repository: SqlRepository<TicketRecord>;

  /** Opens the tickets of a migrated store. */
  constructor(db: Driver) {
    this.#db = db;
    this.#repository = createRepository<TicketRecord>(db, TICKETS_TABLE);
  }

  /** Issues a ticket for `ttlSeconds`: the token to hand out (only its hash is kept). */
  async issue(purpose: string, data: Record<string, unknown>, ttlSeconds: number, now: number = Date.now()): Promise<string> {
    const token = newSecret("");
    await this.#repository.insert({ purpose, token_hash: hashSecret(token), data, expires_at: new Date(now + ttlSeconds * 1000).toISOString() });
    // Expired tickets are swept as new ones are made.
    await this.#db.exec(`DELETE FROM "auth_tickets" WHERE "expires_at" < ?`, [new Date(now).toISOString()]);
    return token;
  }

  /** How many unexpired tickets of exactly this purpose exist (e.g. links sent to one user). */
  async active(purpose: string, now: number = Date.now()): Promise<number> {
    const [row] = await this.#db.query<{ n: number | string }>(
      `SELECT COUNT(*) AS n FROM "auth_tickets" WHERE "purpose" = ? AND "expires_at" > ?`,
      [purpose, new Date(now).toISOString()],
    );
    return Number(row?.n ?? 0);
  }

  /**
   * Spends a ticket: its data once, then never again (one conditional
   * delete, so two concurrent redemptions cannot both succeed). Null when it
   * is unknown, spent, expired or of another purpose (`purpose` also
   * matches `purpose:…`, tickets issued per subject).
   */
  async redeem(purpose: string, token: string, now: number = Date.now()): Promise<Record<string, unknown> | null> {
    if (!token) return null;
    const [row] = await this.#repository.findMany({
      filter: { kind: "compare", field: "token_hash", op: "eq", value: hashSecret(token) },
      limit: 1,
    });
    if (!row || (row.purpose !== purpose && !row.purpose.startsWith(`${purpose}:`))) return null;
    const { changes } = await this.#db.exec(`DELETE FROM "auth_tickets" WHERE "id" = ?`, [row.id]);
    if (changes !== 1 || Date.parse(row.expires_at) <= now) return null;
    return row.data;
  }
}
