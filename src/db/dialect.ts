import type { Column, ColumnType } from "../core/entity.ts";
import type { DialectName } from "./driver.ts";

const TYPES: Record<DialectName, Record<ColumnType, string>> = {
  sqlite: {
    text: "TEXT",
    integer: "INTEGER",
    real: "REAL",
    boolean: "INTEGER",
    json: "TEXT",
    timestamp: "TEXT",
    ulid: "TEXT",
    blob: "BLOB",
  },
  postgres: {
    text: "TEXT",
    integer: "INTEGER",
    real: "DOUBLE PRECISION",
    boolean: "BOOLEAN",
    json: "JSON",
    timestamp: "TIMESTAMPTZ(3)",
    ulid: "VARCHAR(26)",
    blob: "BYTEA",
  },
};

/** The SQL type of a column type in a dialect. */
export function sqlType(dialect: DialectName, type: ColumnType): string {
  return TYPES[dialect][type];
}

/** Quotes an identifier that was validated by `defineTable`. */
export function ident(name: string): string {
  return `"${name}"`;
}

/** The SQL column definition (without the name) of a column. */
export function columnSql(dialect: DialectName, column: Column): string {
  let sql = sqlType(dialect, column.type);
  if (!column.nullable) sql += " NOT NULL";
  if (column.references) {
    sql += ` REFERENCES ${ident(column.references.table)}("id")`;
    const onDelete = column.references.onDelete ?? "restrict";
    sql += ` ON DELETE ${onDelete.toUpperCase()}`;
  }
  return sql;
}
