import { createHmac, randomBytes } from "node:crypto";
import { defineTable, type EntityRecord, type TableDefinition } from "../../core/entity.ts";
import { ConflictError, NotFoundError, UnauthorizedError } from "../../core/errors.ts";
import type { Driver } from "../../db/driver.ts";
import type { Migration } from "../../db/migration.ts";
import { createRepository, type SqlRepository } from "../../db/repository.ts";
import { tableMigration } from "../../db/table-migration.ts";
import { hashSecret, secretsEqual } from "./secrets.ts";
import { matchTotp, newTotpSecret, otpauthUri, qrSvg } from "./totp.ts";

/** The TOTP enrolments (one per user; the secret is never selectable). */
export const MFA_TABLE: TableDefinition = defineTable({
  name: "auth_mfa",
  columns: {
    user_id: { type: "text", unique: true },
    secret: { type: "text", secret: true },
    confirmed_at: { type: "timestamp", nullable: true },
    last_counter: { type: "integer", nullable: true },
    recovery_codes: { type: "text", secret: true },
  },
});

/** A stored enrolment. */
export interface MfaRecord extends EntityRecord {
  /** The enrolled user. */
  user_id: string;
  /** The base32 TOTP secret. */
  secret: string;
  /** When the first code was confirmed; null while enrolment is pending. */
  confirmed_at: string | null;
  /** The last time step accepted: a code of this step or an earlier one is never accepted again. */
  last_counter: number | null;
  /** JSON array of SHA-256 hashes of the unused recovery codes. */
  recovery_codes: string;
}

/** The auth module's migration of the MFA table. */
export function mfaMigration(version: number): Migration {
  return { ...tableMigration(MFA_TABLE, "auth"), version };
}

/** MFA settings. */
export interface MfaOptions {
  /** Roles whose users must pass a second factor at login (enrolling first when they have none). */
  requiredRoles?: readonly string[];
  /** The issuer shown in authenticator apps (default the service's name or `chapkit`). */
  issuer?: string;
  /** Time steps accepted either side of now, for clock drift (default 1: ±30 s). */
  window?: number;
  /** Recovery codes made at confirmation (default 10). */
  recoveryCodes?: number;
}

/** What enrolment returns: the secret, the URI and its QR code (SVG). */
export interface TotpEnrolment {
  /** The base32 secret, for manual entry. */
  secret: string;
  /** The `otpauth://totp/…` URI. */
  otpauth_uri: string;
  /** The URI as a QR code (an SVG document). */
  qr_svg: string;
}

/** A login's second step: sign the challenge token with a code. */
export interface MfaChallenge {
  /** Always true: tells a challenge from a token pair. */
  mfa_required: true;
  /** True when the user must enrol first (`$enroll`, then `$confirm` with this token). */
  enrollment_required: boolean;
  /** Short-lived (5 minutes) proof that the password was right. */
  mfa_token: string;
  /** Seconds the token stays valid. */
  expires_in: number;
}

const CHALLENGE_TTL_S = 300;
const MAX_CHALLENGE_FAILURES = 5;

function recoveryCode(): string {
  const raw = randomBytes(8).toString("hex");
  return `${raw.slice(0, 8)}-${raw.slice(8)}`;
}

/**
 * TOTP second factor (RFC 6238): enrolment with an otpauth URI and QR code,
 * verification within a drift window with replay protection (a step, once
 * accepted, never again: one conditional UPDATE), single-use recovery codes,
 * and the signed challenge tokens between password and code.
 */
export class Mfa {
  /** The enrolments. */
  readonly repository: SqlRepository<MfaRecord>;
  readonly #db: Driver;
  readonly #options: MfaOptions;
  readonly #secret: string;
  readonly #failures = new Map<string, number>();

  /** Creates the TOTP store on a migrated database; `signingSecret` signs challenge tokens. */
  constructor(db: Driver, options: MfaOptions & { signingSecret: string }) {
    this.#db = db;
    this.repository = createRepository<MfaRecord>(db, MFA_TABLE);
    this.#options = options;
    this.#secret = options.signingSecret;
  }

  /** Whether users of this role must pass a second factor. */
  requiredFor(role: string): boolean {
    return this.#options.requiredRoles?.includes(role) ?? false;
  }

  async #find(userId: string): Promise<MfaRecord | null> {
    const [row] = await this.repository.findMany({ filter: { kind: "compare", field: "user_id", op: "eq", value: userId }, limit: 1 });
    return row ?? null;
  }

  /** Whether the user has a confirmed enrolment. */
  async enrolled(userId: string): Promise<boolean> {
    return (await this.#find(userId))?.confirmed_at != null;
  }

  /** Starts (or restarts, while unconfirmed) a user's enrolment. @throws {ConflictError} when already confirmed. */
  async enroll(userId: string, account: string): Promise<TotpEnrolment> {
    const existing = await this.#find(userId);
    if (existing?.confirmed_at) throw new ConflictError("TOTP is already set up for this user");
    const secret = newTotpSecret();
    if (existing) await this.repository.update(existing.id, { secret, last_counter: null });
    else await this.repository.insert({ user_id: userId, secret, confirmed_at: null, last_counter: null, recovery_codes: "[]" });
    const uri = otpauthUri(secret, { issuer: this.#options.issuer ?? "chapkit", account });
    return { secret, otpauth_uri: uri, qr_svg: await qrSvg(uri) };
  }

  /** Confirms an enrolment with a first code; returns the recovery codes (shown this once). @throws {UnauthorizedError} */
  async confirm(userId: string, code: string, now: number = Date.now()): Promise<string[]> {
    const row = await this.#find(userId);
    if (!row) throw new NotFoundError("No TOTP enrolment to confirm");
    if (row.confirmed_at) throw new ConflictError("TOTP is already set up for this user");
    await this.#spendCode(row, code, now);
    const codes = Array.from({ length: this.#options.recoveryCodes ?? 10 }, recoveryCode);
    await this.repository.update(row.id, { confirmed_at: new Date(now).toISOString(), recovery_codes: JSON.stringify(codes.map(hashSecret)) });
    return codes;
  }

  async #spendCode(row: MfaRecord, code: string, now: number): Promise<void> {
    const counter = matchTotp(row.secret, code.trim(), now, { window: this.#options.window ?? 1 });
    if (counter === null) throw new UnauthorizedError("Invalid code");
    // One conditional UPDATE: of two requests with the same code, exactly one wins.
    const { changes } = await this.#db.exec(
      `UPDATE "auth_mfa" SET "last_counter" = ? WHERE "id" = ? AND ("last_counter" IS NULL OR "last_counter" < ?)`,
      [counter, row.id, counter],
    );
    if (changes !== 1) throw new UnauthorizedError("Code already used");
  }

  /** Checks a TOTP code, or a recovery code (then spent). @throws {UnauthorizedError} */
  async verify(userId: string, input: { code?: string; recovery_code?: string }, now: number = Date.now()): Promise<void> {
    const row = await this.#find(userId);
    if (!row?.confirmed_at) throw new UnauthorizedError("TOTP is not set up");
    if (input.code !== undefined) return this.#spendCode(row, input.code, now);
    const hash = hashSecret((input.recovery_code ?? "").trim().toLowerCase());
    const codes = JSON.parse(row.recovery_codes) as string[];
    const left = codes.filter((stored) => !secretsEqual(stored, hash));
    if (left.length === codes.length) throw new UnauthorizedError("Invalid recovery code");
    const { changes } = await this.#db.exec(
      `UPDATE "auth_mfa" SET "recovery_codes" = ? WHERE "id" = ? AND "recovery_codes" = ?`,
      [JSON.stringify(left), row.id, row.recovery_codes],
    );
    if (changes !== 1) throw new UnauthorizedError("Recovery code already used");
  }

  /** Removes a user's enrolment (an administrator's reset). */
  async reset(userId: string): Promise<void> {
    const row = await this.#find(userId);
    if (row) await this.repository.delete(row.id);
  }

  /** A challenge token for a user whose password was right. */
  challenge(userId: string, enrollmentRequired: boolean, now: number = Date.now()): MfaChallenge {
    const expires = Math.floor(now / 1000) + CHALLENGE_TTL_S;
    const nonce = randomBytes(9).toString("base64url");
    const payload = `${userId}.${expires}.${nonce}`;
    const signature = createHmac("sha256", this.#secret).update(`mfa:${payload}`).digest("base64url");
    return { mfa_required: true, enrollment_required: enrollmentRequired, mfa_token: `${payload}.${signature}`, expires_in: CHALLENGE_TTL_S };
  }

  /**
   * The user a challenge token was made for. A token stops working after
   * {@link MAX_CHALLENGE_FAILURES} wrong codes (counted per instance).
   * @throws {UnauthorizedError} when forged, expired or spent.
   */
  challengedUser(token: string, now: number = Date.now()): string {
    const [userId, expires, nonce, signature] = token.split(".");
    const expected = createHmac("sha256", this.#secret).update(`mfa:${userId}.${expires}.${nonce}`).digest("base64url");
    if (!userId || !signature || !secretsEqual(signature, expected) || Number(expires) * 1000 <= now) {
      throw new UnauthorizedError("Invalid or expired MFA token");
    }
    if ((this.#failures.get(token) ?? 0) >= MAX_CHALLENGE_FAILURES) throw new UnauthorizedError("Too many wrong codes: log in again");
    return userId;
  }

  /** Counts a wrong code against a challenge token. */
  failed(token: string): void {
    if (this.#failures.size > 10_000) this.#failures.clear();
    this.#failures.set(token, (this.#failures.get(token) ?? 0) + 1);
  }
}

