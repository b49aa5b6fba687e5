import type { CreateEden } from "elysia";
import type { Problem } from "../../core/errors.ts";

/**
 * One route as Elysia records it in an app's `~Routes` type, which Eden's
 * `treaty` reads: body, path parameters, query and the answers by status.
 */
export interface RouteType<Body, Query, Params, Response> {
  /** The JSON body (`unknown` when the route takes none). */
  body: Body;
  /** Path parameters. */
  params: Params;
  /** Query parameters (`unknown` when the route reads none). */
  query: Query;
  /** Request headers (any). */
  headers: unknown;
  /** Answer bodies keyed by status; non-2xx ones are problems. */
  response: Response;
}

/** The answers every route may give besides its success: an RFC 9457 problem. */
export type ProblemAnswers = { 400: Problem; 404: Problem; 422: Problem };

/** The query parameters of a CRUD list route (field filters such as `stars[gte]=2` are extra keys). */
export interface ListRouteQuery {
  /** 1-based page; with `size`, answers the page envelope. */
  page?: number;
  /** Page size; with `page`, answers the page envelope. */
  size?: number;
  /** Cursor page size; answers `{items, next_cursor, total}`. */
  limit?: number;
  /** `next_cursor` of the previous cursor page. */
  cursor?: string;
  /** e.g. `-created_at,name`. */
  sort?: string;
  /** Comma-separated fields or JSON paths to return. */
  fields?: string;
  /** A filter expression, e.g. `level = 0 && name ~ "weather"`. */
  filter?: string;
  /** Full-text search over the searchable fields. */
  q?: string;
  /** `false` leaves `total` out. */
  count?: boolean;
  /** Field filters: `name=value` or `name[op]=value`. */
  [filter: string]: string | number | boolean | undefined;
}

/** The three shapes a CRUD list answers: a plain array, a page envelope, a cursor page. */
export type ListAnswer<Out> =
  | Out[]
  | { items: Out[]; total?: number; page: number; size: number; pages?: number }
  | { items: Out[]; next_cursor: string | null; total?: number };

/** The routes of one record, under `{prefix}/:entity_id`. */
export type EntityRouteTypes<In, Out> = {
  /** `GET {prefix}/{id}`. */
  get: RouteType<unknown, unknown, { entity_id: string }, { 200: Out } & ProblemAnswers>;
  /** `PUT {prefix}/{id}`: replaces the record's fields. */
  put: RouteType<In, unknown, { entity_id: string }, { 200: Out; 409: Problem; 412: Problem } & ProblemAnswers>;
  /** `PATCH {prefix}/{id}`: JSON Merge Patch. */
  patch: RouteType<Partial<In>, unknown, { entity_id: string }, { 200: Out; 409: Problem; 412: Problem } & ProblemAnswers>;
  /** `DELETE {prefix}/{id}`. */
  delete: RouteType<unknown, unknown, { entity_id: string }, { 204: undefined; 412: Problem } & ProblemAnswers>;
};

/** The collection routes of a CRUD router, relative to its prefix. */
export type CollectionRouteTypes<In, Out> = {
  /** `GET {prefix}`: list with filters, sort, fields, search and paging. */
  get: RouteType<unknown, ListRouteQuery, {}, { 200: ListAnswer<Out> } & ProblemAnswers>;
  /** `POST {prefix}`: create (201), or update when the body's `id` exists (200). */
  post: RouteType<In, unknown, {}, { 200: Out; 201: Out; 409: Problem } & ProblemAnswers>;
  /** `GET {prefix}/$schema`: the output JSON Schema. */
  $schema: { get: RouteType<unknown, unknown, {}, { 200: Record<string, unknown> }> };
  /** `POST {prefix}/$bulk-create`: all or nothing. */
  "$bulk-create": { post: RouteType<In[], unknown, {}, { 201: Out[]; 409: Problem } & ProblemAnswers> };
  /** `PATCH {prefix}/$bulk-update`: merge patches with `id`, all or nothing. */
  "$bulk-update": { patch: RouteType<(Partial<In> & { id: string })[], unknown, {}, { 200: Out[] } & ProblemAnswers> };
  /** `POST {prefix}/$bulk-delete`: by ids or by filter. */
  "$bulk-delete": { post: RouteType<{ ids: string[] } | { filter: string }, unknown, {}, { 200: { deleted: number } } & ProblemAnswers> };
  /** The routes of one record. */
  ":entity_id": EntityRouteTypes<In, Out>;
};

/**
 * The route types of a CRUD router at `Prefix` (e.g. `/api/v1/notes`), as a
 * typed client sees them: `client.api.v1.notes.get({ query })`,
 * `client.api.v1.notes({ entity_id }).put(body)`.
 */
export type CrudRouteTypes<Prefix extends string, In, Out> = CreateEden<Prefix, CollectionRouteTypes<In, Out>>;
