/** Reads the tables of a live database (SQLite or PostgreSQL): columns, keys and foreign keys. */
import type { Driver } from "./driver.ts";
import { MIGRATIONS_TABLE } from "./migrate.ts";

/** A column as the database reports it. */
export interface ColumnSchema {
  name: string;
  /** The declared type, upper-cased (`TEXT`, `INTEGER`, `TIMESTAMPTZ`, ...). */
  type: string;
  notNull: boolean;
  primaryKey: boolean;
}

/** A foreign key from `column` to `table.references`. */
export interface ForeignKeySchema {
  column: string;
  table: string;
  references: string;
}

/** One table of the live schema. */
export interface TableSchema {
  name: string;
  columns: ColumnSchema[];
  foreignKeys: ForeignKeySchema[];
}

async function sqliteTables(db: Driver): Promise<TableSchema[]> {
  const names = await db.query<{ name: string }>(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
  );
  const tables: TableSchema[] = [];
  for (const { name } of names) {
    const quoted = `"${name.replaceAll('"', '""')}"`;
    const columns = await db.query<{ name: string; type: string; notnull: number; pk: number }>(`PRAGMA table_info(${quoted})`);
    const keys = await db.query<{ from: string; table: string; to: string | null }>(`PRAGMA foreign_key_list(${quoted})`);
    tables.push({
      name,
      columns: columns.map((c) => ({ name: c.name, type: c.type.toUpperCase(), notNull: Number(c.notnull) === 1, primaryKey: Number(c.pk) > 0 })),
      foreignKeys: keys.map((k) => ({ column: k.from, table: k.table, references: k.to ?? "id" })),
    });
  }
  return tables;
}

async function postgresTables(db: Driver): Promise<TableSchema[]> {
  const columns = await db.query<{ table_name: string; column_name: string; data_type: string; is_nullable: string }>(
    `SELECT table_name, column_name, upper(data_type) AS data_type, is_nullable FROM information_schema.columns
     WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`,
  );
  const keys = await db.query<{ table_name: string; column_name: string; kind: string; ref_table: string | null; ref_column: string | null }>(
    `SELECT kcu.table_name, kcu.column_name, tc.constraint_type AS kind, ccu.table_name AS ref_table, ccu.column_name AS ref_column
     FROM information_schema.table_constraints tc
     JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
     LEFT JOIN information_schema.constraint_column_usage ccu
       ON tc.constraint_type = 'FOREIGN KEY' AND ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema
     WHERE tc.table_schema = current_schema() AND tc.constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY')`,
  );
  const tables = new Map<string, TableSchema>();
  for (const row of columns) {
    const table = tables.get(row.table_name) ?? { name: row.table_name, columns: [], foreignKeys: [] };
    tables.set(row.table_name, table);
    table.columns.push({ name: row.column_name, type: row.data_type, notNull: row.is_nullable === "NO", primaryKey: false });
  }
  for (const key of keys) {
    const table = tables.get(key.table_name);
    if (!table) continue;
    if (key.kind === "PRIMARY KEY") {
      const column = table.columns.find((c) => c.name === key.column_name);
      if (column) column.primaryKey = true;
    } else if (key.ref_table) {
      table.foreignKeys.push({ column: key.column_name, table: key.ref_table, references: key.ref_column ?? "id" });
    }
  }
  return [...tables.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The tables of the database `db` is connected to (on PostgreSQL: its current
 * schema), sorted by name, without the migration history table.
 */
export async function describeSchema(db: Driver): Promise<TableSchema[]> {
  const tables = db.dialect === "postgres" ? await postgresTables(db) : await sqliteTables(db);
  return tables.filter((table) => table.name !== MIGRATIONS_TABLE);
}
