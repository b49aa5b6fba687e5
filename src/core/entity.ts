/** The storage type of a column; each dialect maps it to its own SQL type. */
export type ColumnType =
  | "text"
  | "integer"
  | "real"
  | "boolean"
  | "json"
  | "timestamp"
  | "ulid"
  | "blob";

/** What happens to a row when the row it references is deleted. */
export type OnDelete = "cascade" | "set null" | "restrict";

/** A column of an entity's table. */
export interface Column {
  /** Storage type. */
  type: ColumnType;
  /** Whether `NULL` is allowed (default false). */
  nullable?: boolean;
  /** Adds a unique constraint; a violation becomes a `ConflictError`. */
  unique?: boolean;
  /** Adds a plain index. */
  indexed?: boolean;
  /** A foreign key to another entity table's `id`. */
  references?: { table: string; onDelete?: OnDelete };
  /**
   * A secret (a password or token hash): never selectable, filterable,
   * sortable or searchable through list queries, which name it as unknown.
   */
  secret?: boolean;
}

/** An extra (possibly multi-column) index. */
export interface IndexDefinition {
  /** Columns in index order. */
  columns: string[];
  /** Unique index. */
  unique?: boolean;
}

/**
 * An index on a value inside a JSON column (`data.ml_type`), for filters on
 * that path: `string` (default) serves `eq`, `in` and ranges on text values,
 * `number` on numeric ones. Each store gets an expression index on the very
 * expression its filters compile to.
 */
export interface JsonPathIndex {
  /** `column.key[.key…]` of a JSON column. */
  path: string;
  /** The JSON type the filters compare with (default `string`). */
  type?: "string" | "number";
}

/**
 * A relation of a table to another, loaded by name with `?include=` or
 * `record.load(name)`: `belongsTo` (this table's `column` holds the other's
 * id: one record or null), `hasMany` (the other table's `column` holds this
 * id: an array), `manyToMany` (rows of the link table `through` pair this id
 * in `from` with the other's id in `to`: an array). `table` may be a function
 * for tables that refer to each other.
 */
export type Relation =
  | { kind: "belongsTo"; table: TableDefinition | (() => TableDefinition); column: string }
  | { kind: "hasMany"; table: TableDefinition | (() => TableDefinition); column: string }
  | { kind: "manyToMany"; table: TableDefinition | (() => TableDefinition); through: string; from: string; to: string };

/**
 * The table behind an entity. Every entity table has `id` (ULID primary key),
 * `created_at` and `updated_at` in addition to its own columns.
 */
export interface TableDefinition {
  /** SQL table name (a plain identifier: letters, digits and `_`). */
  name: string;
  /** The entity's own columns, in output order. */
  columns: Record<string, Column>;
  /** Extra indexes. */
  indexes?: IndexDefinition[];
  /** Indexes on paths inside JSON columns: `"data.ml_type"` or `{ path, type }`. */
  jsonIndexes?: (string | JsonPathIndex)[];
  /**
   * Text or JSON columns offered to full-text search (`q=`); the table's
   * migration then creates the search index (FTS5 on SQLite, a `tsvector`
   * column with a GIN index on PostgreSQL).
   */
  searchable?: string[];
  /** Relations to other tables by name (see {@link Relation}). */
  relations?: Record<string, Relation>;
}

/** The base fields of every stored entity: ULID and ISO 8601 UTC timestamps with milliseconds. */
export interface EntityRecord {
  /** ULID primary key. */
  id: string;
  /** ISO 8601 UTC, e.g. `2026-01-02T03:04:05.678Z`. */
  created_at: string;
  /** ISO 8601 UTC; changes on every update that changes a column. */
  updated_at: string;
}

/**
 * The column a list query may reach by this name: an own, non-secret column
 * of the table. Names of JavaScript prototype members (`constructor`,
 * `__proto__`, `valueOf`…) are no columns.
 */
export function queryableColumn(table: TableDefinition, name: string): Column | undefined {
  if (!Object.hasOwn(table.columns, name)) return undefined;
  const column = table.columns[name];
  return column?.secret ? undefined : column;
}

/** The names of the base fields, in wire order. */
export const BASE_FIELDS: readonly ["id", "created_at", "updated_at"] = ["id", "created_at", "updated_at"];

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const JSON_KEY = /^[A-Za-z0-9_]+$/;

/**
 * Declares an entity table and checks its identifiers, so that table and
 * column names (which cannot be bound parameters) never come from input.
 *
 * @example
 * ```ts
 * import { defineTable } from "./entity.ts";
 * const notes = defineTable({
 *   name: "notes",
 *   columns: { title: { type: "text" }, body: { type: "text", nullable: true } },
 * });
 * ```
 */
export function defineTable(definition: TableDefinition): TableDefinition {
  const names = [definition.name, ...Object.keys(definition.columns)];
  for (const name of names) {
    if (!IDENTIFIER.test(name)) throw new TypeError(`Invalid SQL identifier: ${JSON.stringify(name)}`);
  }
  for (const base of BASE_FIELDS) {
    if (base in definition.columns) throw new TypeError(`Column ${base} is implicit; do not declare it`);
  }
  for (const index of definition.indexes ?? []) {
    for (const column of index.columns) {
      if (!(column in definition.columns) && !(BASE_FIELDS as readonly string[]).includes(column)) {
        throw new TypeError(`Index on unknown column ${column} of ${definition.name}`);
      }
    }
  }
  for (const column of definition.searchable ?? []) {
    const type = definition.columns[column]?.type;
    if (type !== "text" && type !== "json") throw new TypeError(`Searchable column ${column} of ${definition.name} must be a text or json column`);
    if (definition.columns[column]?.secret) throw new TypeError(`Secret column ${column} of ${definition.name} cannot be searchable`);
    // FTS5 reserves these column names.
    if (column === "rank" || column === "rowid") throw new TypeError(`Column ${column} cannot be searchable`);
  }
  for (const [name, relation] of Object.entries(definition.relations ?? {})) {
    const identifiers = relation.kind === "manyToMany" ? [name, relation.through, relation.from, relation.to] : [name, relation.column];
    for (const identifier of identifiers) {
      if (!IDENTIFIER.test(identifier)) throw new TypeError(`Invalid SQL identifier in relation ${name} of ${definition.name}: ${JSON.stringify(identifier)}`);
    }
    if (relation.kind === "belongsTo" && !(relation.column in definition.columns)) {
      throw new TypeError(`Relation ${name} of ${definition.name} names the unknown column ${relation.column}`);
    }
    if (name in definition.columns || name === "load") throw new TypeError(`Relation ${name} of ${definition.name} would hide a column`);
  }
  if ("_version" in definition.columns) throw new TypeError(`Column _version is reserved for the row version of ${definition.name}`);
  if (definition.searchable?.length && "_search" in definition.columns) {
    throw new TypeError(`Column _search is reserved for the search index of ${definition.name}`);
  }
  for (const index of definition.jsonIndexes ?? []) {
    const path = typeof index === "string" ? index : index.path;
    const [column = "", ...keys] = path.split(".");
    if (definition.columns[column]?.type !== "json" || keys.length === 0 || !keys.every((k) => JSON_KEY.test(k))) {
      throw new TypeError(`JSON index ${JSON.stringify(path)} of ${definition.name} must be json_column.key[.key…] (keys of letters, digits and _)`);
    }
  }
  return definition;
}
