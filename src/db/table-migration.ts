import type { TableDefinition } from "../core/entity.ts";
import { resolveField } from "../core/query/field.ts";
import { columnSql, ident, sqlType } from "./dialect.ts";
import type { DialectName, SqlValue } from "./driver.ts";
import { FieldSql } from "./field-sql.ts";
import type { Migration } from "./migration.ts";
import {
  dropSearchIndexSql,
  dropSearchQueueSql,
  SEARCH_COLUMN,
  searchColumnSql,
  searchIndexSql,
  searchQueueSql,
  searchTableName,
} from "./search-sql.ts";

/**
 * The expression indexes of a table's `jsonIndexes`: each on exactly the
 * typed expression a filter on that path compiles to in this dialect.
 */
export function jsonIndexSql(dialect: DialectName, table: TableDefinition): string[] {
  const fields = new FieldSql(table, dialect);
  return (table.jsonIndexes ?? []).map((index) => {
    const { path, type = "string" } = typeof index === "string" ? { path: index } : index;
    const params: SqlValue[] = [];
    const expr = fields.typedExpr(resolveField(table, path, { secret: true }), type, params);
    if (params.length > 0) throw new TypeError(`JSON index ${path} of ${table.name} is not a plain path`);
    const label = `ix_${table.name}_${path.replace(/\./g, "_")}`;
    return `CREATE INDEX ${ident(label)} ON ${ident(table.name)} ((${expr}))`;
  });
}

/** The `CREATE TABLE` and `CREATE INDEX` statements of an entity table (plus its search index when it has searchable columns). */
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
  const search = searchColumnSql(dialect, table);
  if (search) lines.push(search);
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
  statements.push(...jsonIndexSql(dialect, table), ...searchIndexSql(dialect, table));
  return statements.join(";\n") + ";";
}

/** The `DROP` statements that undo {@link createTableSql}. */
export function dropTableSql(dialect: DialectName, table: TableDefinition): string {
  return [...dropSearchIndexSql(dialect, table), `DROP TABLE ${ident(table.name)}`].join(";\n") + ";";
}

/**
 * The first migration of an entity table: creates it with its indexes, its
 * JSON path indexes and its full-text search index (module `entity:<table>`
 * unless given, version 1).
 */
export function tableMigration(table: TableDefinition, module: string = `entity:${table.name}`): Migration {
  return {
    module,
    version: 1,
    name: `create ${table.name}`,
    up: { sqlite: createTableSql("sqlite", table), postgres: createTableSql("postgres", table) },
    down: table.searchable?.length
      ? { sqlite: dropTableSql("sqlite", table), postgres: dropTableSql("postgres", table) }
      : `DROP TABLE ${ident(table.name)};`,
  };
}

/**
 * Adds the internal `_version` column to an existing entity table: every
 * write through the repository increments it, and conditional writes
 * (`If-Match`) test it inside the `UPDATE`/`DELETE`. Tables created before it
 * get it as a later migration of their module.
 */
export function versionColumnMigration(table: TableDefinition, module: string, version: number): Migration {
  const name = ident(table.name);
  return {
    module,
    version,
    name: `add _version to ${table.name}`,
    up: `ALTER TABLE ${name} ADD COLUMN "_version" INTEGER NOT NULL DEFAULT 0;`,
    down: `ALTER TABLE ${name} DROP COLUMN "_version";`,
  };
}

/** The migrations of a new entity table: {@link tableMigration} (version 1) and its `_version` column (version 2). */
export function entityTableMigrations(table: TableDefinition, module: string = `entity:${table.name}`): Migration[] {
  return [tableMigration(table, module), versionColumnMigration(table, module, 2)];
}

/**
 * Makes an existing table searchable (`q=`) over its `searchable` columns:
 * the FTS5 table and triggers on SQLite, rebuilt from the rows already
 * there, or the generated `tsvector` column and its GIN index on PostgreSQL.
 */
export function searchMigration(table: TableDefinition, module: string, version: number): Migration {
  const sqlite = [...searchIndexSql("sqlite", table), `INSERT INTO ${ident(searchTableName(table))} (${ident(searchTableName(table))}) VALUES ('rebuild')`];
  const postgres = [`ALTER TABLE ${ident(table.name)} ADD COLUMN ${searchColumnSql("postgres", table)}`, ...searchIndexSql("postgres", table)];
  return {
    module,
    version,
    name: `search ${table.name} by ${(table.searchable ?? []).join(", ")}`,
    up: { sqlite: sqlite.join(";\n") + ";", postgres: postgres.join(";\n") + ";" },
    down: {
      sqlite: [
        ...["insert", "delete", "update"].map((suffix) => `DROP TRIGGER ${ident(`${table.name}_fts_${suffix}`)}`),
        ...dropSearchIndexSql("sqlite", table),
      ].join(";\n") + ";",
      postgres: `ALTER TABLE ${ident(table.name)} DROP COLUMN ${ident(SEARCH_COLUMN)};`,
    },
  };
}

/**
 * Moves a searchable table's SQLite search index from per-row triggers to a
 * queue indexed in batches after commits (see `searchQueueSql`): writes no
 * longer pay for the FTS5 index inside their transaction, and searches stay
 * read-your-writes because the repository indexes the queue before each one.
 * A later migration of the module that created the table (and its search
 * index), so databases created before keep their applied checksums. Nothing
 * changes on PostgreSQL, whose generated `tsvector` and GIN index already
 * defer their work (GIN's pending list).
 */
export function searchQueueMigration(table: TableDefinition, module: string, version: number): Migration {
  return {
    module,
    version,
    name: `index ${table.name} search in batches`,
    up: { sqlite: searchQueueSql(table).join(";\n") + ";", postgres: "" },
    down: { sqlite: dropSearchQueueSql(table).join(";\n") + ";", postgres: "" },
  };
}
