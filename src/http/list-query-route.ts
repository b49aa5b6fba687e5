import { type TObject, type TSchema, Type } from "@sinclair/typebox";
import { type EntityRecord, queryableColumn, type TableDefinition } from "../core/entity.ts";
import { type ListQueryOptions, parseListQuery } from "../core/query/list-query.ts";
import { type ListSource, runListRequest, streamListRequest } from "../core/query/list-result.ts";
import type { ResponseSet } from "./crud/operation.ts";
import { withEtag } from "./etag.ts";
import { cursorSecretOf } from "./cursor-secret.ts";

/** List-query settings of a CRUD router; the table defaults to the SQL repository's. */
export type ListRouteOptions = Omit<ListQueryOptions, "table"> & { table?: TableDefinition };

/** The list endpoint's query handling, built by {@link listRoute}. */
export interface ListRoute {
  /** Answers `GET {prefix}` for a request (parses its URL's query); `decorate` sees the body before its ETag is taken. */
  answer(request: Request, set: ResponseSet, decorate?: (body: unknown) => unknown): Promise<unknown>;
  /** The items the request's query selects (filters, sort, fields, search), streamed; `omit` names parameters that are not list parameters. */
  stream(request: Request, omit?: readonly string[]): AsyncIterable<unknown>;
  /** OpenAPI description of the query parameters. */
  query: TObject;
  /** OpenAPI description of the three answer shapes. */
  response(output: TSchema): TSchema;
}

/** The media type of a list answered one JSON object a line. */
export const NDJSON_TYPE = "application/x-ndjson";

/** Whether the request's `Accept` names NDJSON (`application/x-ndjson` or `application/ndjson`) before JSON. */
export function wantsNdjson(request: Request): boolean {
  const accept = request.headers.get("accept");
  if (!accept || !accept.includes("ndjson")) return false;
  return accept.split(",").some((range) => {
    const [type = "", ...params] = range.split(";").map((part) => part.trim().toLowerCase());
    return (type === NDJSON_TYPE || type === "application/ndjson") && !params.includes("q=0");
  });
}

/**
 * A streamed answer of one JSON value a line, read from `items` as the
 * client consumes it (back-pressure: nothing is read ahead of the socket).
 * The first item is read before the answer starts, so a store that fails at
 * once answers a problem; a failure later ends the stream early (the client
 * sees a truncated body, since the status is already sent).
 */
export async function ndjsonResponse(items: AsyncIterable<unknown>): Promise<Response> {
  const iterator = items[Symbol.asyncIterator]();
  const encoder = new TextEncoder();
  // The first row is read before answering: a store that fails at once answers a problem, not a cut 200.
  let first: IteratorResult<unknown> | undefined = await iterator.next();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        let chunk = "";
        // A few lines per chunk: one enqueue per row would cost more than the row.
        for (let i = 0; i < 64; i++) {
          const next = first ?? await iterator.next();
          first = undefined;
          if (next.done) {
            if (chunk) controller.enqueue(encoder.encode(chunk));
            controller.close();
            return;
          }
          chunk += `${JSON.stringify(next.value)}\n`;
        }
        controller.enqueue(encoder.encode(chunk));
      } catch (error) {
        controller.error(error);
      }
    },
    async cancel() {
      await iterator.return?.();
    },
  }, { highWaterMark: 1 });
  return new Response(body, { headers: { "content-type": NDJSON_TYPE } });
}

/** The query parameters of a URL, read from its query string alone (no whole-URL parse). */
function searchParamsOf(url: string): URLSearchParams {
  const mark = url.indexOf("?");
  if (mark < 0) return new URLSearchParams();
  const hash = url.indexOf("#", mark);
  return new URLSearchParams(hash < 0 ? url.slice(mark + 1) : url.slice(mark + 1, hash));
}

const OPERATORS = "eq ne gt gte lt lte in nin contains icontains startswith endswith isnull";

/**
 * Builds the list handling of a CRUD router: filters, sort, field selection,
 * full-text search, page or cursor paging and a strong ETag (304 on
 * `If-None-Match`). Returns undefined when the repository has no table
 * definition (a non-SQL store) and none is given.
 */
export function listRoute<R extends EntityRecord, T>(
  source: ListSource<R, T>,
  options: ListRouteOptions = {},
): ListRoute | undefined {
  const table = options.table ?? (source.repository as { table?: TableDefinition }).table;
  if (!table) return undefined;
  const settings: ListQueryOptions = { ...options, table };
  const fields = ["id", "created_at", "updated_at", ...Object.keys(table.columns).filter((name) => queryableColumn(table, name))];
  const filters: Record<string, TSchema> = {};
  for (const field of fields) {
    filters[field] = Type.Optional(Type.String({
      description: `Filter on ${field}: \`${field}=value\` or \`${field}[op]=value\` with op one of ${OPERATORS}` +
        (table.columns[field]?.type === "json" ? `; paths reach inside: \`${field}.key[op]=value\`` : ""),
    }));
  }
  const query = Type.Object({
    page: Type.Optional(Type.Integer({ minimum: 1, description: "1-based page; with `size`, answers the page envelope" })),
    size: Type.Optional(Type.Integer({ minimum: 1, description: "Page size; with `page`, answers the page envelope" })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: options.maxLimit ?? 1000, description: `Cursor page size (default ${options.defaultLimit ?? 50}); answers {items, next_cursor, total}` })),
    cursor: Type.Optional(Type.String({ description: "`next_cursor` of the previous cursor page" })),
    sort: Type.Optional(Type.String({ description: "e.g. `created_at:desc,name` or `-created_at,name`; ties broken by id" })),
    fields: Type.Optional(Type.String({ description: "Comma-separated fields or JSON paths to return, e.g. `id,name,data.min_samples`" })),
    filter: Type.Optional(Type.String({ description: 'Expression, e.g. `(level = 0 && data.ml_type = "trained_model") || name ~ "weather"`' })),
    ...(table.searchable?.length ? { q: Type.Optional(Type.String({ description: `Full-text search over ${table.searchable.join(", ")}` })) } : {}),
    count: Type.Optional(Type.Boolean({ description: "false leaves `total` out (no count query)" })),
    ...(table.relations ? { include: Type.Optional(Type.String({ description: `Relations to load with each item, comma-separated: ${Object.keys(table.relations).join(", ")}` })) } : {}),
    ...filters,
  });
  return {
    query,
    async answer(request: Request, set: ResponseSet, decorate?: (body: unknown) => unknown): Promise<unknown> {
      const cursorSecret = options.cursorSecret ?? cursorSecretOf(request);
      const parsed = parseListQuery(searchParamsOf(request.url), cursorSecret === undefined ? settings : { ...settings, cursorSecret });
      if (wantsNdjson(request)) return ndjsonResponse(streamListRequest(source, parsed));
      const body = await runListRequest(source, parsed, cursorSecret === undefined ? {} : { cursorSecret });
      return withEtag(request, set, decorate ? decorate(body) : body);
    },
    stream(request: Request, omit: readonly string[] = []): AsyncIterable<unknown> {
      const params = new URL(request.url).searchParams;
      for (const name of omit) params.delete(name);
      return streamListRequest(source, parseListQuery(params, settings));
    },
    response(output: TSchema): TSchema {
      const items = Type.Array(output);
      return Type.Union([
        items,
        Type.Object({ items, total: Type.Optional(Type.Integer()), page: Type.Integer(), size: Type.Integer(), pages: Type.Optional(Type.Integer()) }, { title: "PaginatedResponse" }),
        Type.Object({ items, next_cursor: Type.Union([Type.String(), Type.Null()]), total: Type.Optional(Type.Integer()) }, { title: "CursorPage" }),
      ]);
    },
  };
}
