import { ChapkitError } from "../core/errors.ts";
import { nowIso } from "../core/time.ts";
import { sha256Hex } from "../runtime/digest.ts";
import type { DialectName, Driver } from "./driver.ts";
import type { Migration, MigrationSql } from "./migration.ts";
import { destructiveReason } from "./migration-safety.ts";

/** Raised when the stored migration history does not match the code. */
export class MigrationError extends ChapkitError {
  /** Creates the error with what did not match. */
  constructor(detail: string) {
    super(detail, { type: "urn:chapkit:error:internal", title: "Migration Failed", status: 500 });
  }
}

/** The table that records applied migrations. */
export const MIGRATIONS_TABLE = "chapkit_migrations";

interface AppliedRow extends Record<string, unknown> {
  module: string;
  version: number;
  checksum: string;
}

function sqlFor(dialect: DialectName, sql: MigrationSql): string {
  return typeof sql === "string" ? sql : sql[dialect];
}

/** Splits a migration script into statements at `;` that end a line. */
export function splitStatements(sql: string): string[] {
  return sql.split(/;\s*(?:\n|$)/).map((part) => part.trim()).filter((part) => part.length > 0);
}

/** SHA-256 of the migration's SQL for this dialect, in hex. */
function checksum(dialect: DialectName, migration: Migration): Promise<string> {
  return sha256Hex(sqlFor(dialect, migration.up));
}

function label(migration: Pick<Migration, "module" | "version">): string {
  return `${migration.module}#${migration.version}`;
}

async function ensureTable(db: Driver): Promise<void> {
  const ts = db.dialect === "postgres" ? "TIMESTAMPTZ(3)" : "TEXT";
  await db.exec(
    `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (module TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at ${ts} NOT NULL, PRIMARY KEY (module, version))`,
  );
}

function check(migrations: readonly Migration[]): void {
  const seen = new Set<string>();
  for (const migration of migrations) {
    if (!Number.isInteger(migration.version) || migration.version < 1) {
      throw new MigrationError(`Migration ${label(migration)} has an invalid version`);
    }
    if (seen.has(label(migration))) throw new MigrationError(`Migration ${label(migration)} is declared twice`);
    seen.add(label(migration));
  }
}

export { isDestructive } from "./migration-safety.ts";

/** Options of {@link migrate}. */
export interface MigrateOptions {
  /** PostgreSQL `lock_timeout` of each statement, ms (default 10 000): a table lock that waits longer fails the run. */
  lockTimeoutMs?: number;
  /** PostgreSQL `statement_timeout` of each statement, ms (default 300 000). */
  statementTimeoutMs?: number;
  /** How long to wait for another run's migration lock, ms (default 30 000), then fail naming its holder. */
  lockWaitMs?: number;
  /** Apply destructive statements even in migrations not marked `destructive` (default false). */
  allowDestructive?: boolean;
}

const MIGRATION_LOCK = 7204119931;

interface HolderRow extends Record<string, unknown> {
  pid: number;
  application_name: string | null;
  client_addr: string | null;
  state: string | null;
  xact_start: string | Date | null;
  query: string | null;
}

/** Who holds the migration lock (PostgreSQL), or holds locks in the current schema when `relations` is set. */
export async function lockHolders(db: Driver, what: "migration" | "relations"): Promise<string[]> {
  if (db.dialect !== "postgres") return [];
  const where = what === "migration"
    ? `l.locktype = 'advisory' AND l.objid = ${MIGRATION_LOCK % 2 ** 32} AND l.granted`
    : `l.locktype = 'relation' AND l.granted AND l.relation IN (SELECT c.oid FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace)`;
  const rows = await db.query<HolderRow>(
    `SELECT DISTINCT a.pid, a.application_name, a.client_addr::text AS client_addr, a.state, a.xact_start, left(a.query, 200) AS query
     FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE ${where} AND a.pid <> pg_backend_pid()`,
  ).catch(() => []);
  return rows.map((row) =>
    `pid ${row.pid} (${row.application_name || "unnamed"}${row.client_addr ? ` from ${row.client_addr}` : ""}, ${row.state ?? "?"}` +
    `${row.xact_start ? ` since ${new Date(row.xact_start).toISOString()}` : ""}): ${row.query ?? ""}`
  );
}

async function takeMigrationLock(db: Driver, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (let delay = 50;; delay = Math.min(delay * 2, 1000)) {
    const [row] = await db.query<{ locked: boolean }>(`SELECT pg_try_advisory_xact_lock(${MIGRATION_LOCK}) AS locked`);
    if (row?.locked) return;
    if (Date.now() >= deadline) {
      const holders = await lockHolders(db, "migration");
      throw new MigrationError(
        `Another migration run holds the migration lock (waited ${waitMs} ms): ${holders.length ? holders.join("; ") : "its session is gone or not visible"}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/** The statements of pending migrations not marked `destructive` that would lose data or fail on the rows held now, with why. */
async function unmarkedDestructive(db: Driver, migrations: readonly Migration[]): Promise<string[]> {
  const refused: string[] = [];
  for (const migration of migrations.filter((m) => !m.destructive)) {
    for (const statement of splitStatements(sqlFor(db.dialect, migration.up))) {
      const reason = await destructiveReason(db, statement);
      if (reason) refused.push(`${label(migration)}: ${statement} (${reason})`);
    }
  }
  return refused;
}

/** What {@link migrate} did. */
export interface MigrationReport {
  /** Labels (`module#version`) applied by this call, in order. */
  applied: string[];
}

/**
 * Applies pending migrations in one transaction, in module registration order
 * and version order within a module. Refuses to run (nothing applied) when an
 * applied migration's SQL was edited, naming it, or when a pending migration
 * not marked `destructive` would lose data or fail on the rows the database
 * holds (drops, truncation, deletes, a type that narrows the live column,
 * `SET NOT NULL` on a column holding NULLs, a `NOT NULL` column without a
 * default added to a table with rows: see `destructiveReason`), naming the
 * statements and why. On PostgreSQL every statement runs under `lock_timeout` and
 * `statement_timeout`, and one run at a time holds the migration lock; a run
 * that cannot get it, or whose statement waits too long for a table lock,
 * fails naming the sessions that hold them. A database whose history already
 * records every listed migration with its checksum is recognised by one read
 * of that history, without the lock or a write transaction; a new run's
 * history rows are written in one statement.
 */
export async function migrate(db: Driver, listed: readonly Migration[], options: MigrateOptions = {}): Promise<MigrationReport> {
  // A migration several modules list (e.g. the storage tables) is applied once.
  const migrations = [...new Set(listed)];
  check(migrations);
  const sums = await checksums(db.dialect, migrations);
  await ensureTable(db);
  if (await upToDate(db, migrations, sums)) return { applied: [] };
  try {
    return await runMigrations(db, migrations, sums, options);
  } catch (error) {
    const code = (error as { code?: unknown; cause?: { code?: unknown } }).code ?? (error as { cause?: { code?: unknown } }).cause?.code;
    if (code !== "55P03") throw error;
    const holders = await lockHolders(db, "relations");
    throw new MigrationError(
      `A migration statement waited more than ${options.lockTimeoutMs ?? 10_000} ms for a table lock (lock_timeout); nothing was applied. ` +
        `Sessions holding locks in this schema: ${holders.length ? holders.join("; ") : "none left"}`,
    );
  }
}

/** Each migration's checksum, computed once and all at the same time. */
async function checksums(dialect: DialectName, migrations: readonly Migration[]): Promise<Map<Migration, string>> {
  const sums = await Promise.all(migrations.map((migration) => checksum(dialect, migration)));
  return new Map(migrations.map((migration, i) => [migration, sums[i]!]));
}

/**
 * Whether the history already records every migration with its checksum: one
 * read, without the lock or a write transaction, so a migrated database starts
 * at the cost of one query. Anything else (a pending or an edited migration)
 * goes through the locked run, which reads the history again and decides.
 */
async function upToDate(db: Driver, migrations: readonly Migration[], sums: ReadonlyMap<Migration, string>): Promise<boolean> {
  const rows = await db.query<AppliedRow>(`SELECT module, version, checksum FROM ${MIGRATIONS_TABLE}`);
  const applied = new Map(rows.map((row) => [`${row.module}#${Number(row.version)}`, row.checksum]));
  return migrations.every((migration) => applied.get(label(migration)) === sums.get(migration));
}

/** Rows one `INSERT` into the history carries. */
const HISTORY_ROWS_PER_INSERT = 100;

/** Records applied migrations, a hundred rows a statement. */
async function record(db: Driver, migrations: readonly Migration[], sums: ReadonlyMap<Migration, string>): Promise<void> {
  const appliedAt = nowIso();
  for (let start = 0; start < migrations.length; start += HISTORY_ROWS_PER_INSERT) {
    const batch = migrations.slice(start, start + HISTORY_ROWS_PER_INSERT);
    await db.exec(
      `INSERT INTO ${MIGRATIONS_TABLE} (module, version, name, checksum, applied_at) VALUES ${batch.map(() => "(?, ?, ?, ?, ?)").join(", ")}`,
      batch.flatMap((migration) => [migration.module, migration.version, migration.name, sums.get(migration)!, appliedAt]),
    );
  }
}

function runMigrations(
  db: Driver,
  migrations: readonly Migration[],
  sums: ReadonlyMap<Migration, string>,
  options: MigrateOptions,
): Promise<MigrationReport> {
  return db.transaction(async () => {
    if (db.dialect === "postgres") {
      await db.exec(`SET LOCAL lock_timeout = ${Math.max(0, Math.floor(options.lockTimeoutMs ?? 10_000))}`);
      await db.exec(`SET LOCAL statement_timeout = ${Math.max(0, Math.floor(options.statementTimeoutMs ?? 300_000))}`);
      await takeMigrationLock(db, Math.max(0, options.lockWaitMs ?? 30_000));
    }
    const rows = await db.query<AppliedRow>(`SELECT module, version, checksum FROM ${MIGRATIONS_TABLE}`);
    const applied = new Map(rows.map((row) => [`${row.module}#${Number(row.version)}`, row.checksum]));
    const pending: Migration[] = [];
    for (const migration of migrations) {
      const stored = applied.get(label(migration));
      if (stored === undefined) {
        pending.push(migration);
      } else if (stored !== sums.get(migration)) {
        throw new MigrationError(
          `Migration ${label(migration)} (${migration.name}) was edited after it was applied: its checksum no longer matches the database. Restore its original SQL and add a new migration for the change.`,
        );
      }
    }
    const ordered = [...pending].sort((a, b) =>
      a.module === b.module ? a.version - b.version : migrations.indexOf(a) - migrations.indexOf(b)
    );
    const refused = options.allowDestructive ? [] : await unmarkedDestructive(db, ordered);
    if (refused.length > 0) {
      throw new MigrationError(
        `Refusing destructive migration statements not marked destructive (mark the migration \`destructive: true\` once the data loss is intended): ${refused.join(" | ")}`,
      );
    }
    for (const migration of ordered) {
      for (const statement of splitStatements(sqlFor(db.dialect, migration.up))) await db.exec(statement);
    }
    await record(db, ordered, sums);
    return { applied: ordered.map(label) };
  });
}

/**
 * Reverts a module's applied migrations above `toVersion` (default 0: all),
 * newest first, in one transaction.
 */
export async function migrateDown(
  db: Driver,
  migrations: readonly Migration[],
  options: { module: string; toVersion?: number },
): Promise<MigrationReport> {
  await ensureTable(db);
  const target = options.toVersion ?? 0;
  return db.transaction(async () => {
    const rows = await db.query<AppliedRow>(
      `SELECT module, version, checksum FROM ${MIGRATIONS_TABLE} WHERE module = ? AND version > ? ORDER BY version DESC`,
      [options.module, target],
    );
    const reverted: string[] = [];
    for (const row of rows) {
      const migration = migrations.find((m) => m.module === row.module && m.version === Number(row.version));
      if (!migration?.down) {
        throw new MigrationError(`Migration ${row.module}#${row.version} cannot be reverted: it has no down SQL`);
      }
      for (const statement of splitStatements(sqlFor(db.dialect, migration.down))) await db.exec(statement);
      await db.exec(`DELETE FROM ${MIGRATIONS_TABLE} WHERE module = ? AND version = ?`, [row.module, row.version]);
      reverted.push(label(migration));
    }
    return { applied: reverted };
  });
}
