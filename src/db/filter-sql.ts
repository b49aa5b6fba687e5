import type { TableDefinition } from "../core/entity.ts";
import { InvalidQueryError } from "../core/errors.ts";
import { resolveField } from "../core/query/field.ts";
import type { Filter, FilterOperator, FilterValue, SortKey } from "../core/query/model.ts";
import { ident } from "./dialect.ts";
import type { DialectName, SqlValue } from "./driver.ts";
import { type FieldRef, FieldSql, type ValueKind } from "./field-sql.ts";

/** A SQL fragment with its bound parameters. */
export interface SqlFragment {
  sql: string;
  params: SqlValue[];
}

const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

function asciiLower(value: string): string {
  return value.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** One ordered, comparable part of a sort key: its SQL (pushing its params) and the value to compare with. */
interface SortAtom {
  sql: (params: SqlValue[]) => string;
  nullable: boolean;
  value: SqlValue;
}

/** The (rank, number, text) triple a JSON value sorts by, the same on every store. */
function jsonSortValues(value: unknown): [number, number, string] {
  if (typeof value === "number") return [1, value, ""];
  if (typeof value === "string") return [2, 0, value];
  if (typeof value === "boolean") return [3, value ? 1 : 0, ""];
  if (value !== null && value !== undefined && typeof value === "object") return [4, 0, ""];
  return [0, 0, ""];
}

/**
 * Compiles filters, sort keys and keyset conditions of one table for one
 * dialect. Comparisons inside JSON are typed (a number never equals a
 * string); text compares and sorts by code point on both stores; `~` and the
 * `i…` operators fold ASCII case only; `!` is two-valued (a missing value
 * fails the comparison, so its negation matches).
 */
export class FilterCompiler {
  readonly #table: TableDefinition;
  readonly #pg: boolean;
  readonly #fields: FieldSql;

  constructor(table: TableDefinition, dialect: DialectName) {
    this.#table = table;
    this.#pg = dialect === "postgres";
    this.#fields = new FieldSql(table, dialect);
  }

  #bind(value: FilterValue): SqlValue {
    return typeof value === "boolean" && !this.#pg ? (value ? 1 : 0) : value;
  }

  /** Compiles a filter tree to a WHERE fragment. */
  compile(filter: Filter): SqlFragment {
    const params: SqlValue[] = [];
    const sql = this.#node(filter, params);
    return { sql, params };
  }

  #not(inner: string): string {
    return `NOT COALESCE(${inner}, ${this.#pg ? "FALSE" : "0"})`;
  }

  #node(filter: Filter, params: SqlValue[]): string {
    switch (filter.kind) {
      case "and":
        return filter.items.length === 0 ? "1=1" : `(${filter.items.map((f) => this.#node(f, params)).join(" AND ")})`;
      case "or":
        return filter.items.length === 0 ? "1=0" : `(${filter.items.map((f) => this.#node(f, params)).join(" OR ")})`;
      case "not":
        return this.#not(`(${this.#node(filter.item, params)})`);
      case "compare":
        return this.#compare(resolveField(this.#table, filter.field, { secret: true }), filter.op, filter.value, params);
    }
  }

  #equals(ref: FieldRef, value: FilterValue, params: SqlValue[]): string {
    if (value === null) return this.#isNull(ref, params, true);
    return this.#ordered(ref, "=", value, params);
  }

  #ordered(ref: FieldRef, sqlOp: string, value: FilterValue, params: SqlValue[]): string {
    if (value === null) throw new InvalidQueryError(`Cannot compare with null using ${sqlOp}`);
    const kind = typeof value as ValueKind;
    // Equality needs no code-point collation (every database collation is deterministic), and
    // without one the column's plain index serves it.
    const plainEquals = sqlOp === "=" && ref.path.length === 0;
    const expr = plainEquals ? ident(ref.column) : this.#fields.typedExpr(ref, kind, params);
    params.push(this.#bind(value));
    return `${expr} ${sqlOp} ?`;
  }

  #compare(ref: FieldRef, op: FilterOperator, value: FilterValue | FilterValue[], params: SqlValue[]): string {
    const scalar = (): FilterValue => {
      if (Array.isArray(value)) throw new InvalidQueryError(`Operator ${op} takes one value`);
      return value;
    };
    const like = (shape: (s: string, any: string) => string, fold: boolean): string => {
      const v = scalar();
      if (typeof v !== "string") throw new InvalidQueryError(`Operator ${op} takes a string`);
      let expr = ref.path.length === 0 ? ident(ref.column) : this.#fields.typedExpr(ref, "string", params);
      // PostgreSQL has no LIKE for numbers, booleans or timestamps: match their text form, as SQLite does.
      if (this.#pg && ref.path.length === 0 && !this.#fields.isText(ref) && ref.column !== "id") expr = `${expr}::text`;
      if (fold) {
        params.push(shape(escapeLike(asciiLower(v)), "%"));
        const lower = this.#pg ? `translate(${expr}, '${UPPER}', '${asciiLower(UPPER)}')` : `LOWER(${expr})`;
        return `${lower} LIKE ? ESCAPE '\\'`;
      }
      if (!this.#pg) {
        // GLOB is case-sensitive, unlike SQLite's LIKE.
        params.push(shape(v.replace(/[*?[]/g, (c) => `[${c}]`), "*"));
        return `${expr} GLOB ?`;
      }
      params.push(shape(escapeLike(v), "%"));
      return `${expr} LIKE ? ESCAPE '\\'`;
    };
    switch (op) {
      case "eq":
        return this.#equals(ref, scalar(), params);
      case "ne":
        return this.#not(this.#equals(ref, scalar(), params));
      case "gt":
        return this.#ordered(ref, ">", scalar(), params);
      case "gte":
        return this.#ordered(ref, ">=", scalar(), params);
      case "lt":
        return this.#ordered(ref, "<", scalar(), params);
      case "lte":
        return this.#ordered(ref, "<=", scalar(), params);
      case "in":
      case "nin": {
        const list = Array.isArray(value) ? value : [value];
        if (list.length === 0) return op === "in" ? "1=0" : "1=1";
        const any = `(${list.map((v) => this.#equals(ref, v, params)).join(" OR ")})`;
        return op === "in" ? any : this.#not(any);
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
    return `${this.#fields.expr(ref, params)} IS ${isNull ? "" : "NOT "}NULL`;
  }

  /** The sort keys plus the `id` tie-breaker (unless `id` is a key); keys after `id` are dropped. */
  #keys(sort: readonly SortKey[] | undefined): SortKey[] {
    const keys: SortKey[] = [];
    for (const key of sort ?? []) {
      keys.push(key);
      if (key.field === "id") return keys;
    }
    keys.push({ field: "id", direction: "asc" });
    return keys;
  }

  #atoms(key: SortKey, value: unknown): SortAtom[] {
    const ref = resolveField(this.#table, key.field, { secret: true });
    if (ref.path.length === 0) {
      const column = this.#table.columns[ref.column];
      let bound: SqlValue = (value ?? null) as SqlValue;
      if (typeof bound === "boolean" && !this.#pg) bound = bound ? 1 : 0;
      const sql = (): string => (this.#fields.isText(ref) && this.#pg ? `${ident(ref.column)} COLLATE "C"` : ident(ref.column));
      return [{ sql, nullable: column?.nullable === true, value: bound }];
    }
    const [rank, num, text] = jsonSortValues(value);
    const rankSql = (params: SqlValue[]): string => {
      const type = this.#fields.jsonType(ref, params);
      return this.#pg
        ? `(CASE ${type} WHEN 'number' THEN 1 WHEN 'string' THEN 2 WHEN 'boolean' THEN 3 WHEN 'object' THEN 4 WHEN 'array' THEN 4 ELSE 0 END)`
        : `(CASE ${type} WHEN 'integer' THEN 1 WHEN 'real' THEN 1 WHEN 'text' THEN 2 WHEN 'true' THEN 3 WHEN 'false' THEN 3 WHEN 'object' THEN 4 WHEN 'array' THEN 4 ELSE 0 END)`;
    };
    const numSql = (params: SqlValue[]): string => {
      const number = this.#fields.typedExpr(ref, "number", params);
      const bool = this.#pg ? `(${this.#fields.typedExpr(ref, "boolean", params)})::int` : this.#fields.typedExpr(ref, "boolean", params);
      return `COALESCE(${number}, ${bool}, 0)`;
    };
    const textSql = (params: SqlValue[]): string => {
      const string = this.#fields.typedExpr(ref, "string", params);
      return this.#pg ? `COALESCE(${string}, '' COLLATE "C")` : `COALESCE(${string}, '')`;
    };
    return [
      { sql: rankSql, nullable: false, value: rank },
      { sql: numSql, nullable: false, value: num },
      { sql: textSql, nullable: false, value: text },
    ];
  }

  /** ORDER BY for sort keys plus the `id` tie-breaker; NULLs first ascending, last descending. */
  orderBy(sort: readonly SortKey[] | undefined): SqlFragment {
    const params: SqlValue[] = [];
    const parts: string[] = [];
    for (const key of this.#keys(sort)) {
      const desc = key.direction === "desc";
      for (const atom of this.#atoms(key, null)) {
        const nulls = atom.nullable ? (desc ? " NULLS LAST" : " NULLS FIRST") : "";
        parts.push(`${atom.sql(params)} ${desc ? "DESC" : "ASC"}${nulls}`);
      }
    }
    return { sql: parts.join(", "), params };
  }

  /**
   * The keyset condition "after this row" for the sort (with the same NULL
   * placement and tie-breaker as {@link FilterCompiler.orderBy}): `values`
   * are the row's sort-key values, `id` its id.
   */
  keyset(sort: readonly SortKey[] | undefined, after: { values: readonly unknown[]; id: string }): SqlFragment {
    const keys = this.#keys(sort);
    const atoms: (SortAtom & { desc: boolean })[] = [];
    keys.forEach((key, i) => {
      const value = key.field === "id" ? after.id : after.values[i];
      for (const atom of this.#atoms(key, value)) atoms.push({ ...atom, desc: key.direction === "desc" });
    });
    const params: SqlValue[] = [];
    const branches: string[] = [];
    atoms.forEach((atom, i) => {
      // NULLs come first ascending (every non-NULL is past them) and last descending (nothing is).
      if (atom.value === null && atom.desc) return;
      const equal = atoms.slice(0, i).map((prior) => this.#same(prior, params));
      branches.push(`(${[...equal, this.#past(atom, params)].join(" AND ")})`);
    });
    if (branches.length === 0) return { sql: "1=0", params };
    const first = atoms[0]!;
    if (atoms.length > 1 && first.value !== null && !(first.desc && first.nullable)) {
      // Implied by the branches; lets an index on the first key start at the cursor instead of the top.
      const bound: SqlValue[] = [];
      const sql = `${first.sql(bound)} ${first.desc ? "<=" : ">="} ?`;
      bound.push(first.value);
      return { sql: `(${sql} AND (${branches.join(" OR ")}))`, params: [...bound, ...params] };
    }
    return { sql: `(${branches.join(" OR ")})`, params };
  }

  #same(atom: SortAtom, params: SqlValue[]): string {
    const sql = atom.sql(params);
    if (atom.value === null) return `${sql} IS NULL`;
    params.push(atom.value);
    return `${sql} = ?`;
  }

  #past(atom: SortAtom & { desc: boolean }, params: SqlValue[]): string {
    if (atom.value === null) return `${atom.sql(params)} IS NOT NULL`;
    const sql = atom.sql(params);
    params.push(atom.value);
    if (!atom.desc) return `${sql} > ?`;
    return atom.nullable ? `(${sql} < ? OR ${atom.sql(params)} IS NULL)` : `${sql} < ?`;
  }
}
