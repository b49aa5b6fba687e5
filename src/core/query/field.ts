import { type ColumnType, queryableColumn, type TableDefinition } from "../entity.ts";
import { InvalidQueryError } from "../errors.ts";
import type { FilterOperator, FilterValue } from "./model.ts";
import { nearestName } from "../suggest.ts";

/** Where in a request a list-query problem sits: the parameter and a 1-based position in it. */
export interface QueryLocation {
  /** The query parameter, e.g. `filter`, `sort`, `data.min_samples[gt]`. */
  parameter: string;
  /** 1-based character position inside the parameter's value (or name). */
  position?: number;
}

/** An `InvalidQueryError` whose detail and problem name the parameter and position. */
export function invalidQuery(message: string, where: QueryLocation, suggestion?: string): InvalidQueryError {
  const at = where.position === undefined ? "" : ` at position ${where.position}`;
  const hint = suggestion === undefined ? "" : `; did you mean \`${suggestion}\`?`;
  return new InvalidQueryError(`Invalid query parameter ${where.parameter}${at}: ${message}${hint}`, {
    extensions: { parameter: where.parameter, position: where.position, suggestion },
  });
}

/** The names a list query may use on a table: the base fields and every queryable column. */
export function queryFieldNames(table: TableDefinition): string[] {
  return [...Object.keys(BASE_TYPES), ...Object.keys(table.columns).filter((name) => queryableColumn(table, name))];
}

/** The kind of value a queried field holds: a column type, or `json-path` for a path inside a JSON column. */
export type QueryFieldType = ColumnType | "json-path";

/** A field of a list query resolved against an entity table. */
export interface QueryField {
  /** The field as written, e.g. `data.min_samples`. */
  name: string;
  /** The column, e.g. `data`. */
  column: string;
  /** The path inside a JSON column (empty for a plain column). */
  path: string[];
  /** What it holds. */
  type: QueryFieldType;
}

const FIELD = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SEGMENT = /^[A-Za-z0-9_]+$/;
const BASE_TYPES: Record<string, ColumnType> = { id: "ulid", created_at: "timestamp", updated_at: "timestamp" };
const INT32 = 2 ** 31;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** Where a field is resolved: `where` locates a client's list-query parameter; `secret` admits secret columns. */
export interface ResolveFieldOptions {
  /** The request parameter the name came from; its problems then name the parameter and position. */
  where?: QueryLocation;
  /** Secret columns resolve only for the stores' own lookups, never for clients' queries. */
  secret?: boolean;
}

/**
 * The one resolution of field names, shared by list queries (here) and the
 * SQL compiler (`db/field-sql.ts` only renders its result): `name` split
 * into a column of `table` (own columns only: prototype names such as
 * `constructor` are none) and a JSON path, with its type. An unknown field, a
 * path into a non-JSON column or a path segment other than `[A-Za-z0-9_]+`
 * throws an `InvalidQueryError` (a 400), naming the nearest field when one is
 * close.
 */
export function resolveField(table: TableDefinition, name: string, options: ResolveFieldOptions = {}): QueryField {
  const [column = "", ...path] = name.split(".");
  const base = Object.hasOwn(BASE_TYPES, column) ? BASE_TYPES[column] : undefined;
  const own = FIELD.test(column) && Object.hasOwn(table.columns, column) ? table.columns[column] : undefined;
  const type = base ?? (options.secret ? own?.type : queryableColumn(table, column)?.type);
  const { where } = options;
  if (type === undefined) {
    const suggestion = nearestName(column, queryFieldNames(table));
    if (where) throw invalidQuery(`unknown field ${JSON.stringify(name)}`, where, suggestion);
    throw new InvalidQueryError(`Unknown field: ${name}${suggestion === undefined ? "" : `; did you mean \`${suggestion}\`?`}`);
  }
  if (path.length === 0) return { name, column, path, type };
  if (type !== "json") {
    if (where) throw invalidQuery(`field ${column} has no nested fields (${name})`, where);
    throw new InvalidQueryError(`Field ${column} has no nested fields: ${name}`);
  }
  if (!path.every((segment) => SEGMENT.test(segment))) {
    if (where) throw invalidQuery(`invalid path ${JSON.stringify(name)}`, where);
    throw new InvalidQueryError(`Invalid path segment in ${name}`);
  }
  return { name, column, path, type: "json-path" };
}

const STRING_OPS = new Set<FilterOperator>(["contains", "icontains", "startswith", "endswith"]);
const ORDER_OPS = new Set<FilterOperator>(["gt", "gte", "lt", "lte"]);

/** Whether a field can be sorted on (every type but whole JSON columns and blobs). */
export function isSortable(field: QueryField): boolean {
  return field.type !== "json" && field.type !== "blob";
}

function scalar(field: QueryField, op: FilterOperator, value: FilterValue, where: QueryLocation): FilterValue {
  const describe = (expected: string): InvalidQueryError =>
    invalidQuery(`${field.name} ${op} expects ${expected}, got ${JSON.stringify(value)}`, where);
  if (value === null) {
    if (op === "eq" || op === "ne" || op === "in" || op === "nin") return null;
    throw describe("a value other than null");
  }
  if (STRING_OPS.has(op) && typeof value !== "string") throw describe("a string");
  if (ORDER_OPS.has(op) && typeof value === "boolean") throw describe("a number or a string");
  switch (field.type) {
    case "text":
    case "ulid":
      if (typeof value !== "string") throw describe("a string");
      return value;
    case "integer":
      if (typeof value !== "number" || !Number.isInteger(value) || value < -INT32 || value >= INT32) {
        throw describe("an integer");
      }
      return value;
    case "real":
      if (typeof value !== "number" || !Number.isFinite(value)) throw describe("a number");
      return value;
    case "boolean":
      if (typeof value !== "boolean") throw describe("true or false");
      return value;
    case "timestamp": {
      if (typeof value !== "string" || !/^\d{4}-\d\d-\d\d/.test(value) || STRING_OPS.has(op)) {
        throw describe("an ISO 8601 timestamp");
      }
      const date = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) || value.length === 10 ? value : `${value}Z`);
      const iso = Number.isNaN(date.getTime()) ? "" : date.toISOString();
      if (!ISO.test(iso)) throw describe("an ISO 8601 timestamp");
      return iso;
    }
    case "json-path":
      if (typeof value === "number" && !Number.isFinite(value)) throw describe("a finite number");
      return value;
    default:
      throw invalidQuery(`${field.name} can only be tested with isnull`, where);
  }
}

/**
 * Checks an operator and its value(s) against a field's type and returns the
 * value normalised (timestamps to ISO 8601 UTC). Mismatches are a 400.
 */
export function checkComparison(
  field: QueryField,
  op: FilterOperator,
  value: FilterValue | FilterValue[],
  where: QueryLocation,
): FilterValue | FilterValue[] {
  if (op === "isnull") {
    if (typeof value !== "boolean") throw invalidQuery(`${field.name} isnull expects true or false`, where);
    return value;
  }
  if (STRING_OPS.has(op) && field.type !== "text" && field.type !== "ulid" && field.type !== "json-path") {
    throw invalidQuery(`operator ${op} needs a text field; ${field.name} is ${field.type}`, where);
  }
  if (op === "in" || op === "nin") {
    const list = Array.isArray(value) ? value : [value];
    return list.map((item) => scalar(field, op, item, where));
  }
  if (Array.isArray(value)) throw invalidQuery(`operator ${op} takes one value`, where);
  return scalar(field, op, value, where);
}

const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * Reads one value of a `?field[op]=value` parameter for a field's type:
 * integers and reals as numbers, `true`/`false` for booleans, text as is.
 * Inside JSON columns, `true`, `false`, `null` and numbers are typed and a
 * double-quoted value is a string (`?data.code="5"`).
 */
export function coerceParamValue(field: QueryField, raw: string, where: QueryLocation): FilterValue {
  switch (field.type) {
    case "integer":
    case "real": {
      const trimmed = raw.trim();
      if (!NUMBER.test(trimmed.replace(/^\+/, ""))) throw invalidQuery(`${field.name} expects a number, got ${JSON.stringify(raw)}`, where);
      return Number(trimmed);
    }
    case "boolean":
      if (raw === "true" || raw === "false") return raw === "true";
      throw invalidQuery(`${field.name} expects true or false, got ${JSON.stringify(raw)}`, where);
    case "json-path":
      if (raw === "true" || raw === "false") return raw === "true";
      if (raw === "null") return null;
      if (NUMBER.test(raw)) return Number(raw);
      if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')) {
        try {
          const parsed: unknown = JSON.parse(raw);
          if (typeof parsed === "string") return parsed;
        } catch {
          // fall through: an unparsable quoted value is a plain string
        }
      }
      return raw;
    default:
      return raw;
  }
}
