import type { TableDefinition } from "../core/entity.ts";
import { columnSql, ident, sqlType } from "./dialect.ts";
import type { DialectName } from "./driver.ts";
import type { Migration } from "./migration.ts";

/** The `CREATE TABLE` and `CREATE INDEX` statements of an entity table. */
export function createTableSql(dialect: DialectName, table: TableDefinition): string {
  const name = ident(table.name);
  const lines = [
    `${ident("id")} ${sqlType(dialect, "ulid")} PRIMARY KEY`,
    `${ident("created_at")} ${sqlType(dialect, "timestamp")} NOT NULL`,
    `${ident("updated_at")} ${sqlType(dialect, "timestamp")} NOT NULL`,
  ];
  for (const [column, definition] of Object.entries(table.columns)) {
    lines.push(`${ident(column)} ${columnSql(dialect, definition)}`);
  }
  const statements = [`CREATE TABLE ${name} (\n  ${lines.join(",\n  ")}\n)`];
  for (const [column, definition] of Object.entries(table.columns)) {
    if (definition.unique) {
      statements.push(`CREATE UNIQUE INDEX ${ident(`ux_${table.name}_${column}`)} ON ${name} (${ident(column)})`);
    } else if (definition.indexed || definition.references) {
      statements.push(`CREATE INDEX ${ident(`ix_${table.name}_${column}`)} ON ${name} (${ident(column)})`);
    }
  }
  for (const index of table.indexes ?? []) {
    const label = `${index.unique ? "ux" : "ix"}_${table.name}_${index.columns.join("_")}`;
    statements.push(
      `CREATE ${index.unique ? "UNIQUE " : ""}INDEX ${ident(label)} ON ${name} (${index.columns.map(ident).join(", ")})`,
    );
  }
  return statements.join(";\n") + ";";
}

/**
 * The first migration of an entity table: creates it with its indexes
 * (module `entity:<table>` unless given, version 1).
 */
export function tableMigration(table: TableDefinition, module: string = `entity:${table.name}`): Migration {
  return {
    module,
    version: 1,
    name: `create ${table.name}`,
    up: { sqlite: createTableSql("sqlite", table), postgres: createTableSql("postgres", table) },
    down: `DROP TABLE ${ident(table.name)};`,
  };
}
