import { type TObject, Type } from "@sinclair/typebox";
import { defineTable, type EntityRecord, type TableDefinition } from "../../core/entity.ts";
import { entityInputSchema, entityOutputSchema, TimestampSchema } from "../../core/schema.ts";

const USERS_COLUMNS_V1: TableDefinition["columns"] = {
    username: { type: "text", unique: true },
    password_hash: { type: "text", secret: true },
    role: { type: "text" },
    disabled: { type: "boolean" },
    failed_logins: { type: "integer" },
    last_failed_at: { type: "timestamp", nullable: true },
    locked_until: { type: "timestamp", nullable: true },
    last_login_at: { type: "timestamp", nullable: true },
};

/** The tenant column of users and API keys (migration 8): null for platform-wide principals. */
const TENANT_COLUMN = { type: "text", nullable: true } as const;

/** The users table as first created (migration 1). */
export const USERS_TABLE_V1: TableDefinition = defineTable({ name: "auth_users", columns: USERS_COLUMNS_V1, searchable: ["username"] });

/** The users table (passwords are stored only as scrypt hashes). */
export const USERS_TABLE: TableDefinition = defineTable({
  name: "auth_users",
  columns: { ...USERS_COLUMNS_V1, tenant_id: TENANT_COLUMN, email: { type: "text", nullable: true } },
  searchable: ["username"],
});

/** A stored user row. */
export interface UserRecord extends EntityRecord {
  /** The login name; unique. */
  username: string;
  /** The scrypt hash of the password. */
  password_hash: string;
  /** The user's role. */
  role: string;
  /** Whether the user is barred from logging in. */
  disabled: boolean;
  /** Failed logins in a row; reset by a success or a lockout. */
  failed_logins: number;
  /** When a login last failed. */
  last_failed_at: string | null;
  /** Until when logins are refused after too many failures. */
  locked_until: string | null;
  /** When the user last logged in. */
  last_login_at: string | null;
  /** The user's tenant; null for a platform-wide user. */
  tenant_id: string | null;
  /** The user's e-mail address, lower-cased (migration 10): the key of magic links and of linking an OpenID identity. */
  email: string | null;
}

const API_KEYS_COLUMNS_V1: TableDefinition["columns"] = {
    name: { type: "text" },
    key_hash: { type: "text", unique: true, secret: true },
    prefix: { type: "text" },
    role: { type: "text" },
    scopes: { type: "json", nullable: true },
    expires_at: { type: "timestamp", nullable: true },
    last_used_at: { type: "timestamp", nullable: true },
    revoked_at: { type: "timestamp", nullable: true },
    rate_limit: { type: "integer", nullable: true },
    created_by: { type: "text", nullable: true },
};

/** The API keys table as first created (migration 2). */
export const API_KEYS_TABLE_V1: TableDefinition = defineTable({ name: "auth_api_keys", columns: API_KEYS_COLUMNS_V1 });

/** The API keys table (keys are stored only as SHA-256 hashes). */
export const API_KEYS_TABLE: TableDefinition = defineTable({
  name: "auth_api_keys",
  columns: { ...API_KEYS_COLUMNS_V1, tenant_id: TENANT_COLUMN },
});

/** A stored API key row. */
export interface ApiKeyRecord extends EntityRecord {
  /** A name to recognize the key by. */
  name: string;
  /** The SHA-256 hash of the key. */
  key_hash: string;
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
  /** The id of the user who issued the key. */
  created_by: string | null;
  /** The key's tenant; null for a platform-wide key. */
  tenant_id: string | null;
}

/** Login sessions: one row per refresh-token family. */
export const SESSIONS_TABLE: TableDefinition = defineTable({
  name: "auth_sessions",
  columns: {
    user_id: { type: "ulid", references: { table: "auth_users", onDelete: "cascade" } },
    expires_at: { type: "timestamp" },
    revoked_at: { type: "timestamp", nullable: true },
    revoked_reason: { type: "text", nullable: true },
    last_used_at: { type: "timestamp", nullable: true },
    user_agent: { type: "text", nullable: true },
  },
});

/** A stored session row. */
export interface SessionRecord extends EntityRecord {
  /** The user the session belongs to. */
  user_id: string;
  /** When the session ends. */
  expires_at: string;
  /** When the session was revoked. */
  revoked_at: string | null;
  /** Why the session was revoked, e.g. logout or refresh token reuse. */
  revoked_reason: string | null;
  /** When the session was last used: its login or latest refresh. */
  last_used_at: string | null;
  /** The `User-Agent` of the login. */
  user_agent: string | null;
}

/** Refresh tokens (hashed); a rotated token keeps its row with `used_at` set, so reuse is detected. */
export const REFRESH_TOKENS_TABLE: TableDefinition = defineTable({
  name: "auth_refresh_tokens",
  columns: {
    session_id: { type: "ulid", references: { table: "auth_sessions", onDelete: "cascade" } },
    token_hash: { type: "text", unique: true, secret: true },
    expires_at: { type: "timestamp" },
    used_at: { type: "timestamp", nullable: true },
  },
});

/** A stored refresh token row. */
export interface RefreshTokenRecord extends EntityRecord {
  /** The session the token belongs to. */
  session_id: string;
  /** The SHA-256 hash of the token. */
  token_hash: string;
  /** When the token expires. */
  expires_at: string;
  /** When the token was spent; `null` while unused. */
  used_at: string | null;
}

/** Custom roles stored by administrators. */
export const ROLES_TABLE: TableDefinition = defineTable({
  name: "auth_roles",
  columns: {
    name: { type: "text", unique: true },
    inherits: { type: "json" },
    permissions: { type: "json" },
    description: { type: "text", nullable: true },
  },
});

/** A stored custom role row. */
export interface RoleRecord extends EntityRecord {
  /** The role's name; unique. */
  name: string;
  /** Roles whose permissions this role also grants. */
  inherits: string[];
  /** Permissions the role grants, e.g. `configs:read`. */
  permissions: string[];
  /** What the role is for. */
  description: string | null;
}

/** The audit log of auth events. */
export const AUDIT_TABLE: TableDefinition = defineTable({
  name: "auth_audit",
  columns: {
    event: { type: "text", indexed: true },
    outcome: { type: "text" },
    actor_kind: { type: "text", nullable: true },
    actor_id: { type: "text", nullable: true },
    actor_name: { type: "text", nullable: true },
    target: { type: "text", nullable: true },
    method: { type: "text", nullable: true },
    path: { type: "text", nullable: true },
    details: { type: "json", nullable: true },
  },
});

/** A stored audit event. */
export interface AuditRecord extends EntityRecord {
  /** The event name, e.g. `auth.login`. */
  event: string;
  /** Whether it succeeded. */
  outcome: "success" | "failure";
  /** The kind of actor: a user, an API key or a static key. */
  actor_kind: string | null;
  /** ULID of the user or API key that acted (null for a static key or an anonymous attempt). */
  actor_id: string | null;
  /** Email or key name at the time, kept though the actor is later renamed or deleted. */
  actor_name: string | null;
  /** The id of what it was done to. */
  target: string | null;
  /** The HTTP method of the request. */
  method: string | null;
  /** The request path. */
  path: string | null;
  /** Further facts about the event. */
  details: Record<string, unknown> | null;
}

const Username = Type.String({ minLength: 1, maxLength: 128, pattern: "^[A-Za-z0-9._@+-]+$" });
const RoleName = Type.String({ minLength: 1, maxLength: 64, pattern: "^[a-z][a-z0-9_-]*$" });
const Permission = Type.String({ minLength: 1, maxLength: 128, pattern: "^(\\*|[a-z][a-z0-9_-]*)(:(\\*|[a-z][a-z0-9_-]*))?$" });
const TenantId = Type.String({ minLength: 1, maxLength: 128, pattern: "^[A-Za-z0-9._:-]+$" });
const Email = Type.String({ minLength: 3, maxLength: 254, pattern: "^[^@\\s]+@[^@\\s]+$" });
const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

/** Body of user create and update; `password` is write-only and optional on update. */
export const UserIn: TObject = entityInputSchema("UserIn", {
  username: Username,
  password: Type.Optional(Type.String({ minLength: 8, maxLength: 1024 })),
  role: Type.Optional(RoleName),
  disabled: Type.Optional(Type.Boolean()),
  tenant_id: Type.Optional(Type.Union([TenantId, Type.Null()], { description: "Multi-tenant services: the user's tenant (a tenant admin's own, whatever is sent)" })),
  email: Type.Optional(Type.Union([Email, Type.Null()], { description: "Where magic links go; an OpenID login with this verified address is linked to the user" })),
});

/** A user as output: never the password hash. */
export const UserOut: TObject = entityOutputSchema("UserOut", {
  username: Type.String(),
  role: Type.String(),
  disabled: Type.Boolean(),
  last_login_at: Nullable(TimestampSchema),
  locked_until: Nullable(TimestampSchema),
  tenant_id: Type.Union([Type.String(), Type.Null()]),
  email: Type.Union([Type.String(), Type.Null()]),
});

/** A validated API key creation body. */
export interface ApiKeyInput {
  name: string;
  role?: string;
  scopes?: string[] | null;
  expires_at?: string | null;
  expires_in?: number;
  rate_limit?: number | null;
  tenant_id?: string | null;
}

/** A validated custom role body. */
export interface RoleInput {
  /** The role's name. */
  name: string;
  /** Roles whose permissions this role also grants. */
  inherits?: string[];
  /** Permissions the role grants, e.g. `configs:read`. */
  permissions: string[];
  /** What the role is for. */
  description?: string | null;
}

/** A validated user body (`password` is write-only). */
export interface UserInput {
  id?: string;
  username: string;
  password?: string;
  role?: string;
  disabled?: boolean;
  tenant_id?: string | null;
  email?: string | null;
}

/** Body of API key creation. */
export const ApiKeyIn: TObject = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 128 }),
  role: Type.Optional(RoleName),
  scopes: Type.Optional(Type.Union([Type.Array(Permission, { maxItems: 64 }), Type.Null()])),
  expires_at: Type.Optional(Type.Union([TimestampSchema, Type.Null()])),
  expires_in: Type.Optional(Type.Integer({ minimum: 1, description: "Seconds until expiry" })),
  rate_limit: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
  tenant_id: Type.Optional(Type.Union([TenantId, Type.Null()], { description: "Multi-tenant services: the key's tenant (a tenant admin's own, whatever is sent)" })),
}, { title: "ApiKeyIn" });

/** An API key as listed: never the key or its hash. */
export const ApiKeyOut: TObject = entityOutputSchema("ApiKeyOut", {
  name: Type.String(),
  prefix: Type.String(),
  role: Type.String(),
  scopes: Type.Union([Type.Array(Type.String()), Type.Null()]),
  expires_at: Nullable(TimestampSchema),
  last_used_at: Nullable(TimestampSchema),
  revoked_at: Nullable(TimestampSchema),
  rate_limit: Type.Union([Type.Integer(), Type.Null()]),
  tenant_id: Type.Union([Type.String(), Type.Null()]),
});

/** A freshly issued key: the listing fields plus `key`, shown this once. */
export const IssuedApiKeyOut: TObject = Type.Composite([ApiKeyOut, Type.Object({ key: Type.String() })], {
  title: "IssuedApiKeyOut",
});

/** Body of a custom role. */
export const RoleIn: TObject = Type.Object({
  name: RoleName,
  inherits: Type.Optional(Type.Array(RoleName, { maxItems: 16 })),
  permissions: Type.Array(Permission, { maxItems: 256 }),
  description: Type.Optional(Type.Union([Type.String({ maxLength: 512 }), Type.Null()])),
}, { title: "RoleIn" });

/** External identities (an OpenID subject, a SAML name id) linked to users. */
export const IDENTITIES_TABLE: TableDefinition = defineTable({
  name: "auth_identities",
  columns: {
    identity: { type: "text", unique: true },
    provider: { type: "text" },
    subject: { type: "text" },
    user_id: { type: "ulid", references: { table: "auth_users", onDelete: "cascade" } },
    email: { type: "text", nullable: true },
  },
});

/** A stored link of an external identity to a user. */
export interface IdentityRecord extends EntityRecord {
  /** `provider:subject`, unique. */
  identity: string;
  /** The provider's configured name. */
  provider: string;
  /** The provider's stable id of the person (`sub`, SAML NameID). */
  subject: string;
  /** The linked user. */
  user_id: string;
  /** The e-mail address the provider asserted at the last login. */
  email: string | null;
}
