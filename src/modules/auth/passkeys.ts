import { NotFoundError, UnauthorizedError } from "../../core/errors.ts";
import { importPeer } from "../../core/optional-peer.ts";
import { defineTable, type EntityRecord, type TableDefinition } from "../../core/entity.ts";
import type { Driver } from "../../db/driver.ts";
import type { Migration } from "../../db/migration.ts";
import { createRepository, type SqlRepository } from "../../db/repository.ts";
import { tableMigration } from "../../db/table-migration.ts";
import type { Tickets } from "./tickets.ts";
import type { UserRecord } from "./schema.ts";

/** Registered passkeys (WebAuthn credentials): public keys only. */
export const PASSKEYS_TABLE: TableDefinition = defineTable({
  name: "auth_passkeys",
  columns: {
    user_id: { type: "ulid", references: { table: "auth_users", onDelete: "cascade" } },
    credential_id: { type: "text", unique: true },
    public_key: { type: "text" },
    counter: { type: "integer" },
    transports: { type: "json", nullable: true },
    name: { type: "text" },
    backed_up: { type: "boolean" },
    last_used_at: { type: "timestamp", nullable: true },
  },
});

/** A stored passkey. */
export interface PasskeyRecord extends EntityRecord {
  /** The owner. */
  user_id: string;
  /** The credential id (base64url), as the authenticator names it. */
  credential_id: string;
  /** The COSE public key (base64url). */
  public_key: string;
  /** The authenticator's signature counter at its last use (0 for authenticators that keep none). */
  counter: number;
  /** How the browser may reach the authenticator (`internal`, `usb`, `hybrid`…). */
  transports: string[] | null;
  /** The user's name for it. */
  name: string;
  /** Whether the credential is synced (a multi-device passkey). */
  backed_up: boolean;
  /** When it last signed a login. */
  last_used_at: string | null;
}

/** A passkey as listed. */
export interface PasskeyView {
  /** The passkey's id (not the credential id). */
  id: string;
  /** The user's name for it. */
  name: string;
  /** When it was registered. */
  created_at: string;
  /** When it last signed a login. */
  last_used_at: string | null;
  /** Whether it is synced across devices. */
  backed_up: boolean;
}

/** The auth module's migration of the passkeys table. */
export function passkeysMigration(version: number): Migration {
  return { ...tableMigration(PASSKEYS_TABLE, "auth"), version };
}

/** Options of `withAuth({ passkeys })`. */
export interface PasskeyOptions {
  /** The relying party id: the site's domain (`lab.example.org`; `localhost` in development). */
  rpId: string;
  /** The name authenticators show. */
  rpName: string;
  /** The origins pages call WebAuthn from, e.g. `https://lab.example.org`. */
  origins: readonly string[];
  /**
   * Whether the authenticator must verify the user (PIN, biometrics); default
   * `required`. A verified passkey login counts as two factors, so it skips TOTP.
   */
  userVerification?: "required" | "preferred";
  /** Seconds a ceremony may take (default 300). */
  timeoutSeconds?: number;
}

type WebAuthn = typeof import("@simplewebauthn/server");
type Json = Record<string, unknown>;

let loaded: Promise<WebAuthn> | undefined;
function webauthn(): Promise<WebAuthn> {
  loaded ??= importPeer("@simplewebauthn/server", "Passkeys", () => import("@simplewebauthn/server")).catch((error) => {
    loaded = undefined;
    throw error;
  });
  return loaded;
}

const fromB64 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, "base64url"));
const toB64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64url");

/** The challenge a WebAuthn response signed, read from its client data. @throws {UnauthorizedError} */
function challengeOf(response: Json): string {
  try {
    const client = JSON.parse(Buffer.from(String((response.response as Json).clientDataJSON), "base64url").toString("utf8")) as Json;
    if (typeof client.challenge === "string") return client.challenge;
  } catch {
    // answered below
  }
  throw new UnauthorizedError("Malformed WebAuthn response");
}

/**
 * Passkeys (WebAuthn) with `@simplewebauthn/server`: registration by a
 * logged-in user, then login with the passkey alone (discoverable
 * credentials) or after naming the user. Each ceremony's challenge is a
 * single-use ticket, so a response is accepted once; a signature counter
 * that does not grow is refused (a cloned authenticator).
 */
export class Passkeys {
  readonly #repository: SqlRepository<PasskeyRecord>;
  readonly #db: Driver;
  readonly #tickets: Tickets;
  readonly #options: PasskeyOptions;

  /** Opens the passkeys of a migrated store. */
  constructor(db: Driver, tickets: Tickets, options: PasskeyOptions) {
    this.#db = db;
    this.#repository = createRepository<PasskeyRecord>(db, PASSKEYS_TABLE);
    this.#tickets = tickets;
    this.#options = options;
  }

  get #ttl(): number {
    return this.#options.timeoutSeconds ?? 300;
  }

  get #requireVerification(): boolean {
    return (this.#options.userVerification ?? "required") === "required";
  }

  /** A user's passkeys, oldest first. */
  async list(userId: string): Promise<PasskeyView[]> {
    const rows = await this.#repository.findMany({ filter: { kind: "compare", field: "user_id", op: "eq", value: userId }, sort: [{ field: "id", direction: "asc" }] });
    return rows.map((row) => ({ id: row.id, name: row.name, created_at: row.created_at, last_used_at: row.last_used_at, backed_up: row.backed_up }));
  }

  /** Deletes one of a user's passkeys. @throws {NotFoundError} (also for another user's) */
  async remove(userId: string, id: string): Promise<void> {
    const row = await this.#repository.findById(id);
    if (!row || row.user_id !== userId) throw new NotFoundError(`Passkey ${id} not found`);
    await this.#repository.delete(id);
  }

  /** Options for `navigator.credentials.create()` (the JSON form), for a logged-in user. */
  async registrationOptions(user: UserRecord): Promise<Json> {
    const lib = await webauthn();
    const existing = await this.#repository.findMany({ filter: { kind: "compare", field: "user_id", op: "eq", value: user.id } });
    const challenge = await this.#tickets.issue("webauthn_register", { user_id: user.id }, this.#ttl);
    return await lib.generateRegistrationOptions({
      rpName: this.#options.rpName,
      rpID: this.#options.rpId,
      userName: user.username,
      userID: new TextEncoder().encode(user.id),
      challenge,
      timeout: this.#ttl * 1000,
      attestationType: "none",
      excludeCredentials: existing.map((row) => ({ id: row.credential_id, ...(row.transports ? { transports: row.transports as never } : {}) })),
      authenticatorSelection: { residentKey: "required", userVerification: this.#options.userVerification ?? "required" },
    }) as unknown as Json;
  }

  /** Verifies a registration response and stores the passkey. @throws {UnauthorizedError} */
  async register(user: UserRecord, response: Json, name: string | null): Promise<PasskeyView> {
    const lib = await webauthn();
    const challenge = challengeOf(response);
    const ticket = await this.#tickets.redeem("webauthn_register", Buffer.from(challenge, "base64url").toString("utf8"));
    if (!ticket || ticket.user_id !== user.id) throw new UnauthorizedError("Unknown, used or expired registration challenge");
    let result;
    try {
      result = await lib.verifyRegistrationResponse({
        response: response as never,
        expectedChallenge: challenge,
        expectedOrigin: [...this.#options.origins],
        expectedRPID: this.#options.rpId,
        requireUserVerification: this.#requireVerification,
      });
    } catch (error) {
      throw new UnauthorizedError(`Passkey registration refused: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (!result.verified) throw new UnauthorizedError("Passkey registration refused");
    const { credential, credentialBackedUp } = result.registrationInfo;
    const row = await this.#repository.insert({
      user_id: user.id,
      credential_id: credential.id,
      public_key: toB64(credential.publicKey),
      counter: credential.counter,
      transports: credential.transports ?? null,
      name: name ?? "Passkey",
      backed_up: credentialBackedUp,
      last_used_at: null,
    });
    return { id: row.id, name: row.name, created_at: row.created_at, last_used_at: null, backed_up: row.backed_up };
  }

  /** Options for `navigator.credentials.get()`: any passkey of this site, or only those of `user` when named. */
  async authenticationOptions(user: UserRecord | null): Promise<Json> {
    const lib = await webauthn();
    const rows = user ? await this.#repository.findMany({ filter: { kind: "compare", field: "user_id", op: "eq", value: user.id } }) : [];
    const challenge = await this.#tickets.issue("webauthn_login", {}, this.#ttl);
    return await lib.generateAuthenticationOptions({
      rpID: this.#options.rpId,
      challenge,
      timeout: this.#ttl * 1000,
      userVerification: this.#options.userVerification ?? "required",
      allowCredentials: rows.map((row) => ({ id: row.credential_id, ...(row.transports ? { transports: row.transports as never } : {}) })),
    }) as unknown as Json;
  }

  /**
   * Verifies a login response: the user id whose passkey signed it, and
   * whether the authenticator verified the user. @throws {UnauthorizedError}
   */
  async authenticate(response: Json, now: number = Date.now()): Promise<{ userId: string; userVerified: boolean }> {
    const lib = await webauthn();
    const challenge = challengeOf(response);
    const ticket = await this.#tickets.redeem("webauthn_login", Buffer.from(challenge, "base64url").toString("utf8"));
    if (!ticket) throw new UnauthorizedError("Unknown, used or expired login challenge");
    const [row] = await this.#repository.findMany({ filter: { kind: "compare", field: "credential_id", op: "eq", value: String(response.id ?? "") }, limit: 1 });
    if (!row) throw new UnauthorizedError("Unknown passkey");
    let result;
    try {
      result = await lib.verifyAuthenticationResponse({
        response: response as never,
        expectedChallenge: challenge,
        expectedOrigin: [...this.#options.origins],
        expectedRPID: this.#options.rpId,
        credential: { id: row.credential_id, publicKey: fromB64(row.public_key) as never, counter: row.counter, ...(row.transports ? { transports: row.transports as never } : {}) },
        requireUserVerification: this.#requireVerification,
      });
    } catch (error) {
      throw new UnauthorizedError(`Passkey login refused: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (!result.verified) throw new UnauthorizedError("Passkey login refused");
    const { newCounter, userVerified } = result.authenticationInfo;
    // The counter only grows; a conditional update keeps two concurrent uses from both passing.
    const { changes } = await this.#db.exec(
      `UPDATE "auth_passkeys" SET "counter" = ?, "last_used_at" = ?, "updated_at" = ? WHERE "id" = ? AND ("counter" < ? OR ("counter" = 0 AND ? = 0))`,
      [newCounter, new Date(now).toISOString(), new Date(now).toISOString(), row.id, newCounter, newCounter],
    );
    if (changes !== 1) throw new UnauthorizedError("Passkey login refused: the signature counter did not grow (a cloned authenticator?)");
    return { userId: row.user_id, userVerified };
  }
}
