import { NotFoundError, UnauthorizedError, ValidationError } from "../../core/errors.ts";
import type { Logger } from "../../core/logging.ts";
import { validateValue } from "../../core/validation.ts";
import type { Driver } from "../../db/driver.ts";
import { type AuthBackend, authenticateWith } from "../../http/auth-backend.ts";
import type { AuthPrincipal } from "../../http/auth-guard.ts";
import { apiKeyBackend, bearerTokenBackend } from "./backends.ts";
import { ApiKeys } from "./api-keys.ts";
import { AuditLog } from "./audit.ts";
import type { ScryptCost } from "./password.ts";
import { BUILTIN_ROLES, type RoleDefinition, RoleRegistry } from "./roles.ts";
import { API_KEYS_TABLE, RoleIn, type RoleInput, USERS_TABLE, type UserRecord } from "./schema.ts";
import type { RowAccess } from "../../http/row-policy.ts";
import { RefreshRefused, Sessions, type TokenPair } from "./sessions.ts";
import { type AuthStores, createAuthStores } from "./store.ts";
import { AccessTokens } from "./tokens.ts";
import { LoginThrottle } from "./login-throttle.ts";
import { Tickets } from "./tickets.ts";
import { Mfa, type MfaChallenge, type MfaOptions, type TotpEnrolment } from "./mfa.ts";
import { createUserManager, LoginRefused, type LoginPolicy, PasswordCheck, type UserManager } from "./users.ts";

/** Settings of {@link AuthManager} (see `authModule` for their defaults from the environment). */
export interface AuthManagerOptions {
  /** HMAC secret of access tokens (≥ 32 characters). */
  jwtSecret: string;
  /** Access token lifetime in seconds (default 900). */
  accessTokenTtlSeconds?: number;
  /** Refresh token (and session) lifetime in seconds (default 30 days). */
  refreshTokenTtlSeconds?: number;
  /** JWT issuer (default `chapkit`). */
  issuer?: string;
  /** Keys accepted without being issued (from `CHAPKIT_API_KEYS` / `CHAPKIT_API_KEY_FILE`). */
  staticKeys?: readonly string[];
  /** Role of static keys (default `admin`). */
  staticKeyRole?: string;
  /** Custom roles defined in code (built-in roles cannot be redefined). */
  roles?: Record<string, RoleDefinition>;
  /** Failed-login throttling. */
  loginPolicy?: Partial<LoginPolicy>;
  /** scrypt cost of new password hashes. */
  passwordCost?: ScryptCost;
  /** Where audit events are mirrored. */
  logger?: Logger;
  /** TOTP second factor: roles that require it, issuer, drift window. */
  mfa?: MfaOptions;
  /** Row-level access: with tenancy on, users and keys are reached through it (tenant admins see their own). */
  rowAccess?: RowAccess;
}

/** Where a request came from, for the audit log. */
export interface RequestOrigin {
  /** The HTTP method. */
  method?: string;
  /** The request path. */
  path?: string;
  /** The client's `User-Agent` header. */
  userAgent?: string | null;
  /** The client's address (the throttle key beside the username). */
  address?: string;
}

/**
 * Everything about authentication and authorization, usable without HTTP:
 * users, passwords, sessions and tokens, API keys, roles and the audit log.
 */
export class AuthManager {
  /** The users entity manager. */
  readonly users: UserManager;
  /** Issued and static API keys. */
  readonly keys: ApiKeys;
  /** Sessions and refresh tokens. */
  readonly sessions: Sessions;
  /** Where sign-ins, session and key changes are recorded (in the service's database, mirrored to the logger). */
  readonly audit: AuditLog;
  /** The service's roles. */
  readonly roles: RoleRegistry;
  /** The repositories. */
  readonly stores: AuthStores;
  /** Failed-login counting per (username, client address). */
  readonly throttle: LoginThrottle;
  /** TOTP second factor and recovery codes. */
  readonly mfa: Mfa;
  /** Single-use expiring tickets (login state, magic links, challenges). */
  readonly tickets: Tickets;
  readonly #codeRoles: Record<string, RoleDefinition>;
  readonly #passwords: PasswordCheck;

  /** Creates the auth stores on a database and the managers over them. */
  constructor(db: Driver, options: AuthManagerOptions) {
    const stores = createAuthStores(db);
    const access = options.rowAccess;
    this.stores = access?.isTenantTable(USERS_TABLE.name)
      ? { ...stores, users: access.guard(stores.users, USERS_TABLE), apiKeys: access.guard(stores.apiKeys, API_KEYS_TABLE) }
      : stores;
    this.#codeRoles = options.roles ?? {};
    this.roles = new RoleRegistry(this.#codeRoles);
    this.audit = new AuditLog(this.stores.audit, options.logger);
    this.users = createUserManager(this.stores.users, { roles: this.roles, ...(options.passwordCost ? { cost: options.passwordCost } : {}) });
    this.throttle = new LoginThrottle(db, options.loginPolicy ?? {});
    this.mfa = new Mfa(db, { ...options.mfa, signingSecret: options.jwtSecret });
    this.tickets = new Tickets(db);
    this.#passwords = new PasswordCheck(this.stores.users, this.throttle, {
      ...(options.passwordCost ? { cost: options.passwordCost } : {}),
    });
    this.keys = new ApiKeys(this.stores.apiKeys, {
      roles: this.roles,
      staticKeys: options.staticKeys ?? [],
      staticRole: options.staticKeyRole ?? "admin",
    });
    const tokens = new AccessTokens({
      secret: options.jwtSecret,
      ...(options.issuer ? { issuer: options.issuer } : {}),
      ...(options.accessTokenTtlSeconds ? { ttlSeconds: options.accessTokenTtlSeconds } : {}),
    });
    this.sessions = new Sessions(this.stores, db, {
      tokens,
      ...(options.refreshTokenTtlSeconds ? { refreshTtlSeconds: options.refreshTokenTtlSeconds } : {}),
    });
  }

  /** Loads the stored custom roles into the role registry. */
  async loadRoles(): Promise<void> {
    const stored = await this.stores.roles.findMany();
    const roles: Record<string, RoleDefinition> = { ...this.#codeRoles };
    for (const row of stored) {
      roles[row.name] = { inherits: row.inherits, permissions: row.permissions, ...(row.description ? { description: row.description } : {}) };
    }
    this.roles.replace(roles);
  }

  /** Creates or replaces a stored custom role. @throws {ValidationError} for built-in or unknown parents. */
  async saveRole(body: unknown): Promise<Required<RoleInput>> {
    const input = validateValue<RoleInput>(RoleIn, body, { loc: ["body"] });
    if (input.name in BUILTIN_ROLES) {
      throw new ValidationError([{ loc: ["body", "name"], msg: `Built-in role ${input.name} cannot be changed`, type: "value_error" }]);
    }
    for (const parent of input.inherits ?? []) {
      if (!this.roles.has(parent) && parent !== input.name) {
        throw new ValidationError([{ loc: ["body", "inherits"], msg: `Unknown role ${parent}`, type: "value_error" }]);
      }
    }
    const values: Required<RoleInput> & { description: string | null } = { name: input.name, inherits: input.inherits ?? [], permissions: input.permissions, description: input.description ?? null };
    const [existing] = await this.stores.roles.findMany({ filter: { kind: "compare", field: "name", op: "eq", value: input.name }, limit: 1 });
    if (existing) await this.stores.roles.update(existing.id, values);
    else await this.stores.roles.insert(values);
    await this.loadRoles();
    return values;
  }

  /** Deletes a stored custom role. @throws {NotFoundError} */
  async deleteRole(name: string): Promise<void> {
    const [existing] = await this.stores.roles.findMany({ filter: { kind: "compare", field: "name", op: "eq", value: name }, limit: 1 });
    if (!existing) throw new NotFoundError(`Role ${name} not found`);
    await this.stores.roles.delete(existing.id);
    await this.loadRoles();
  }

  /** Whether a principal holds a permission (its role, narrowed by its scopes). */
  authorize(principal: AuthPrincipal, permission: string): boolean {
    return this.roles.allows(principal.role, permission, principal.scopes);
  }

  /**
   * The built-in backends: API keys in `apiKeyHeader` (static and issued),
   * then bearer access tokens. The auth guard asks a service's own backends
   * (`AuthOptions.backends`) first, then these.
   */
  builtinBackends(apiKeyHeader = "x-api-key"): AuthBackend[] {
    return [apiKeyBackend(this.keys, apiKeyHeader), bearerTokenBackend(this.sessions)];
  }

  /**
   * The principal behind a request's credentials: an `X-API-Key` (or the
   * configured header) or a bearer access token. Null without credentials.
   * @throws {UnauthorizedError} for bad credentials. @throws {RateLimitedError}
   */
  authenticate(headers: Headers, apiKeyHeader = "x-api-key"): Promise<AuthPrincipal | null> {
    return authenticateWith(this.builtinBackends(apiKeyHeader), new Request("http://localhost/", { headers }));
  }

  /**
   * Lifts every login throttle and lock of a user, from every address.
   * @throws {NotFoundError} unknown user.
   */
  async unlock(userId: string): Promise<void> {
    const user = await this.stores.users.findById(userId);
    if (!user) throw new NotFoundError(`User ${userId} not found`);
    await this.throttle.unlock(user.username);
    await this.stores.users.update(userId, { failed_logins: 0, locked_until: null, last_failed_at: null });
  }

  /**
   * Logs a user in: a token pair, audited either way. A user with TOTP set
   * up, or of a role that requires it, gets an {@link MfaChallenge} instead,
   * to be completed with {@link AuthManager.completeMfa}.
   * @throws {UnauthorizedError} @throws {RateLimitedError}
   */
  async signIn(username: string, password: string, origin: RequestOrigin = {}): Promise<TokenPair | MfaChallenge> {
    let user: UserRecord;
    try {
      user = await this.#passwords.check(username, password, origin.address);
    } catch (error) {
      if (!(error instanceof LoginRefused)) throw error;
      await this.audit.record({
        event: error.reason === "locked" ? "auth.login.locked" : "auth.login",
        outcome: "failure",
        actor: { kind: "user", id: error.user?.id ?? null, name: username.slice(0, 128) },
        method: origin.method ?? null,
        path: origin.path ?? null,
        details: { reason: error.reason },
      });
      throw error.error;
    }
    const enrolled = await this.mfa.enrolled(user.id);
    if (enrolled || this.mfa.requiredFor(user.role)) {
      await this.audit.record({
        event: "auth.login.mfa_challenge",
        outcome: "success",
        actor: { kind: "user", id: user.id, name: user.username },
        method: origin.method ?? null,
        path: origin.path ?? null,
        details: { enrollment_required: !enrolled },
      });
      return this.mfa.challenge(user.id, !enrolled);
    }
    return this.#start(user, origin);
  }

  /**
   * Logs in a user whom another method vouched for (an OpenID provider, a
   * magic link, a passkey, a SAML assertion): a token pair, or an
   * {@link MfaChallenge} when the user has TOTP or a role that requires it
   * (unless `method` already proved a second factor, as a passkey with user
   * verification does). Refused for a disabled user. @throws {UnauthorizedError}
   */
  async signInVia(user: UserRecord, method: string, origin: RequestOrigin = {}, options: { strong?: boolean; details?: Record<string, unknown> } = {}): Promise<TokenPair | MfaChallenge> {
    const actor = { kind: "user" as const, id: user.id, name: user.username };
    if (user.disabled) {
      await this.audit.record({ event: "auth.login", outcome: "failure", actor, method: origin.method ?? null, path: origin.path ?? null, details: { via: method, reason: "disabled", ...options.details } });
      throw new UnauthorizedError("This account is disabled");
    }
    const enrolled = await this.mfa.enrolled(user.id);
    if (!options.strong && (enrolled || this.mfa.requiredFor(user.role))) {
      await this.audit.record({ event: "auth.login.mfa_challenge", outcome: "success", actor, method: origin.method ?? null, path: origin.path ?? null, details: { via: method, enrollment_required: !enrolled } });
      return this.mfa.challenge(user.id, !enrolled);
    }
    await this.stores.users.update(user.id, { last_login_at: new Date().toISOString() });
    return this.#start(user, origin, false, { via: method, ...options.details });
  }

  /**
   * Logs a user in without a second factor. @throws {UnauthorizedError} also
   * when the user must pass one (use {@link AuthManager.signIn}).
   */
  async login(username: string, password: string, origin: RequestOrigin = {}): Promise<TokenPair> {
    const result = await this.signIn(username, password, origin);
    if ("mfa_required" in result) throw new UnauthorizedError("A second factor is required: use signIn and completeMfa");
    return result;
  }

  async #start(user: UserRecord, origin: RequestOrigin, mfa = false, details?: Record<string, unknown>): Promise<TokenPair> {
    const pair = await this.sessions.start(user, origin.userAgent ?? null);
    await this.audit.record({
      event: "auth.login",
      outcome: "success",
      actor: { kind: "user", id: user.id, name: user.username },
      target: pair.session_id,
      method: origin.method ?? null,
      path: origin.path ?? null,
      ...(mfa || details ? { details: { ...details, ...(mfa ? { mfa: true } : {}) } } : {}),
    });
    return pair;
  }

  async #challenged(token: string): Promise<UserRecord> {
    const user = await this.stores.users.findById(this.mfa.challengedUser(token));
    if (!user || user.disabled) throw new UnauthorizedError("Invalid or expired MFA token");
    return user;
  }

  /**
   * Completes a login challenge with a TOTP code or a recovery code: a token
   * pair. Wrong codes are audited and count against the token.
   * @throws {UnauthorizedError}
   */
  async completeMfa(token: string, input: { code?: string; recovery_code?: string }, origin: RequestOrigin = {}): Promise<TokenPair> {
    const user = await this.#challenged(token);
    try {
      await this.mfa.verify(user.id, input);
    } catch (error) {
      this.mfa.failed(token);
      await this.audit.record({
        event: "auth.login.mfa",
        outcome: "failure",
        actor: { kind: "user", id: user.id, name: user.username },
        method: origin.method ?? null,
        path: origin.path ?? null,
        details: { reason: error instanceof Error ? error.message : "invalid" },
      });
      throw error;
    }
    return this.#start(user, origin, true);
  }

  /** Starts TOTP enrolment for the user of a challenge token (a role that requires MFA, not yet enrolled). */
  async enrollChallenged(token: string): Promise<TotpEnrolment> {
    const user = await this.#challenged(token);
    return this.mfa.enroll(user.id, user.username);
  }

  /** Confirms the enrolment of a challenge token's user: its recovery codes and a token pair. */
  async confirmChallenged(token: string, code: string, origin: RequestOrigin = {}): Promise<TokenPair & { recovery_codes: string[] }> {
    const user = await this.#challenged(token);
    let codes: string[];
    try {
      codes = await this.mfa.confirm(user.id, code);
    } catch (error) {
      this.mfa.failed(token);
      throw error;
    }
    return { ...(await this.#start(user, origin, true)), recovery_codes: codes };
  }

  /** Rotates a refresh token; a reused token revokes its session and is audited. @throws {UnauthorizedError} */
  async refresh(token: string, origin: RequestOrigin = {}): Promise<TokenPair> {
    try {
      const { pair } = await this.sessions.refresh(token);
      return pair;
    } catch (error) {
      if (error instanceof RefreshRefused && error.reason === "reuse") {
        await this.audit.record({
          event: "auth.refresh.reuse",
          outcome: "failure",
          actor: { kind: "user", id: error.session?.user_id ?? null },
          target: error.session?.id ?? null,
          method: origin.method ?? null,
          path: origin.path ?? null,
          details: { action: "session revoked" },
        });
      }
      throw error;
    }
  }

  /** Ends the principal's session (bearer tokens) and audits it. */
  async logout(principal: AuthPrincipal, origin: RequestOrigin = {}): Promise<void> {
    if (principal.sessionId) await this.sessions.revoke(principal.sessionId, "logout");
    await this.audit.record({
      event: "auth.logout",
      outcome: "success",
      actor: { kind: principal.kind, id: principal.id, name: principal.name },
      target: principal.sessionId ?? null,
      method: origin.method ?? null,
      path: origin.path ?? null,
    });
  }
}
