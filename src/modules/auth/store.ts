import type { Driver } from "../../db/driver.ts";
import type { Migration } from "../../db/migration.ts";
import { createRepository, type SqlRepository } from "../../db/repository.ts";
import { tableMigration } from "../../db/table-migration.ts";
import { loginThrottleMigration } from "./login-throttle.ts";
import {
  API_KEYS_TABLE,
  type ApiKeyRecord,
  AUDIT_TABLE,
  type AuditRecord,
  REFRESH_TOKENS_TABLE,
  type RefreshTokenRecord,
  ROLES_TABLE,
  type RoleRecord,
  SESSIONS_TABLE,
  type SessionRecord,
  USERS_TABLE,
  type UserRecord,
} from "./schema.ts";

/** The auth module's migrations (module `auth`), in dependency order. */
export const AUTH_MIGRATIONS: readonly Migration[] = [
  USERS_TABLE,
  API_KEYS_TABLE,
  SESSIONS_TABLE,
  REFRESH_TOKENS_TABLE,
  ROLES_TABLE,
  AUDIT_TABLE,
].map((table, i): Migration => ({ ...tableMigration(table, "auth"), version: i + 1 })).concat([loginThrottleMigration(7)]);

/** The repositories of every auth table on one store. */
export interface AuthStores {
  /** Users. */
  users: SqlRepository<UserRecord>;
  /** Issued API keys. */
  apiKeys: SqlRepository<ApiKeyRecord>;
  /** Sessions (refresh-token families). */
  sessions: SqlRepository<SessionRecord>;
  /** Refresh tokens. */
  refreshTokens: SqlRepository<RefreshTokenRecord>;
  /** Custom roles. */
  roles: SqlRepository<RoleRecord>;
  /** Audit events. */
  audit: SqlRepository<AuditRecord>;
}

/** Opens the auth repositories on a migrated store. */
export function createAuthStores(db: Driver): AuthStores {
  return {
    users: createRepository<UserRecord>(db, USERS_TABLE),
    apiKeys: createRepository<ApiKeyRecord>(db, API_KEYS_TABLE),
    sessions: createRepository<SessionRecord>(db, SESSIONS_TABLE),
    refreshTokens: createRepository<RefreshTokenRecord>(db, REFRESH_TOKENS_TABLE),
    roles: createRepository<RoleRecord>(db, ROLES_TABLE),
    audit: createRepository<AuditRecord>(db, AUDIT_TABLE),
  };
}
