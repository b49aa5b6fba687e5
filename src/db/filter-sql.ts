import type { TableDefinition } from "../core/entity.ts";
import { InvalidQueryError } from "../core/errors.ts";
import type { Filter, FilterOperator, FilterValue, SortKey } from "../core/query.ts";
import { ident } from "./dialect.ts";
import type { DialectName, SqlValue } from "./driver.ts";

/** A SQL fragment with its bound parameters. */
export interface SqlFragment {
  sql: string;
  params: SqlValue[];
}

const PATH_SEGMENT = /^[A-Za-z0-9_]+$/;
const BASE = new Set(["id", "created_at", "updated_at"]);

/** A resolved field reference: a plain column or a path inside a JSON column. */
interface FieldRef {
  column: string;
  path: string[];
}

/** Resolves a field name against a table; unknown fields are an `InvalidQueryError`. */
export function resolveField(table: TableDefinition, field: string): FieldRef {
  const [column = "", ...path] = field.split(".");
  const definition = table.columns[column];
  if (!BASE.has(column) && !definition) throw new InvalidQueryError(`Unknown field: ${field}`);
  if (path.length > 0) {
    if (definition?.type !== "json") throw new InvalidQueryError(`Field ${column} has no nested fields: ${field}`);
    for (const segment of path) {
      if (!PATH_SEGMENT.test(segment)) throw new InvalidQueryError(`Invalid path segment in ${field}`);
    }
  }
  return { column, path };
}

function asciiLower(value: string): string {
  return value.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Compiles filters and sort keys of one table for one dialect. */
export class FilterCompiler {
  readonly #table: TableDefinition;
  readonly #dialect: DialectName;

  constructor(table: TableDefinition, dialect: DialectName) {
    this.#table = table;
    this.#dialect = dialect;
  }

  /** The SQL of a field reference (JSON paths as bound parameters) and its type hint. */
  #expr(ref: FieldRef, params: SqlValue[], as: "text" | "value" | "number" | "boolean" = "value"): string {
    const column = ident(ref.column);
    if (ref.path.length === 0) return column;
    if (this.#dialect === "sqlite") {
      params.push("$." + ref.path.join("."));
      return `json_extract(${column}, ?)`;
    }
    params.push(`{${ref.path.join(",")}}`);
    const text = `(${column}::jsonb #>> ?::text[])`;
    if (as === "number") return `${text}::double precision`;
    if (as === "boolean") return `${text}::boolean`;
    return text;
  }

  #jsonType(ref: FieldRef, params: SqlValue[]): string {
    params.push(`{${ref.path.join(",")}}`);
    return `jsonb_typeof(${ident(ref.column)}::jsonb #> ?::text[])`;
  }

  /** Compiles a filter tree to a WHERE fragment. */
  compile(filter: Filter): SqlFragment {
    const params: SqlValue[] = [];
    const sql = this.#node(filter, params);
    return { sql, params };
  }

  #node(filter: Filter, params: SqlValue[]): string {
    switch (filter.kind) {
      case "and":
        return filter.items.length === 0 ? "1=1" : `(${filter.items.map((f) => this.#node(f, params)).join(" AND ")})`;
      case "or":
        return filter.items.length === 0 ? "1=0" : `(${filter.items.map((f) => this.#node(f, params)).join(" OR ")})`;
      case "not":
        return `NOT (${this.#node(filter.item, params)})`;
      case "compare":
        return this.#compare(resolveField(this.#table, filter.field), filter.op, filter.value, params);
    }
  }

  #typed(ref: FieldRef, value: FilterValue, params: SqlValue[], build: (expr: string) => string): string {
    if (ref.path.length === 0 || this.#dialect === "sqlite") {
      return build(this.#expr(ref, params));
    }
    const kind = typeof value === "number" ? "number" : typeof value === "boolean" ? "boolean" : "string";
    const guard = `${this.#jsonType(ref, params)} = '${kind}'`;
    return `(${guard} AND ${build(this.#expr(ref, params, kind === "string" ? "text" : kind))})`;
  }

  #compare(ref: FieldRef, op: FilterOperator, value: FilterValue | FilterValue[], params: SqlValue[]): string {
    const bindValue = (v: FilterValue): SqlValue => (typeof v === "boolean" && this.#dialect === "sqlite" ? (v ? 1 : 0) : v);
    const scalar = (): FilterValue => {
      if (Array.isArray(value)) throw new InvalidQueryError(`Operator ${op} takes one value`);
      return value;
    };
    const simple = (sqlOp: string): string => {
      const v = scalar();
      if (v === null) return sqlOp === "=" ? this.#isNull(ref, params, true) : this.#isNull(ref, params, false);
      return this.#typed(ref, v, params, (expr) => {
        params.push(bindValue(v));
        return `${expr} ${sqlOp} ?`;
      });
    };
    const like = (shape: (s: string, any: string) => string, fold: boolean): string => {
      const v = scalar();
      if (typeof v !== "string") throw new InvalidQueryError(`Operator ${op} takes a string`);
      const expr = this.#expr(ref, params, "text");
      if (fold) {
        params.push(shape(escapeLike(asciiLower(v)), "%"));
        return `LOWER(${expr}) LIKE ? ESCAPE '\\'`;
      }
      if (this.#dialect === "sqlite") {
        // GLOB is case-sensitive, unlike SQLite's LIKE.
        params.push(shape(v.replace(/[*?[]/g, (c) => `[${c}]`), "*"));
        return `${expr} GLOB ?`;
      }
      params.push(shape(escapeLike(v), "%"));
      return `${expr} LIKE ? ESCAPE '\\'`;
    };
    switch (op) {
      case "eq":
        return simple("=");
      case "ne": {
        const v = scalar();
        if (v === null) return this.#isNull(ref, params, false);
        return `NOT (${simple("=")})`;
      }
      case "gt":
        return simple(">");
      case "gte":
        return simple(">=");
      case "lt":
        return simple("<");
      case "lte":
        return simple("<=");
      case "in":
      case "nin": {
        const list = Array.isArray(value) ? value : [value];
        if (list.length === 0) return op === "in" ? "1=0" : "1=1";
        const parts = list.map((v) => (v === null ? this.#isNull(ref, params, true) : this.#typed(ref, v, params, (expr) => {
          params.push(bindValue(v));
          return `${expr} = ?`;
        })));
        const any = `(${parts.join(" OR ")})`;
        return op === "in" ? any : `NOT ${any}`;
      }
      case "contains":
        return like((s, any) => `${any}${s}${any}`, false);
      case "icontains":
        return like((s, any) => `${any}${s}${any}`, true);
      case "startswith":
        return like((s, any) => `${s}${any}`, false);
      case "endswith":
        return like((s, any) => `${any}${s}`, false);
      case "isnull": {
        const v = scalar();
        if (typeof v !== "boolean") throw new InvalidQueryError("Operator isnull takes true or false");
        return this.#isNull(ref, params, v);
      }
      default:
        throw new InvalidQueryError(`Unknown operator: ${String(op)}`);
    }
  }

  #isNull(ref: FieldRef, params: SqlValue[], isNull: boolean): string {
    return `${this.#expr(ref, params)} IS ${isNull ? "" : "NOT "}NULL`;
  }

  /** A sort expression: JSON values compare as JSON (numbers numerically), JSON null as NULL. */
  #sortExpr(ref: FieldRef, params: SqlValue[]): string {
    if (ref.path.length === 0 || this.#dialect === "sqlite") return this.#expr(ref, params);
    params.push(`{${ref.path.join(",")}}`);
    return `NULLIF(${ident(ref.column)}::jsonb #> ?::text[], 'null'::jsonb)`;
  }

  /** ORDER BY for sort keys plus the `id` tie-breaker; NULLs first ascending, last descending. */
  orderBy(sort: readonly SortKey[] | undefined): SqlFragment {
    const params: SqlValue[] = [];
    const parts: string[] = [];
    for (const key of sort ?? []) {
      const ref = resolveField(this.#table, key.field);
      if (ref.column === "id" && ref.path.length === 0) {
        parts.push(`${ident("id")} ${key.direction === "desc" ? "DESC" : "ASC"}`);
        continue;
      }
      const expr = this.#sortExpr(ref, params);
      parts.push(`${expr} ${key.direction === "desc" ? "DESC NULLS LAST" : "ASC NULLS FIRST"}`);
    }
    if (!parts.some((part) => part.startsWith(`${ident("id")} `))) parts.push(`${ident("id")} ASC`);
    return { sql: parts.join(", "), params };
  }
}
