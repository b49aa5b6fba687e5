/**
 * Reading a list request's parameters into one {@link ListQuery}; the
 * feature as a whole is described in `mod.ts`.
 *
 * @module
 */
import { decodeCursor } from "./cursor.ts";
import type { TableDefinition } from "../entity.ts";
import { type FieldError, ValidationError } from "../errors.ts";
import { parseFilter } from "./filter-parse.ts";
import type { Filter, FilterOperator, FilterValue, ListQuery, SortKey } from "./model.ts";
import {
  checkComparison,
  coerceParamValue,
  invalidQuery,
  isSortable,
  type QueryField,
  resolveField,
} from "./field.ts";

/** How list query parameters are read for one entity. */
export interface ListQueryOptions {
  /** The entity's table: fields, types and searchable columns. */
  table: TableDefinition;
  /** Cursor page size when `limit` is absent (default 50). */
  defaultLimit?: number;
  /** Largest `limit` accepted (default 1000). */
  maxLimit?: number;
  /** Extra parameter names the route reads itself (not field filters). */
  allow?: readonly string[];
  /** Makes cursors HMAC-signed with this secret (default: a plain checksum). */
  cursorSecret?: string;
  /** Largest `size` accepted (default {@link DEFAULT_MAX_PAGE_SIZE}). */
  maxSize?: number;
}

/** The default largest `size` of a page (contract §5 has none; a documented difference). */
export const DEFAULT_MAX_PAGE_SIZE = 10_000;

/** Longest `filter` expression accepted, in characters. */
export const MAX_FILTER_LENGTH = 4096;
/** Most values of one `in`/`nin` list. */
export const MAX_IN_ITEMS = 1000;
/** Most keys of one `sort`. */
export const MAX_SORT_KEYS = 16;

/**
 * Checks that a page stays in range: `size` at most `maxSize` and the offset
 * `(page - 1) * size` a safe integer, so no page number reaches the store as
 * a value it cannot hold.
 *
 * @throws {InvalidQueryError} naming `size` or `page`.
 */
export function checkPageWindow(page: number, size: number, maxSize: number = DEFAULT_MAX_PAGE_SIZE): void {
  if (size > maxSize) throw invalidQuery(`size must be at most ${maxSize}`, { parameter: "size", position: 1 });
  if (!Number.isSafeInteger(page) || !Number.isSafeInteger((page - 1) * size)) {
    throw invalidQuery("page is beyond the last page any store can reach", { parameter: "page", position: 1 });
  }
}

/** How a list answers: a plain array, the `page`/`size` envelope, or a cursor page. */
export type ListMode = "all" | "page" | "cursor";

/** A list request, parsed and checked against the entity. */
export interface ListRequest {
  /** Which answer shape. */
  mode: ListMode;
  /** What to ask the store for (filter, sort, search, and the slice of this mode). */
  query: ListQuery;
  /** `page` mode: the requested page. */
  page?: { page: number; size: number };
  /** `cursor` mode: rows per page. */
  limit?: number;
  /** Selected output fields (dotted paths keep their nesting); absent: every field. */
  fields?: string[];
  /** Whether to count the matching rows (`count=false` skips it). */
  count: boolean;
  /** The canonical filter, sort and search parameters (what a cursor belongs to). */
  signature: string;
  /** Relations to load with the rows (`include=children,config`), declared by the table. */
  include?: string[];
}

/** The reserved list-query parameter names. */
export const RESERVED_LIST_PARAMETERS: readonly string[] = [
  "page", "size", "limit", "cursor", "sort", "fields", "filter", "q", "count", "include",
];

const OPERATORS = new Set<string>([
  "eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "contains", "icontains", "startswith", "endswith", "isnull",
]);
const FIELD_PARAM = /^([A-Za-z0-9_.]+)(?:\[([^\]]*)\])?$/;
const SIGNED = new Set(["sort", "filter", "q"]);

function entriesOf(params: URLSearchParams | Record<string, unknown>): [string, string][] {
  if (params instanceof URLSearchParams) return [...params.entries()];
  const out: [string, string][] = [];
  for (const [name, value] of Object.entries(params)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item !== undefined && item !== null) out.push([name, String(item)]);
    }
  }
  return out;
}

function integer(name: string, raw: string, min: number, max: number): number {
  if (!/^\+?\d+$/.test(raw.trim())) throw invalidQuery(`${name} must be an integer, got ${JSON.stringify(raw)}`, { parameter: name, position: 1 });
  const value = Number(raw.trim());
  if (value < min || value > max) {
    throw invalidQuery(`${name} must be between ${min} and ${max}, got ${value}`, { parameter: name, position: 1 });
  }
  return value;
}

/**
 * Reads `page` or `size` (contract §5): a failure is pushed onto `errors` as
 * a 422 `validation-failed` entry naming the parameter.
 */
export function parsePageNumber(name: string, raw: string, errors: FieldError[]): number {
  if (!/^[+-]?\d+$/.test(raw.trim())) {
    errors.push({ loc: ["query", name], msg: "Input should be a valid integer, unable to parse string as an integer", type: "int_parsing" });
    return 1;
  }
  const value = Number(raw.trim());
  if (value < 1) errors.push({ loc: ["query", name], msg: "Input should be greater than or equal to 1", type: "greater_than_equal" });
  return value;
}

/** Parses `sort`: `created_at:desc,name:asc` or `-created_at,name`. */
export function parseSort(table: TableDefinition, raw: string, parameter: string = "sort"): SortKey[] {
  const keys: SortKey[] = [];
  let offset = 0;
  const parts = raw.split(",");
  if (parts.length > MAX_SORT_KEYS) throw invalidQuery(`at most ${MAX_SORT_KEYS} sort keys`, { parameter, position: 1 });
  for (const part of parts) {
    const at = offset + 1 + (part.length - part.trimStart().length);
    offset += part.length + 1;
    const text = part.trim();
    const colon = text.match(/^([^:]+):(asc|desc)$/i);
    const field = colon ? colon[1]!.trim() : text.replace(/^[-+]/, "");
    const direction = colon ? (colon[2]!.toLowerCase() as "asc" | "desc") : text.startsWith("-") ? "desc" : "asc";
    if (!field || /[:\s]/.test(field)) throw invalidQuery(`expected field, -field or field:asc|desc, got ${JSON.stringify(text)}`, { parameter, position: at });
    const ref = resolveField(table, field, { where: { parameter, position: at } });
    if (!isSortable(ref)) throw invalidQuery(`cannot sort on ${field} (${ref.type})`, { parameter, position: at });
    if (keys.some((key) => key.field === field)) throw invalidQuery(`${field} is sorted on twice`, { parameter, position: at });
    keys.push({ field, direction });
  }
  return keys;
}

/** Parses `fields`: a comma-separated list of fields or JSON paths. */
export function parseFields(table: TableDefinition, raw: string, parameter: string = "fields"): string[] {
  const fields: string[] = [];
  let offset = 0;
  for (const part of raw.split(",")) {
    const at = offset + 1 + (part.length - part.trimStart().length);
    offset += part.length + 1;
    const field = part.trim();
    if (!field) throw invalidQuery("empty field name", { parameter, position: at });
    resolveField(table, field, { where: { parameter, position: at } });
    if (!fields.includes(field)) fields.push(field);
  }
  return fields;
}

function fieldFilter(table: TableDefinition, name: string, raw: string): Filter {
  const match = FIELD_PARAM.exec(name);
  if (!match) throw invalidQuery(`unknown parameter ${JSON.stringify(name)}`, { parameter: name });
  const field = match[1]!;
  const op = match[2] ?? "eq";
  let ref: QueryField;
  try {
    ref = resolveField(table, field, { where: { parameter: name, position: 1 } });
  } catch {
    throw invalidQuery(`unknown parameter or field ${JSON.stringify(field)}`, { parameter: name, position: 1 });
  }
  if (!OPERATORS.has(op)) {
    throw invalidQuery(`unknown operator ${JSON.stringify(op)}; use one of ${[...OPERATORS].join(", ")}`, {
      parameter: name,
      position: field.length + 2,
    });
  }
  const operator = op as FilterOperator;
  let value: FilterValue | FilterValue[];
  if (operator === "isnull") {
    if (raw !== "true" && raw !== "false") throw invalidQuery("isnull takes true or false", { parameter: name, position: 1 });
    value = raw === "true";
  } else if (operator === "in" || operator === "nin") {
    const items: FilterValue[] = [];
    let offset = 0;
    const parts = raw.split(",");
    if (parts.length > MAX_IN_ITEMS) throw invalidQuery(`at most ${MAX_IN_ITEMS} values in one list`, { parameter: name, position: 1 });
    for (const part of parts) {
      const where = { parameter: name, position: offset + 1 };
      items.push(checkComparison(ref, "eq", coerceParamValue(ref, part, where), where) as FilterValue);
      offset += part.length + 1;
    }
    return { kind: "compare", field, op: operator, value: items };
  } else {
    value = coerceParamValue(ref, raw, { parameter: name, position: 1 });
  }
  if (value === null && operator === "eq") return { kind: "compare", field, op: "isnull", value: true };
  if (value === null && operator === "ne") return { kind: "compare", field, op: "isnull", value: false };
  value = checkComparison(ref, operator, value, { parameter: name, position: 1 });
  return { kind: "compare", field, op: operator, value };
}

/**
 * Reads the query parameters of `GET {prefix}` into a {@link ListRequest}:
 * field filters (`name=x`, `level[gte]=1`, `data.k[in]=a,b`), `filter`
 * expressions, `sort`, `fields`, `q`, `page`+`size` or `limit`/`cursor`, and
 * `count`. Anything unknown or malformed is a 400 `invalid-query` naming the
 * parameter and position; names starting with `_` are ignored.
 *
 * @example
 * ```ts
 * import { defineTable } from "../entity.ts";
 * import { parseListQuery } from "./list-query.ts";
 * const table = defineTable({ name: "notes", columns: { title: { type: "text" } } });
 * const request = parseListQuery(new URLSearchParams("title[icontains]=hi&sort=-created_at&limit=20"), { table });
 * request.mode; // "cursor"
 * ```
 */
export function parseListQuery(params: URLSearchParams | Record<string, unknown>, options: ListQueryOptions): ListRequest {
  const { table } = options;
  const maxLimit = options.maxLimit ?? 1000;
  const allow = new Set(options.allow ?? []);
  const seen = new Set<string>();
  const filters: Filter[] = [];
  const signed: [string, string][] = [];
  const request: ListRequest = { mode: "all", query: {}, count: true, signature: "" };
  let page: number | undefined;
  let size: number | undefined;
  let cursor: string | undefined;
  const pageErrors: FieldError[] = [];
  for (const [name, raw] of entriesOf(params)) {
    if (name.startsWith("_") || allow.has(name)) continue;
    const reserved = RESERVED_LIST_PARAMETERS.includes(name);
    if (reserved && seen.has(name)) throw invalidQuery("given more than once", { parameter: name });
    seen.add(name);
    if (SIGNED.has(name) || !reserved) signed.push([name, raw]);
    switch (name) {
      case "page":
        page = parsePageNumber(name, raw, pageErrors);
        break;
      case "size":
        size = parsePageNumber(name, raw, pageErrors);
        break;
      case "limit":
        request.limit = integer(name, raw, 1, maxLimit);
        break;
      case "cursor":
        cursor = raw;
        break;
      case "count":
        if (raw !== "true" && raw !== "false") throw invalidQuery("count takes true or false", { parameter: name, position: 1 });
        request.count = raw === "true";
        break;
      case "sort":
        request.query.sort = parseSort(table, raw);
        break;
      case "fields":
        request.fields = parseFields(table, raw);
        break;
      case "filter":
        if (raw.length > MAX_FILTER_LENGTH) throw invalidQuery(`expression longer than ${MAX_FILTER_LENGTH} characters`, { parameter: name, position: MAX_FILTER_LENGTH + 1 });
        filters.push(parseFilter(raw, { table, parameter: "filter" }));
        break;
      case "include": {
        const names = [...new Set(raw.split(",").map((name) => name.trim()).filter(Boolean))];
        const known = Object.keys(table.relations ?? {});
        const unknown = names.find((name) => !known.includes(name));
        if (unknown !== undefined) {
          throw invalidQuery(`${table.name} has no relation ${unknown}${known.length ? ` (it has ${known.join(", ")})` : ""}`, { parameter: name });
        }
        if (names.length > 0) request.include = names;
        break;
      }
      case "q":
        if (!table.searchable?.length) throw invalidQuery(`${table.name} has no searchable fields`, { parameter: name });
        if (raw.trim()) request.query.search = raw.trim();
        break;
      default:
        filters.push(fieldFilter(table, name, raw));
    }
  }
  if (pageErrors.length > 0) throw new ValidationError(pageErrors);
  signed.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  request.signature = new URLSearchParams(signed).toString();
  if (filters.length > 0) request.query.filter = filters.length === 1 ? filters[0]! : { kind: "and", items: filters };

  const cursorMode = request.limit !== undefined || cursor !== undefined;
  if (cursorMode && (page !== undefined || size !== undefined)) {
    throw invalidQuery("page/size and limit/cursor cannot be combined", { parameter: page !== undefined ? "page" : "size" });
  }
  if (cursorMode) {
    request.mode = "cursor";
    request.limit ??= options.defaultLimit ?? 50;
    if (cursor !== undefined) resume(request, cursor, options);
    request.query.limit = request.limit + 1;
  } else if (page !== undefined && size !== undefined) {
    checkPageWindow(page, size, options.maxSize);
    request.mode = "page";
    request.page = { page, size };
    request.query.limit = size;
    request.query.offset = (page - 1) * size;
  }
  return request;
}

/**
 * Whether a query's rows come best search match first (search words and no
 * sort). Cursors over such results carry an offset instead of a keyset, so a
 * row written between two pages can shift the later pages by one.
 */
export function ranksBySearch(query: ListQuery): boolean {
  return Boolean(query.search) && !query.sort?.length;
}

function resume(request: ListRequest, token: string, options: ListQueryOptions): void {
  const state = decodeCursor(token, options.cursorSecret);
  if (request.signature === "" && state.query !== "") {
    // A bare `?cursor=` continues the query it was issued for.
    const original = parseListQuery(new URLSearchParams(state.query), { ...options, allow: [] });
    request.query.filter = original.query.filter;
    request.query.sort = original.query.sort;
    request.query.search = original.query.search;
    request.signature = original.signature;
    if (original.query.filter === undefined) delete request.query.filter;
    if (original.query.sort === undefined) delete request.query.sort;
    if (original.query.search === undefined) delete request.query.search;
  } else if (state.query !== request.signature) {
    throw invalidQuery("cursor belongs to a different filter, sort or search", { parameter: "cursor", position: 1 });
  }
  if (ranksBySearch(request.query)) {
    // Ranked search results have no keyset: their cursors carry how many rows came before.
    const [offset] = state.values;
    if (state.values.length !== 1 || !Number.isSafeInteger(offset) || (offset as number) < 0) {
      throw invalidQuery("malformed or altered cursor", { parameter: "cursor", position: 1 });
    }
    request.query.offset = offset as number;
    return;
  }
  const keys = request.query.sort ?? [];
  const idAt = keys.findIndex((key) => key.field === "id");
  const width = idAt === -1 ? keys.length : idAt + 1;
  if (state.values.length !== width) throw invalidQuery("malformed or altered cursor", { parameter: "cursor", position: 1 });
  state.values.forEach((value, i) => {
    const ref = resolveField(options.table, keys[i]!.field, { where: { parameter: "cursor", position: 1 } });
    const scalar = value !== null && typeof value === "object" && ref.type === "json-path" ? null : value;
    checkComparison(ref, "eq", scalar as FilterValue, { parameter: "cursor", position: 1 });
  });
  request.query.after = { values: state.values, id: state.id };
}
