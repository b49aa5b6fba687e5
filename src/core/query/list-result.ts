import { encodeCursor } from "./cursor.ts";
import type { EntityRecord } from "../entity.ts";
import { type ListRequest, ranksBySearch } from "./list-query.ts";
import type { Page } from "../manager.ts";
import type { Repository } from "../repository.ts";

/** A cursor page: `total` is absent when the request said `count=false`. */
export interface CursorPage<T> {
  /** The items of this page. */
  items: T[];
  /** The cursor of the next page; `null` on the last page. */
  next_cursor: string | null;
  /** The number of matching items, when counted. */
  total?: number;
}

/** A `page`/`size` page; `total` and `pages` are absent with `count=false`. */
export type PageEnvelope<T> = Omit<Page<T>, "total" | "pages"> & { total?: number; pages?: number };

/** The answer of a list request, in the shape its mode asks for. */
export type ListResult<T> = T[] | PageEnvelope<T> | CursorPage<T>;

/** Where list rows come from and how they become output (a `Manager` fits). */
export interface ListSource<R extends EntityRecord, T> {
  /** The entity's repository. */
  readonly repository: Repository<R>;
  /** Maps a stored row to output. */
  toOutput(record: R): Promise<T>;
}

function valueAt(source: unknown, path: readonly string[]): unknown {
  let current = source;
  for (const segment of path) {
    if (current === null || typeof current !== "object" || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/**
 * Keeps only the selected fields of an output object. A dotted path keeps
 * its nesting (`data.min_samples` → `{ data: { min_samples: 5 } }`); absent
 * values are left out.
 */
export function selectFields(item: unknown, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const path = field.split(".");
    const value = valueAt(item, path);
    if (value === undefined) continue;
    let target = out;
    for (const segment of path.slice(0, -1)) {
      const next = target[segment];
      if (next === null || typeof next !== "object" || Array.isArray(next)) target[segment] = {};
      target = target[segment] as Record<string, unknown>;
    }
    target[path[path.length - 1]!] = value;
  }
  return out;
}

function sortValues(record: EntityRecord, request: ListRequest): unknown[] {
  const values: unknown[] = [];
  for (const key of request.query.sort ?? []) {
    const value = valueAt(record, key.field.split("."));
    // Objects and arrays only need their type to sort; keep the cursor small.
    values.push(value === undefined ? null : Array.isArray(value) ? [] : typeof value === "object" && value !== null ? {} : value);
    if (key.field === "id") break;
  }
  return values;
}

/**
 * Runs a parsed list request: one query for the rows (plus one COUNT unless
 * `count=false`), mapped to output, fields selected, in the mode's shape.
 * Cursor pages read one row more than asked to know whether a next page exists.
 */
export async function runListRequest<R extends EntityRecord, T>(
  source: ListSource<R, T>,
  request: ListRequest,
  options: { cursorSecret?: string } = {},
): Promise<ListResult<T | Record<string, unknown>>> {
  const { repository } = source;
  const counted = { filter: request.query.filter, search: request.query.search };
  const [rows, total] = await Promise.all([
    repository.findMany(request.query),
    request.count && request.mode !== "all" ? repository.count(counted) : Promise.resolve(undefined),
  ]);
  let page = rows;
  let next: string | null = null;
  if (request.mode === "cursor" && rows.length > request.limit!) {
    page = rows.slice(0, request.limit);
    const last = page[page.length - 1]!;
    const values = ranksBySearch(request.query) ? [(request.query.offset ?? 0) + page.length] : sortValues(last, request);
    next = encodeCursor({ query: request.signature, values, id: last.id }, options.cursorSecret);
  }
  if (request.include && repository.include) await repository.include(page, request.include);
  const outputs = await Promise.all(page.map((row) => source.toOutput(row)));
  const selected = request.fields ? outputs.map((item) => selectFields(item, request.fields!)) : outputs;
  const items = request.include ? selected.map((item, i) => withIncluded(item, page[i]!, request.include!)) : selected;
  if (request.mode === "cursor") {
    return total === undefined ? { items, next_cursor: next } : { items, next_cursor: next, total };
  }
  if (request.mode === "page") {
    const { page: number, size } = request.page!;
    if (total === undefined) return { items, page: number, size };
    return { items, total, page: number, size, pages: total === 0 ? 0 : Math.ceil(total / size) };
  }
  return items;
}

/**
 * The items of a parsed list request one by one, mapped to output with its
 * fields selected, for an NDJSON answer: every matching row (or the page or
 * cursor page the request names, without its envelope), read through
 * `repository.stream` when the repository has it, so no more than one batch
 * of rows is held at a time.
 */
export async function* streamListRequest<R extends EntityRecord, T>(
  source: ListSource<R, T>,
  request: ListRequest,
): AsyncIterable<T | Record<string, unknown>> {
  const { repository } = source;
  // A cursor page reads one row more than asked to find the next cursor; a stream does not need it.
  const query = request.mode === "cursor" ? { ...request.query, limit: request.limit } : request.query;
  const rows: AsyncIterable<R> | Iterable<R> = repository.stream ? repository.stream(query) : await repository.findMany(query);
  const include = request.include && repository.include ? request.include : undefined;
  const emit = async (row: R): Promise<T | Record<string, unknown>> => {
    const output = await source.toOutput(row);
    const selected = request.fields ? selectFields(output, request.fields) : output;
    return include ? withIncluded(selected, row, include) : selected;
  };
  if (!include) {
    for await (const row of rows) yield await emit(row);
    return;
  }
  // Relations are loaded per batch of rows: one statement per relation and batch.
  let batch: R[] = [];
  for await (const row of rows) {
    batch.push(row);
    if (batch.length < INCLUDE_BATCH) continue;
    await repository.include!(batch, include);
    for (const one of batch) yield await emit(one);
    batch = [];
  }
  if (batch.length > 0) {
    await repository.include!(batch, include);
    for (const one of batch) yield await emit(one);
  }
}

const INCLUDE_BATCH = 1000;

/** The output item with the record's loaded relations under their names (kept whatever `fields` selected). */
function withIncluded<T>(item: T, record: EntityRecord, names: readonly string[]): T | Record<string, unknown> {
  const out = { ...(item as Record<string, unknown>) };
  for (const name of names) out[name] = (record as unknown as Record<string, unknown>)[name];
  return out;
}
