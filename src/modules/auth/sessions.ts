import { NotFoundError, UnauthorizedError } from "../../core/errors.ts";
import type { Driver } from "../../db/driver.ts";
import type { AuthPrincipal } from "../../http/auth-guard.ts";
import type { AuthStores } from "./store.ts";
import type { SessionRecord, UserRecord } from "./schema.ts";
import { hashSecret, newSecret, secretsEqual } from "./secrets.ts";
import type { AccessTokens } from "./tokens.ts";

/** What login and refresh return (OAuth 2 token response field names). */
export interface TokenPair {
  /** The access token (a signed JWT). */
  access_token: string;
  /** Always `bearer`. */
  token_type: "bearer";
  /** Seconds until the access token expires. */
  expires_in: number;
  /** A single-use refresh token; using it again revokes the whole session. */
  refresh_token: string;
  /** Seconds until the refresh token expires. */
  refresh_expires_in: number;
  /** ULID of the session: signing out with it revokes every refresh token of the family. */
  session_id: string;
}

/** A session as listed. */
export interface SessionView {
  /** ULID of the session: signing out with it revokes every refresh token of the family. */
  id: string;
  /** When the user logged in. */
  created_at: string;
  /** The user the session belongs to. */
  user_id: string;
  /** When the session ends. */
  expires_at: string;
  /** When the session was last used: its login or latest refresh. */
  last_used_at: string | null;
  /** When the session was revoked. */
  revoked_at: string | null;
  /** The `User-Agent` of the login. */
  user_agent: string | null;
  /** Whether the session is neither revoked nor expired. */
  active: boolean;
}

/** The outcome of a refresh that was refused, for the audit log. */
export class RefreshRefused extends UnauthorizedError {
  /** `unknown`, `expired`, `revoked` or `reuse` (a rotated token presented again). */
  readonly reason: "unknown" | "expired" | "revoked" | "reuse";
  /** The session concerned, when known. */
  readonly session: SessionRecord | null;
  constructor(reason: RefreshRefused["reason"], session: SessionRecord | null) {
    super("Invalid refresh token");
    this.reason = reason;
    this.session = session;
  }
}

/** Starts every refresh token, so leaked tokens are recognisable to secret scanners and in logs. */
export const REFRESH_TOKEN_PREFIX = "ckr_";

/**
 * Login sessions: each is a family of rotating refresh tokens (stored as
 * hashes). Refreshing spends the token and issues the next one; presenting a
 * spent token again revokes the whole family. Access tokens name their
 * session, so revoking it invalidates them at once.
 */
export class Sessions {
  readonly #stores: AuthStores;
  readonly #db: Driver;
  readonly #tokens: AccessTokens;
  readonly #refreshTtl: number;

  /** Creates the session store; refresh tokens live 30 days unless `refreshTtlSeconds` says otherwise. */
  constructor(stores: AuthStores, db: Driver, options: { tokens: AccessTokens; refreshTtlSeconds?: number }) {
    this.#stores = stores;
    this.#db = db;
    this.#tokens = options.tokens;
    this.#refreshTtl = options.refreshTtlSeconds ?? 30 * 24 * 3600;
  }

  /** Starts a session for a user who just logged in. */
  async start(user: UserRecord, userAgent: string | null = null, now: number = Date.now()): Promise<TokenPair> {
    const session = await this.#stores.sessions.insert({
      user_id: user.id,
      expires_at: new Date(now + this.#refreshTtl * 1000).toISOString(),
      revoked_at: null,
      revoked_reason: null,
      last_used_at: new Date(now).toISOString(),
      user_agent: userAgent?.slice(0, 256) ?? null,
    });
    return this.#pair(user, session, now);
  }

  /** Rotates a refresh token. @throws {RefreshRefused} */
  async refresh(token: string, now: number = Date.now()): Promise<{ pair: TokenPair; user: UserRecord }> {
    const hash = hashSecret(token);
    const [row] = await this.#stores.refreshTokens.findMany({
      filter: { kind: "compare", field: "token_hash", op: "eq", value: hash },
      limit: 1,
    });
    if (!row || !secretsEqual(row.token_hash, hash)) throw new RefreshRefused("unknown", null);
    const session = await this.#stores.sessions.findById(row.session_id);
    if (!session) throw new RefreshRefused("unknown", null);
    if (session.revoked_at) throw new RefreshRefused("revoked", session);
    // Spending is one conditional update, so two concurrent uses cannot both succeed.
    const { changes } = await this.#db.exec(
      `UPDATE "auth_refresh_tokens" SET "used_at" = ?, "updated_at" = ? WHERE "id" = ? AND "used_at" IS NULL`,
      [new Date(now).toISOString(), new Date(now).toISOString(), row.id],
    );
    if (changes !== 1) {
      await this.revoke(session.id, "refresh token reuse", now);
      throw new RefreshRefused("reuse", session);
    }
    if (Date.parse(row.expires_at) <= now || Date.parse(session.expires_at) <= now) {
      throw new RefreshRefused("expired", session);
    }
    const user = await this.#stores.users.findById(session.user_id);
    if (!user || user.disabled) throw new RefreshRefused("revoked", session);
    await this.#stores.sessions.update(session.id, { last_used_at: new Date(now).toISOString() });
    return { pair: await this.#pair(user, session, now), user };
  }

  /** Revokes a session (and so its refresh and access tokens). Idempotent. */
  async revoke(sessionId: string, reason: string, now: number = Date.now()): Promise<void> {
    await this.#db.exec(
      `UPDATE "auth_sessions" SET "revoked_at" = ?, "revoked_reason" = ?, "updated_at" = ? WHERE "id" = ? AND "revoked_at" IS NULL`,
      [new Date(now).toISOString(), reason, new Date(now).toISOString(), sessionId],
    );
  }

  /** A user's sessions, newest first. */
  async listFor(userId: string, now: number = Date.now()): Promise<SessionView[]> {
    const rows = await this.#stores.sessions.findMany({
      filter: { kind: "compare", field: "user_id", op: "eq", value: userId },
      sort: [{ field: "id", direction: "desc" }],
    });
    return rows.map((row) => ({
      id: row.id,
      created_at: row.created_at,
      user_id: row.user_id,
      expires_at: row.expires_at,
      last_used_at: row.last_used_at,
      revoked_at: row.revoked_at,
      user_agent: row.user_agent,
      active: row.revoked_at === null && Date.parse(row.expires_at) > now,
    }));
  }

  /** A session. @throws {NotFoundError} */
  async require(sessionId: string): Promise<SessionRecord> {
    const session = await this.#stores.sessions.findById(sessionId);
    if (!session) throw new NotFoundError(`Session ${sessionId} not found`);
    return session;
  }

  /** The principal of a valid access token whose session and user are still active, or null. */
  async authenticate(token: string, now: number = Date.now()): Promise<AuthPrincipal | null> {
    const claims = await this.#tokens.verify(token);
    if (!claims) return null;
    const session = await this.#stores.sessions.findById(claims.sid);
    if (!session || session.revoked_at || session.user_id !== claims.sub) return null;
    if (Date.parse(session.expires_at) <= now) return null;
    const user = await this.#stores.users.findById(claims.sub);
    if (!user || user.disabled) return null;
    return { kind: "user", id: user.id, name: user.username, role: user.role, scopes: null, sessionId: session.id, tenantId: user.tenant_id ?? null };
  }

  async #pair(user: UserRecord, session: SessionRecord, now: number): Promise<TokenPair> {
    const refresh = newSecret(REFRESH_TOKEN_PREFIX);
    const expires = Math.min(now + this.#refreshTtl * 1000, Date.parse(session.expires_at));
    await this.#stores.refreshTokens.insert({
      session_id: session.id,
      token_hash: hashSecret(refresh),
      expires_at: new Date(expires).toISOString(),
      used_at: null,
    });
    const access = await this.#tokens.sign({ sub: user.id, sid: session.id, typ: "access", role: user.role }, now);
    return {
      access_token: access,
      token_type: "bearer",
      expires_in: this.#tokens.ttlSeconds,
      refresh_token: refresh,
      refresh_expires_in: Math.max(0, Math.floor((expires - now) / 1000)),
      session_id: session.id,
    };
  }
}
