import type { Driver } from "../../db/driver.ts";
import type { Repository } from "../../core/repository.ts";
import { partitionMigration, type PartitionPolicy } from "../../db/partitions.ts";
import type { Migration } from "../../db/migration.ts";
import { createRepository, type SqlRepository } from "../../db/repository.ts";
import { searchQueueMigration, tableMigration } from "../../db/table-migration.ts";
import { loginThrottleMigration } from "./login-throttle.ts";
import { mfaMigration } from "./mfa.ts";
import { ticketsMigration } from "./tickets.ts";
import { passkeysMigration } from "./passkeys.ts";
import {
  API_KEYS_TABLE,
  API_KEYS_TABLE_V1,
  type ApiKeyRecord,
  AUDIT_TABLE,
  type AuditRecord,
  IDENTITIES_TABLE,
  type IdentityRecord,
  REFRESH_TOKENS_TABLE,
  type RefreshTokenRecord,
  ROLES_TABLE,
  type RoleRecord,
  SESSIONS_TABLE,
  type SessionRecord,
  USERS_TABLE,
  USERS_TABLE_V1,
  type UserRecord,
} from "./schema.ts";

/** How the audit log is partitioned on PostgreSQL by default: a partition a month, by `created_at`, every row kept. */
export const AUDIT_PARTITION: PartitionPolicy = { column: "created_at", interval: "month", ahead: 3 };

/** The auth module's migrations (module `auth`), in dependency order. */
export const AUTH_MIGRATIONS: readonly Migration[] = [
  USERS_TABLE_V1,
  API_KEYS_TABLE_V1,
  SESSIONS_TABLE,
  REFRESH_TOKENS_TABLE,
  ROLES_TABLE,
  AUDIT_TABLE,
].map((table, i): Migration => ({ ...tableMigration(table, "auth"), version: i + 1 })).concat([loginThrottleMigration(7), {
  module: "auth",
  version: 8,
  name: "tenant of users and API keys",
  up: `ALTER TABLE "auth_users" ADD COLUMN "tenant_id" TEXT;
ALTER TABLE "auth_api_keys" ADD COLUMN "tenant_id" TEXT;
CREATE INDEX "auth_users_tenant_id_idx" ON "auth_users" ("tenant_id");
CREATE INDEX "auth_api_keys_tenant_id_idx" ON "auth_api_keys" ("tenant_id");`,
  down: `DROP INDEX "auth_api_keys_tenant_id_idx";
DROP INDEX "auth_users_tenant_id_idx";
ALTER TABLE "auth_api_keys" DROP COLUMN "tenant_id";
ALTER TABLE "auth_users" DROP COLUMN "tenant_id";`,
}, mfaMigration(9), {
  module: "auth",
  version: 10,
  name: "e-mail of users",
  up: `ALTER TABLE "auth_users" ADD COLUMN "email" TEXT;
CREATE UNIQUE INDEX "auth_users_email_key" ON "auth_users" ("email");`,
  down: `DROP INDEX "auth_users_email_key";
ALTER TABLE "auth_users" DROP COLUMN "email";`,
}, { ...tableMigration(IDENTITIES_TABLE, "auth"), version: 11 }, ticketsMigration(12), passkeysMigration(13), partitionMigration(AUDIT_TABLE.name, AUDIT_PARTITION, "auth", 14), searchQueueMigration(USERS_TABLE, "auth", 15)]);

/** The repositories of every auth table on one store. */
export interface AuthStores {
  /** Users (seen through the caller's tenant when tenancy is on). */
  users: Repository<UserRecord>;
  /** Issued API keys (seen through the caller's tenant when tenancy is on). */
  apiKeys: Repository<ApiKeyRecord>;
  /** Sessions (refresh-token families). */
  sessions: SqlRepository<SessionRecord>;
  /** Refresh tokens, stored as hashes; reusing a rotated one revokes its session. */
  refreshTokens: SqlRepository<RefreshTokenRecord>;
  /** Custom roles. */
  roles: SqlRepository<RoleRecord>;
  /** Audit events. */
  audit: SqlRepository<AuditRecord>;
  /** External identities linked to users. */
  identities: SqlRepository<IdentityRecord>;
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
    identities: createRepository<IdentityRecord>(db, IDENTITIES_TABLE),
  };
}
