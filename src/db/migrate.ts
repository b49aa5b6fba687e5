import { createHash } from "node:crypto";
import { ChapkitError } from "../core/errors.ts";
import { nowIso } from "../core/time.ts";
import type { DialectName, Driver } from "./driver.ts";
import type { Migration, MigrationSql } from "./migration.ts";

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

function checksum(dialect: DialectName, migration: Migration): string {
  return createHash("sha256").update(sqlFor(dialect, migration.up)).digest("hex");
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

/** What {@link migrate} did. */
export interface MigrationReport {
  /** Labels (`module#version`) applied by this call, in order. */
  applied: string[];
}

/**
 * Applies pending migrations in one transaction, in module registration order
 * and version order within a module. Refuses to run (nothing applied) when an
 * applied migration's SQL was edited, naming it.
 */
export async function migrate(db: Driver, migrations: readonly Migration[]): Promise<MigrationReport> {
  check(migrations);
  await ensureTable(db);
  return db.transaction(async () => {
    if (db.dialect === "postgres") await db.exec("SELECT pg_advisory_xact_lock(7204119931)");
    const rows = await db.query<AppliedRow>(`SELECT module, version, checksum FROM ${MIGRATIONS_TABLE}`);
    const applied = new Map(rows.map((row) => [`${row.module}#${Number(row.version)}`, row.checksum]));
    const pending: Migration[] = [];
    for (const migration of migrations) {
      const stored = applied.get(label(migration));
      if (stored === undefined) {
        pending.push(migration);
      } else if (stored !== checksum(db.dialect, migration)) {
        throw new MigrationError(
          `Migration ${label(migration)} (${migration.name}) was edited after it was applied: its checksum no longer matches the database. Restore its original SQL and add a new migration for the change.`,
        );
      }
    }
    const ordered = [...pending].sort((a, b) =>
      a.module === b.module ? a.version - b.version : migrations.indexOf(a) - migrations.indexOf(b)
    );
    for (const migration of ordered) {
      for (const statement of splitStatements(sqlFor(db.dialect, migration.up))) await db.exec(statement);
      await db.exec(
        `INSERT INTO ${MIGRATIONS_TABLE} (module, version, name, checksum, applied_at) VALUES (?, ?, ?, ?, ?)`,
        [migration.module, migration.version, migration.name, checksum(db.dialect, migration), nowIso()],
      );
    }
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
