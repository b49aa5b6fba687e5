/** The tables a backup copies, read from the live catalog of either store, in an order that respects foreign keys. */
import type { Driver, Executor } from "../../db/driver.ts";
import { MIGRATIONS_TABLE } from "../../db/migrate.ts";

/** How a value of a column is read and written: the few kinds that differ between SQLite and PostgreSQL. */
export type ColumnKind = "boolean" | "bytes" | "number" | "timestamp" | "json" | "text";

/** A column a backup copies. */
export interface BackupColumn {
  name: string;
  /** The declared type (`TEXT`, `timestamp(3) with time zone`, ...). */
  type: string;
  kind: ColumnKind;
}

/** A table a backup copies. */
export interface BackupTable {
  name: string;
  columns: BackupColumn[];
  /** Primary key columns, in key order (rows are read in this order). */
  primaryKey: string[];
  /** Columns referencing this same table (a tree, e.g. an artifact's parent). */
  selfReferences: { column: string; references: string }[];
  /** Tables it references (other than itself). */
  references: string[];
}

/**
 * Tables that hold no data of their own and are left out: the migration
 * history (carried in the manifest), the database blob backend's tables
 * (blobs travel through the blob store, whatever its backend) and SQLite's
 * search queues (rebuilt by the target's triggers).
 */
export function isExcludedTable(name: string): boolean {
  return name === MIGRATIONS_TABLE || name === "chapkit_blobs" || name === "chapkit_blob_chunks" || name.endsWith("_fts_pending");
}

function kindOf(type: string): ColumnKind {
  const t = type.toLowerCase();
  if (t === "boolean" || t === "bool") return "boolean";
  if (t === "bytea" || t === "blob") return "bytes";
  if (/^(smallint|integer|bigint|int\d?|real|double precision|numeric.*|decimal.*|float.*)$/.test(t)) return "number";
  if (t.startsWith("timestamp") && t.includes("with time zone")) return "timestamp";
  if (t === "json" || t === "jsonb") return "json";
  return "text";
}

function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

interface Catalog {
  name: string;
  columns: BackupColumn[];
  primaryKey: string[];
  foreignKeys: { column: string; table: string; references: string }[];
}

async function sqliteCatalog(db: Executor): Promise<Catalog[]> {
  // table_list tells ordinary tables from virtual tables and their shadow tables (FTS5 indexes: derived data).
  const names = await db.query<{ name: string }>(
    `SELECT "name" FROM pragma_table_list WHERE "schema" = 'main' AND "type" = 'table' AND "name" NOT LIKE 'sqlite_%' ORDER BY "name"`,
  );
  const out: Catalog[] = [];
  for (const { name } of names) {
    const columns = await db.query<{ name: string; type: string; pk: number; hidden: number }>(`PRAGMA table_xinfo(${quote(name)})`);
    const keys = await db.query<{ from: string; table: string; to: string | null }>(`PRAGMA foreign_key_list(${quote(name)})`);
    const visible = columns.filter((c) => Number(c.hidden) === 0);
    out.push({
      name,
      columns: visible.map((c) => ({ name: c.name, type: c.type.toUpperCase(), kind: kindOf(c.type) })),
      primaryKey: visible.filter((c) => Number(c.pk) > 0).sort((a, b) => Number(a.pk) - Number(b.pk)).map((c) => c.name),
      foreignKeys: keys.map((k) => ({ column: k.from, table: k.table, references: k.to ?? "id" })),
    });
  }
  return out;
}

async function postgresCatalog(db: Executor): Promise<Catalog[]> {
  // Ordinary and partitioned tables, not their partitions (a partition's rows are read through its parent).
  const columns = await db.query<{ table_name: string; column_name: string; type: string; generated: string }>(
    `SELECT c.relname AS table_name, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS type, a.attgenerated::text AS generated
     FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
     WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) AND c.relkind IN ('r', 'p') AND NOT c.relispartition
       AND a.attnum > 0 AND NOT a.attisdropped
     ORDER BY c.relname, a.attnum`,
  );
  const keys = await db.query<{ table_name: string; kind: string; columns: string; ref_table: string | null; ref_columns: string | null }>(
    `SELECT c.relname AS table_name, k.contype::text AS kind,
       (SELECT string_agg(a.attname, ',' ORDER BY u.n) FROM unnest(k.conkey) WITH ORDINALITY u(num, n) JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.num) AS columns,
       r.relname AS ref_table,
       (SELECT string_agg(a.attname, ',' ORDER BY u.n) FROM unnest(k.confkey) WITH ORDINALITY u(num, n) JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.num) AS ref_columns
     FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid LEFT JOIN pg_class r ON r.oid = k.confrelid
     WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) AND k.contype IN ('p', 'f') AND NOT c.relispartition`,
  );
  const tables = new Map<string, Catalog>();
  for (const row of columns) {
    const table = tables.get(row.table_name) ?? { name: row.table_name, columns: [], primaryKey: [], foreignKeys: [] };
    tables.set(row.table_name, table);
    // Generated columns (the search tsvector) are computed by the target.
    if (row.generated === "") table.columns.push({ name: row.column_name, type: row.type, kind: kindOf(row.type) });
  }
  for (const key of keys) {
    const table = tables.get(key.table_name);
    if (!table || !key.columns) continue;
    if (key.kind === "p") table.primaryKey = key.columns.split(",");
    else if (key.ref_table && !key.columns.includes(",")) {
      table.foreignKeys.push({ column: key.columns, table: key.ref_table, references: key.ref_columns ?? "id" });
    }
  }
  return [...tables.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The tables of the store `db` reads (on PostgreSQL its current schema)
 * that hold data, minus {@link isExcludedTable}, ordered so that a table
 * comes after those it references (cycles keep their alphabetical order).
 */
export async function backupTables(db: Executor | Driver): Promise<BackupTable[]> {
  const catalog = db.dialect === "postgres" ? await postgresCatalog(db) : await sqliteCatalog(db);
  const tables = catalog.filter((t) => !isExcludedTable(t.name)).map((t): BackupTable => ({
    name: t.name,
    columns: t.columns,
    primaryKey: t.primaryKey,
    selfReferences: t.foreignKeys.filter((k) => k.table === t.name).map((k) => ({ column: k.column, references: k.references })),
    references: [...new Set(t.foreignKeys.filter((k) => k.table !== t.name).map((k) => k.table))],
  }));
  const byName = new Map(tables.map((t) => [t.name, t]));
  const ordered: BackupTable[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (table: BackupTable): void => {
    if (state.has(table.name)) return;
    state.set(table.name, "visiting");
    for (const name of table.references) {
      const target = byName.get(name);
      if (target) visit(target);
    }
    state.set(table.name, "done");
    ordered.push(table);
  };
  for (const table of tables) visit(table);
  return ordered;
}

/** Every base table of the store, the excluded ones included (for the emptiness check of a restore target). */
export async function allTableNames(db: Executor | Driver): Promise<string[]> {
  const catalog = db.dialect === "postgres" ? await postgresCatalog(db) : await sqliteCatalog(db);
  return catalog.map((t) => t.name).filter((name) => name !== MIGRATIONS_TABLE && !name.endsWith("_fts_pending"));
}

/** The store's applied migrations as `module#version`, sorted; none when it was never migrated. */
export async function appliedMigrations(db: Executor | Driver): Promise<string[]> {
  try {
    const rows = await db.query<{ module: string; version: number | string }>(`SELECT module, version FROM ${MIGRATIONS_TABLE} ORDER BY module, version`);
    return rows.map((row) => `${row.module}#${Number(row.version)}`);
  } catch {
    return []; // never migrated
  }
}

export { quote as quoteIdent };
