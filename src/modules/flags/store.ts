import type { Driver } from "../../db/driver.ts";
import type { Migration } from "../../db/migration.ts";
import { createRepository, type SqlRepository } from "../../db/repository.ts";
import { entityTableMigrations } from "../../db/table-migration.ts";
import { type FlagRecord, flagsTable } from "./schema.ts";

/** The migrations of the `flags` module: the `flags` table and its `_version` column. */
export const FLAGS_MIGRATIONS: readonly Migration[] = entityTableMigrations(flagsTable, "flags");

/** The SQL repository of flags. */
export function createFlagRepository(db: Driver): SqlRepository<FlagRecord> {
  return createRepository<FlagRecord>(db, flagsTable);
}
