import { openDatabase } from "../../db/open.ts";
import { migrate } from "../../db/migrate.ts";
import { JOBS_MIGRATIONS } from "./migrations.ts";
import { SqlJobStore } from "./store.ts";

/**
 * A job store in an in-memory SQLite database: records vanish with the
 * process. For scripts and tests; it runs the same SQL as a service's store,
 * so the queue behaves the same.
 */
export async function memoryJobStore(): Promise<SqlJobStore> {
  const db = await openDatabase("sqlite::memory:");
  await migrate(db, JOBS_MIGRATIONS);
  return new SqlJobStore(db);
}
