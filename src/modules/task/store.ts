import type { Driver } from "../../db/driver.ts";
import type { Migration } from "../../db/migration.ts";
import { createRepository, type SqlRepository } from "../../db/repository.ts";
import { entityTableMigrations } from "../../db/table-migration.ts";
import { type TaskRecord, tasksTable } from "./schema.ts";

/** The migrations of the `tasks` module: the `tasks` table and its `_version` column. */
export const TASKS_MIGRATIONS: readonly Migration[] = entityTableMigrations(tasksTable, "tasks");

/** The SQL repository of tasks. */
export function createTaskRepository(db: Driver): SqlRepository<TaskRecord> {
  return createRepository<TaskRecord>(db, tasksTable);
}
