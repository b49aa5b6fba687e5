import {
  type TArray,
  type TBoolean,
  type TInteger,
  type TLiteral,
  type TNull,
  type TObject,
  type TRecord,
  type TString,
  type TUnion,
  type TUnknown,
  Type,
} from "@sinclair/typebox";
import { defineTable, type TableDefinition } from "../../core/entity.ts";
import { defineEntity, type EntityDefinition, type EntityRecordOf, field, type UnansweredField } from "../../core/entity-definition.ts";
import { entityInputSchema, TimestampSchema, UlidSchema } from "../../core/schema.ts";

type Text = TString;
type NullableText = TUnion<[TString, TNull]>;
const NullableText = (): NullableText => Type.Union([Type.String(), Type.Null()]);
const NullableTime = (): NullableText => Type.Union([TimestampSchema, Type.Null()]);

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

/** The users table as first created (migration 1). */
export const USERS_TABLE_V1: TableDefinition = defineTable({ name: "auth_users", columns: USERS_COLUMNS_V1, searchable: ["username"] });

type UserFields = {
  username: Text;
  password_hash: UnansweredField<Text>;
  role: Text;
  disabled: TBoolean;
  failed_logins: UnansweredField<TInteger>;
  last_failed_at: UnansweredField<NullableText>;
  locked_until: NullableText;
  last_login_at: NullableText;
  tenant_id: NullableText;
  email: NullableText;
};

/**
 * A user, defined once: the `auth_users` table (passwords are stored only as
 * scrypt hashes) and `UserOut`, which never lists the hash or the failed-login
 * counters. `UserIn` is a request body of its own (a write-only `password`,
 * not a column).
 */
export const User: EntityDefinition<UserFields, "auth_users"> = defineEntity({
  table: "auth_users",
  name: "User",
  fields: {
    username: field(Type.String(), { unique: true }),
    password_hash: field(Type.String(), { secret: true, output: false }),
    role: Type.String(),
    disabled: Type.Boolean(),
    failed_logins: field(Type.Integer(), { output: false }),
    last_failed_at: field(NullableTime(), { output: false }),
    locked_until: NullableTime(),
    last_login_at: NullableTime(),
    tenant_id: NullableText(),
    email: NullableText(),
  },
  searchable: ["username"],
});

/** The users table (see {@link User}). */
export const USERS_TABLE: TableDefinition = User.table;

/** A stored user row; `tenant_id` null for a platform-wide user, `email` lower-cased (the key of magic links and OpenID linking). */
export type UserRecord = EntityRecordOf<typeof User>;

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

type ApiKeyFields = {
  name: Text;
  key_hash: UnansweredField<Text>;
  prefix: Text;
  role: Text;
  scopes: TUnion<[TArray<TString>, TNull]>;
  expires_at: NullableText;
  last_used_at: NullableText;
  revoked_at: NullableText;
  rate_limit: TUnion<[TInteger, TNull]>;
  created_by: UnansweredField<NullableText>;
  tenant_id: NullableText;
};

/**
 * An API key, defined once: the `auth_api_keys` table (keys are stored only
 * as SHA-256 hashes) and `ApiKeyOut`, which never lists the hash. `ApiKeyIn`
 * is a request body of its own (`expires_in` is not a column).
 */
export const ApiKey: EntityDefinition<ApiKeyFields, "auth_api_keys"> = defineEntity({
  table: "auth_api_keys",
  name: "ApiKey",
  fields: {
    name: Type.String(),
    key_hash: field(Type.String(), { unique: true, secret: true, output: false }),
    prefix: Type.String(),
    role: Type.String(),
    scopes: Type.Union([Type.Array(Type.String()), Type.Null()]),
    expires_at: NullableTime(),
    last_used_at: NullableTime(),
    revoked_at: NullableTime(),
    rate_limit: Type.Union([Type.Integer(), Type.Null()]),
    created_by: field(NullableText(), { output: false }),
    tenant_id: NullableText(),
  },
});

/** The API keys table (see {@link ApiKey}). */
export const API_KEYS_TABLE: TableDefinition = ApiKey.table;

/** A stored API key row: `scopes` null for the whole role, `expires_at` null for never, `rate_limit` null for no limit. */
export type ApiKeyRecord = EntityRecordOf<typeof ApiKey>;

/** A login session, defined once: one `auth_sessions` row per refresh-token family. */
export const Session: EntityDefinition<{
  user_id: Text;
  expires_at: Text;
  revoked_at: NullableText;
  revoked_reason: NullableText;
  last_used_at: NullableText;
  user_agent: NullableText;
}, "auth_sessions"> = defineEntity({
  table: "auth_sessions",
  fields: {
    user_id: field(UlidSchema, { references: { table: "auth_users", onDelete: "cascade" } }),
    expires_at: TimestampSchema,
    revoked_at: NullableTime(),
    revoked_reason: Type.Union([Type.String({ description: "e.g. logout or refresh token reuse" }), Type.Null()]),
    last_used_at: Type.Union([TimestampSchema, Type.Null()], { description: "Its login or latest refresh" }),
    user_agent: NullableText(),
  },
});

/** Login sessions: one row per refresh-token family. */
export const SESSIONS_TABLE: TableDefinition = Session.table;

/** A stored session row. */
export type SessionRecord = EntityRecordOf<typeof Session>;

/** A refresh token (hashed), defined once; a rotated token keeps its row with `used_at` set, so reuse is detected. */
export const RefreshToken: EntityDefinition<{
  session_id: Text;
  token_hash: Text;
  expires_at: Text;
  used_at: NullableText;
}, "auth_refresh_tokens"> = defineEntity({
  table: "auth_refresh_tokens",
  fields: {
    session_id: field(UlidSchema, { references: { table: "auth_sessions", onDelete: "cascade" } }),
    token_hash: field(Type.String(), { unique: true, secret: true }),
    expires_at: TimestampSchema,
    used_at: NullableTime(),
  },
});

/** Refresh tokens (hashed). */
export const REFRESH_TOKENS_TABLE: TableDefinition = RefreshToken.table;

/** A stored refresh token row; `used_at` null while unused. */
export type RefreshTokenRecord = EntityRecordOf<typeof RefreshToken>;

/** A custom role stored by administrators, defined once. */
export const Role: EntityDefinition<{
  name: Text;
  inherits: TArray<TString>;
  permissions: TArray<TString>;
  description: NullableText;
}, "auth_roles"> = defineEntity({
  table: "auth_roles",
  fields: {
    name: field(Type.String(), { unique: true }),
    inherits: Type.Array(Type.String(), { description: "Roles whose permissions this role also grants" }),
    permissions: Type.Array(Type.String(), { description: "Permissions the role grants, e.g. `configs:read`" }),
    description: NullableText(),
  },
});

/** Custom roles stored by administrators. */
export const ROLES_TABLE: TableDefinition = Role.table;

/** A stored custom role row. */
export type RoleRecord = EntityRecordOf<typeof Role>;

/** An audit event of auth, defined once. */
export const AuditEvent: EntityDefinition<{
  event: Text;
  outcome: TUnion<[TLiteral<"success">, TLiteral<"failure">]>;
  actor_kind: NullableText;
  actor_id: NullableText;
  actor_name: NullableText;
  target: NullableText;
  method: NullableText;
  path: NullableText;
  details: TUnion<[TRecord<TString, TUnknown>, TNull]>;
}, "auth_audit"> = defineEntity({
  table: "auth_audit",
  fields: {
    event: field(Type.String({ description: "e.g. `auth.login`" }), { indexed: true }),
    outcome: Type.Union([Type.Literal("success"), Type.Literal("failure")]),
    actor_kind: Type.Union([Type.String({ description: "A user, an API key or a static key" }), Type.Null()]),
    actor_id: Type.Union([
      Type.String({ description: "ULID of the user or API key that acted (null for a static key or an anonymous attempt)" }),
      Type.Null(),
    ]),
    actor_name: Type.Union([
      Type.String({ description: "Email or key name at the time, kept though the actor is later renamed or deleted" }),
      Type.Null(),
    ]),
    target: Type.Union([Type.String({ description: "The id of what it was done to" }), Type.Null()]),
    method: NullableText(),
    path: NullableText(),
    details: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  },
});

/** The audit log of auth events. */
export const AUDIT_TABLE: TableDefinition = AuditEvent.table;

/** A stored audit event. */
export type AuditRecord = EntityRecordOf<typeof AuditEvent>;

const Username = Type.String({ minLength: 1, maxLength: 128, pattern: "^[A-Za-z0-9._@+-]+$" });
const RoleName = Type.String({ minLength: 1, maxLength: 64, pattern: "^[a-z][a-z0-9_-]*$" });
const Permission = Type.String({ minLength: 1, maxLength: 128, pattern: "^(\\*|[a-z][a-z0-9_-]*)(:(\\*|[a-z][a-z0-9_-]*))?$" });
const TenantId = Type.String({ minLength: 1, maxLength: 128, pattern: "^[A-Za-z0-9._:-]+$" });
const Email = Type.String({ minLength: 3, maxLength: 254, pattern: "^[^@\\s]+@[^@\\s]+$" });

/** Body of user create and update; `password` is write-only and optional on update. */
export const UserIn: TObject = entityInputSchema("UserIn", {
  username: Username,
  password: Type.Optional(Type.String({ minLength: 8, maxLength: 1024 })),
  role: Type.Optional(RoleName),
  disabled: Type.Optional(Type.Boolean()),
  tenant_id: Type.Optional(Type.Union([TenantId, Type.Null()], { description: "Multi-tenant services: the user's tenant (a tenant admin's own, whatever is sent)" })),
  email: Type.Optional(Type.Union([Email, Type.Null()], { description: "Where magic links go; an OpenID login with this verified address is linked to the user" })),
});

/** A user as output: never the password hash (see {@link User}). */
export const UserOut: TObject = User.output;

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

/** An API key as listed: never the key or its hash (see {@link ApiKey}). */
export const ApiKeyOut: TObject = ApiKey.output;

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

/** An external identity (an OpenID subject, a SAML name id) linked to a user, defined once. */
export const Identity: EntityDefinition<{
  identity: Text;
  provider: Text;
  subject: Text;
  user_id: Text;
  email: NullableText;
}, "auth_identities"> = defineEntity({
  table: "auth_identities",
  fields: {
    identity: field(Type.String({ description: "`provider:subject`" }), { unique: true }),
    provider: Type.String({ description: "The provider's configured name" }),
    subject: Type.String({ description: "The provider's stable id of the person (`sub`, SAML NameID)" }),
    user_id: field(UlidSchema, { references: { table: "auth_users", onDelete: "cascade" } }),
    email: Type.Union([Type.String({ description: "The address the provider asserted at the last login" }), Type.Null()]),
  },
});

/** External identities linked to users (see {@link Identity}). */
export const IDENTITIES_TABLE: TableDefinition = Identity.table;

/** A stored link of an external identity to a user. */
export type IdentityRecord = EntityRecordOf<typeof Identity>;
