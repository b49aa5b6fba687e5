import type { TableDefinition } from "../core/entity.ts";
import { ident } from "./dialect.ts";
import type { DialectName, SqlValue } from "./driver.ts";

/** A field as `resolveField` (core/query/field.ts) resolves it: a plain column, or a path inside a JSON column. */
export interface FieldRef {
  column: string;
  path: string[];
}

/** The JSON scalar type a typed comparison reads a field as. */
export type ValueKind = "number" | "string" | "boolean";

/** What a JSON path segment may contain (it reaches SQL as text, so nothing else). */
export const PATH_SEGMENT: RegExp = /^[A-Za-z0-9_]+$/;

/**
 * The SQL expressions of fields of one table in one dialect, shared by the
 * filter compiler and the index DDL so that an index on a JSON path is the
 * very expression a filter on that path compiles to. Paths the table declares
 * in `jsonIndexes` are written as literals (they come from the definition,
 * and an index can only match a literal); other paths are bound parameters.
 */
export class FieldSql {
  readonly #table: TableDefinition;
  readonly #pg: boolean;
  readonly #declared: Set<string>;

  constructor(table: TableDefinition, dialect: DialectName) {
    this.#table = table;
    this.#pg = dialect === "postgres";
    this.#declared = new Set((table.jsonIndexes ?? []).map((index) => typeof index === "string" ? index : index.path));
  }

  /** Whether the field is a plain text column. */
  isText(ref: FieldRef): boolean {
    return ref.path.length === 0 && this.#table.columns[ref.column]?.type === "text";
  }

  #path(ref: FieldRef, params: SqlValue[]): string {
    const text = this.#pg ? `{${ref.path.join(",")}}` : "$." + ref.path.join(".");
    if (this.#declared.has(`${ref.column}.${ref.path.join(".")}`) && ref.path.every((s) => PATH_SEGMENT.test(s))) {
      return this.#pg ? `'${text}'::text[]` : `'${text}'`;
    }
    params.push(text);
    return this.#pg ? "?::text[]" : "?";
  }

  /** The untyped SQL of a field (JSON paths yield text on PostgreSQL). */
  expr(ref: FieldRef, params: SqlValue[]): string {
    const column = ident(ref.column);
    if (ref.path.length === 0) return column;
    if (this.#pg) return `(${column}::jsonb #>> ${this.#path(ref, params)})`;
    return `json_extract(${column}, ${this.#path(ref, params)})`;
  }

  /** The JSON type name of the value at a path (`jsonb_typeof` / `json_type`). */
  jsonType(ref: FieldRef, params: SqlValue[]): string {
    const column = ident(ref.column);
    if (this.#pg) return `jsonb_typeof(${column}::jsonb #> ${this.#path(ref, params)})`;
    return `json_type(${column}, ${this.#path(ref, params)})`;
  }

  /** The SQL of a field as a value of `kind`: NULL where a JSON value has another type. */
  typedExpr(ref: FieldRef, kind: ValueKind, params: SqlValue[]): string {
    if (ref.path.length === 0) return this.isText(ref) && this.#pg ? `${ident(ref.column)} COLLATE "C"` : ident(ref.column);
    const guard = this.jsonType(ref, params);
    if (this.#pg) {
      const type = kind === "string" ? "'string'" : `'${kind}'`;
      const cast = kind === "number" ? "::double precision" : kind === "boolean" ? "::boolean" : "";
      const collate = kind === "string" ? ` COLLATE "C"` : "";
      return `(CASE WHEN ${guard} = ${type} THEN ${this.expr(ref, params)}${cast} END)${collate}`;
    }
    const types = kind === "number" ? "('integer','real')" : kind === "string" ? "('text')" : "('true','false')";
    return `(CASE WHEN ${guard} IN ${types} THEN ${this.expr(ref, params)} END)`;
  }
}
