import { ConflictError, ForbiddenError, NotFoundError, RateLimitedError, ValidationError } from "../../core/errors.ts";
import type { Repository } from "../../core/repository.ts";
import { validateValue } from "../../core/validation.ts";
import type { AuthPrincipal } from "../../http/auth-guard.ts";
import type { RoleRegistry } from "./roles.ts";
import { ApiKeyIn, type ApiKeyInput, type ApiKeyRecord } from "./schema.ts";
import { hashSecret, newSecret, secretPrefix, secretsEqual } from "./secrets.ts";

/** An API key as listed (never the key or its hash). */
export interface ApiKeyView {
  /** The key's id. */
  id: string;
  /** When the key was issued. */
  created_at: string;
  /** When the key was last changed. */
  updated_at: string;
  /** A name to recognize the key by. */
  name: string;
  /** The key's first characters, to tell keys apart. */
  prefix: string;
  /** The role the key acts with. */
  role: string;
  /** Permissions that narrow the role; `null` for the whole role. */
  scopes: string[] | null;
  /** When the key stops working; `null` for never. */
  expires_at: string | null;
  /** When the key was last used (recorded at most once a minute). */
  last_used_at: string | null;
  /** When the key was revoked; `null` while it is valid. */
  revoked_at: string | null;
  /** Requests allowed per minute; `null` for no limit. */
  rate_limit: number | null;
  /** The key's tenant; `null` for a platform-wide key. */
  tenant_id: string | null;
}

/** A freshly issued API key: `key` is shown this once and stored only as a hash. */
export type IssuedApiKey = ApiKeyView & { key: string };

/** Who issues a key: its id is recorded, its role and scopes bound the key's. */
export interface IssuerPrincipal {
  /** The issuing user's or key's id. */
  id: string;
  /** The issuer's role. */
  role: string;
  /** Scopes narrowing the issuer's role; null or absent for the whole role. */
  scopes?: string[] | null;
}

/** Options of {@link ApiKeys}. */
export interface ApiKeysOptions {
  /** The service's roles (to check a key's role). */
  roles: RoleRegistry;
  /** Keys configured outside the database (environment, file); compared as hashes. */
  staticKeys?: readonly string[];
  /** Role of static keys (default `admin`). */
  staticRole?: string;
  /** Role of issued keys that name none (default `viewer`). */
  defaultRole?: string;
}

/** The prefix of every issued key. */
export const API_KEY_PREFIX = "ck_";

const USE_RECORD_INTERVAL_MS = 60_000;

function toView(record: ApiKeyRecord): ApiKeyView {
  return {
    id: record.id,
    created_at: record.created_at,
    updated_at: record.updated_at,
    name: record.name,
    prefix: record.prefix,
    role: record.role,
    scopes: record.scopes,
    expires_at: record.expires_at,
    last_used_at: record.last_used_at,
    revoked_at: record.revoked_at,
    rate_limit: record.rate_limit,
    tenant_id: record.tenant_id ?? null,
  };
}

/**
 * API keys: static keys from the environment, and keys the service issues,
 * stored as SHA-256 hashes with a name, role, scopes, optional expiry,
 * `last_used_at`, revocation and an optional per-minute rate limit.
 */
export class ApiKeys {
  readonly #repository: Repository<ApiKeyRecord>;
  readonly #options: ApiKeysOptions;
  readonly #staticHashes: string[];
  readonly #windows = new Map<string, { start: number; count: number }>();

  /** Creates the key store over its repository and the service's roles. */
  constructor(repository: Repository<ApiKeyRecord>, options: ApiKeysOptions) {
    this.#repository = repository;
    this.#options = options;
    this.#staticHashes = (options.staticKeys ?? []).filter((key) => key.length > 0).map(hashSecret);
  }

  /**
   * Issues a key; the returned `key` is never retrievable again. With an
   * `issuer`, the key's role and scopes must grant nothing the issuer lacks.
   *
   * @throws {ForbiddenError} when the key would hold more than its issuer.
   */
  async issue(body: unknown, issuer: IssuerPrincipal | null = null, now: number = Date.now()): Promise<IssuedApiKey> {
    const input = validateValue<ApiKeyInput>(ApiKeyIn, body, { loc: ["body"] });
    const role = input.role ?? this.#options.defaultRole ?? "viewer";
    if (!this.#options.roles.has(role)) {
      throw new ValidationError([{ loc: ["body", "role"], msg: `Unknown role ${role}`, type: "value_error" }]);
    }
    if (issuer && !this.#options.roles.canGrant(issuer, role, input.scopes ?? null)) {
      throw new ForbiddenError(`A key with role ${role}${input.scopes ? ` and scopes ${input.scopes.join(", ")}` : ""} would hold permissions its issuer lacks`);
    }
    const createdBy = issuer?.id ?? null;
    let expires = input.expires_at ?? null;
    if (input.expires_in !== undefined) expires = new Date(now + input.expires_in * 1000).toISOString();
    const key = newSecret(API_KEY_PREFIX);
    const record = await this.#repository.insert({
      name: input.name,
      key_hash: hashSecret(key),
      prefix: secretPrefix(key),
      role,
      scopes: input.scopes ?? null,
      expires_at: expires,
      last_used_at: null,
      revoked_at: null,
      rate_limit: input.rate_limit ?? null,
      created_by: createdBy,
      tenant_id: input.tenant_id ?? null,
    });
    return { ...toView(record), key };
  }

  /** Every issued key, newest first. */
  async list(): Promise<ApiKeyView[]> {
    const rows = await this.#repository.findMany({ sort: [{ field: "id", direction: "desc" }] });
    return rows.map(toView);
  }

  /** One issued key. @throws {NotFoundError} */
  async get(id: string): Promise<ApiKeyView> {
    const record = await this.#repository.findById(id);
    if (!record) throw new NotFoundError(`API key ${id} not found`);
    return toView(record);
  }

  /** Revokes a key (its record stays, for the audit trail). @throws {NotFoundError} @throws {ConflictError} */
  async revoke(id: string, now: number = Date.now()): Promise<ApiKeyView> {
    const record = await this.#repository.findById(id);
    if (!record) throw new NotFoundError(`API key ${id} not found`);
    if (record.revoked_at) throw new ConflictError(`API key ${id} is already revoked`);
    const updated = await this.#repository.update(id, { revoked_at: new Date(now).toISOString() });
    return toView(updated ?? record);
  }

  /**
   * The principal of a presented key, or null when it is unknown, revoked
   * or expired. @throws {RateLimitedError} when the key's rate limit is spent.
   */
  async authenticate(key: string, now: number = Date.now()): Promise<AuthPrincipal | null> {
    const hash = hashSecret(key);
    // Every static key is compared, in constant time, so timing tells nothing about which matched.
    let staticIndex = -1;
    this.#staticHashes.forEach((candidate, i) => {
      if (secretsEqual(candidate, hash) && staticIndex < 0) staticIndex = i;
    });
    if (staticIndex >= 0) {
      return { kind: "static_key", id: `static-${staticIndex + 1}`, name: `static key ${staticIndex + 1}`, role: this.#options.staticRole ?? "admin", scopes: null };
    }
    if (!key.startsWith(API_KEY_PREFIX)) return null;
    const [record] = await this.#repository.findMany({
      filter: { kind: "compare", field: "key_hash", op: "eq", value: hash },
      limit: 1,
    });
    if (!record || !secretsEqual(record.key_hash, hash)) return null;
    if (record.revoked_at) return null;
    if (record.expires_at && Date.parse(record.expires_at) <= now) return null;
    if (record.rate_limit !== null) this.#spend(record.id, record.rate_limit, now);
    if (!record.last_used_at || now - Date.parse(record.last_used_at) >= USE_RECORD_INTERVAL_MS) {
      await this.#repository.update(record.id, { last_used_at: new Date(now).toISOString() });
    }
    return { kind: "api_key", id: record.id, name: record.name, role: record.role, scopes: record.scopes, tenantId: record.tenant_id ?? null };
  }

  /** Counts one request against a per-minute window (per instance). */
  #spend(id: string, limit: number, now: number): void {
    const window = this.#windows.get(id);
    if (!window || now - window.start >= 60_000) {
      this.#windows.set(id, { start: now, count: 1 });
      return;
    }
    if (window.count >= limit) throw new RateLimitedError(Math.max(1, Math.ceil((window.start + 60_000 - now) / 1000)));
    window.count += 1;
  }
}
