/**
 * `chapkit generate migration`: the SQL that brings a live schema to the one a
 * service declares. The declared schema is read from a scratch database of the
 * same dialect (in-memory SQLite, or a throw-away PostgreSQL schema) that the
 * service's migrations are applied to, so it is exactly what `chapkit db
 * migrate` would build from nothing.
 */
import type { Driver } from "../../db/driver.ts";
import { migrate, MIGRATIONS_TABLE } from "../../db/migrate.ts";
import type { Migration } from "../../db/migration.ts";
import { openDatabase } from "../../db/open.ts";

/** One column, as both dialects report it. */
interface Column {
  name: string;
  type: string;
  notNull: boolean;
  defaultSql: string | null;
  primaryKey: boolean;
}

/** One table with its indexes, keyed by index name. */
interface Table {
  name: string;
  columns: Column[];
  /** The table's CREATE statement (SQLite keeps it; on PostgreSQL it is rebuilt from the catalog). */
  createSql: string;
  indexes: Map<string, string>;
}

/** One statement of a generated migration. */
export interface MigrationStatement {
  sql: string;
  /** Drops data: written commented-out unless destructive statements are allowed. */
  destructive: boolean;
}

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;

async function sqliteSchema(db: Driver): Promise<Map<string, Table>> {
  const rows = await db.query<{ type: string; name: string; tbl_name: string; sql: string | null }>(
    `SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name <> '${MIGRATIONS_TABLE}' ORDER BY name`,
  );
  const tables = new Map<string, Table>();
  for (const row of rows.filter((r) => r.type === "table")) {
    const info = await db.query<{ name: string; type: string; notnull: number; dflt_value: string | null; pk: number }>(
      `PRAGMA table_info(${quote(row.name)})`,
    );
    tables.set(row.name, {
      name: row.name,
      createSql: row.sql ?? "",
      indexes: new Map(),
      columns: info.map((c) => ({
        name: c.name,
        type: c.type,
        notNull: Number(c.notnull) === 1,
        defaultSql: c.dflt_value,
        primaryKey: Number(c.pk) > 0,
      })),
    });
  }
  for (const row of rows.filter((r) => r.type === "index" && r.sql)) tables.get(row.tbl_name)?.indexes.set(row.name, row.sql!);
  return tables;
}

async function postgresSchema(db: Driver): Promise<Map<string, Table>> {
  const columns = await db.query<{ table_name: string; name: string; type: string; not_null: boolean; default_sql: string | null; pk: boolean }>(
    `SELECT c.relname AS table_name, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
            pg_get_expr(d.adbin, d.adrelid) AS default_sql,
            EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary AND a.attnum = ANY (i.indkey)) AS pk
     FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
     WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace AND c.relname <> '${MIGRATIONS_TABLE}'
     ORDER BY c.relname, a.attnum`,
  );
  const foreignKeys = await db.query<{ table_name: string; definition: string }>(
    `SELECT c.relname AS table_name, pg_get_constraintdef(k.oid) AS definition FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
     WHERE k.contype IN ('f', 'u', 'c') AND c.relnamespace = current_schema()::regnamespace ORDER BY k.conname`,
  );
  const indexes = await db.query<{ tablename: string; indexname: string; indexdef: string }>(
    `SELECT i.tablename, i.indexname, i.indexdef FROM pg_indexes i
     WHERE i.schemaname = current_schema() AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conname = i.indexname
       AND k.connamespace = current_schema()::regnamespace)`,
  );
  const tables = new Map<string, Table>();
  for (const c of columns) {
    const table: Table = tables.get(c.table_name) ?? { name: c.table_name, columns: [], createSql: "", indexes: new Map() };
    tables.set(c.table_name, table);
    table.columns.push({ name: c.name, type: c.type, notNull: c.not_null, defaultSql: c.default_sql, primaryKey: c.pk });
  }
  for (const table of tables.values()) {
    const parts = table.columns.map(columnSql);
    const keys = table.columns.filter((c) => c.primaryKey).map((c) => quote(c.name));
    if (keys.length > 0) parts.push(`PRIMARY KEY (${keys.join(", ")})`);
    for (const key of foreignKeys.filter((k) => k.table_name === table.name)) parts.push(key.definition);
    table.createSql = `CREATE TABLE ${quote(table.name)} (\n  ${parts.join(",\n  ")}\n)`;
  }
  // pg_indexes qualifies the table with its schema; the migration must not.
  for (const i of indexes) tables.get(i.tablename)?.indexes.set(i.indexname, i.indexdef.replace(/ ON (?:"[^"]+"|\w+)\./, " ON "));
  return tables;
}

function columnSql(c: Column): string {
  return `${quote(c.name)} ${c.type}${c.notNull ? " NOT NULL" : ""}${c.defaultSql !== null ? ` DEFAULT ${c.defaultSql}` : ""}`;
}

/** The tables, columns and indexes of the database `db` is connected to (its current schema on PostgreSQL). */
function readSchema(db: Driver): Promise<Map<string, Table>> {
  return db.dialect === "postgres" ? postgresSchema(db) : sqliteSchema(db);
}

/**
 * The statements that turn `live` into `declared`: new tables, then new
 * columns, then new indexes; dropped indexes, columns and tables last, marked
 * destructive.
 */
function diff(live: Map<string, Table>, declared: Map<string, Table>): MigrationStatement[] {
  const statements: MigrationStatement[] = [];
  const add = (sql: string, destructive = false): void => void statements.push({ sql, destructive });
  for (const table of declared.values()) if (!live.has(table.name)) add(table.createSql);
  for (const table of declared.values()) {
    const current = live.get(table.name);
    if (!current) continue;
    for (const column of table.columns) {
      if (current.columns.some((c) => c.name === column.name)) continue;
      add(`ALTER TABLE ${quote(table.name)} ADD COLUMN ${columnSql(column)}`);
    }
  }
  for (const table of declared.values()) {
    const current = live.get(table.name);
    for (const [name, sql] of table.indexes) if (!current?.indexes.has(name)) add(sql);
  }
  for (const table of live.values()) {
    const wanted = declared.get(table.name);
    if (!wanted) continue;
    for (const name of table.indexes.keys()) if (!wanted.indexes.has(name)) add(`DROP INDEX ${quote(name)}`, true);
    for (const column of table.columns) {
      if (!wanted.columns.some((c) => c.name === column.name)) add(`ALTER TABLE ${quote(table.name)} DROP COLUMN ${quote(column.name)}`, true);
    }
  }
  for (const table of live.values()) if (!declared.has(table.name)) add(`DROP TABLE ${quote(table.name)}`, true);
  return statements;
}

/** Opens an empty database of the same kind as `url` and applies `migrations` to it. */
async function declaredSchema(url: string, dialect: Driver["dialect"], migrations: Migration[]): Promise<Map<string, Table>> {
  if (dialect !== "postgres") {
    const scratch = await openDatabase("sqlite::memory:");
    try {
      await migrate(scratch, migrations);
      return await readSchema(scratch);
    } finally {
      await scratch.close();
    }
  }
  const schema = `chapkit_declared_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  // The live URL may pin a search_path; the scratch schema must win over it.
  const scratchUrl = new URL(url);
  scratchUrl.searchParams.delete("search_path");
  const scratch = await openDatabase(scratchUrl.toString(), { postgres: { schema, max: 1 } });
  try {
    await migrate(scratch, migrations);
    return await readSchema(scratch);
  } finally {
    await scratch.query(`DROP SCHEMA IF EXISTS ${quote(schema)} CASCADE`).catch(() => {});
    await scratch.close();
  }
}

/**
 * Compares the live schema behind `db` (opened from `url`) with the schema the
 * service's `migrations` declare, and returns the statements that close the gap.
 */
export async function migrationStatements(db: Driver, url: string, migrations: Migration[]): Promise<MigrationStatement[]> {
  return diff(await readSchema(db), await declaredSchema(url, db.dialect, migrations));
}

/** The text of the migration file: destructive statements commented out unless `allowDestructive`. */
export function migrationFileSource(name: string, statements: MigrationStatement[], allowDestructive: boolean): string {
  const lines = [`-- Migration ${name}, generated by chapkit generate migration.`];
  for (const s of statements) {
    if (!s.destructive) lines.push(`${s.sql};`);
    else if (allowDestructive) lines.push("-- DESTRUCTIVE: may lose data", `${s.sql};`);
    else lines.push("-- DESTRUCTIVE: may lose data; uncomment (or rerun with --allow-destructive) to apply", ...`${s.sql};`.split("\n").map((l) => `-- ${l}`));
  }
  return `${lines.join("\n")}\n`;
}
