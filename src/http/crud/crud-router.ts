import { type TObject, type TSchema, Type } from "@sinclair/typebox";
import { type AnyElysia, Elysia } from "elysia";
import type { EntityRecord, TableDefinition } from "../../core/entity.ts";
import type { ListSource } from "../../core/query/list-result.ts";
import { NotFoundError } from "../../core/errors.ts";
import type { Manager } from "../../core/manager.ts";
import { parseUlid } from "../../core/ulid.ts";
import { addRoute } from "../_route.ts";
import { bulkOperations } from "../bulk-routes.ts";
import { exchangeRoutes } from "../exchange/routes.ts";
import { ifMatchCondition, rowEtag, withEtag } from "../etag.ts";
import { listRoute, type ListRouteOptions } from "../list-query-route.ts";
import { patchEntity } from "../merge-patch-route.ts";
import { formatLinks, itemLinkHeader, itemLinks, type LinkOptions, listLinks } from "../links.ts";
import { type RouteDoc, routeDetail } from "../route-doc.ts";
import { type RoutePermission, withPermission } from "../auth-guard-permissions.ts";
import { paginationQuery, type ListQueryParser } from "./list-query.ts";
import { mountOperation, type Operation, requireBody, type ResponseSet } from "./operation.ts";
import { outputSchemaDocument } from "./output-schema.ts";

/** Which generic CRUD routes exist (all default true). `$` operations ignore these. */
export interface CrudPermissions {
  /** `POST {prefix}`. */
  create?: boolean;
  /** `GET {prefix}`, `GET {prefix}/$schema`, `GET {prefix}/{entity_id}`. */
  read?: boolean;
  /** `PUT {prefix}/{entity_id}`. */
  update?: boolean;
  /** `DELETE {prefix}/{entity_id}`. */
  delete?: boolean;
}

/** How a CRUD router is made. */
export interface CrudRouterOptions<R extends EntityRecord, I extends TObject, O extends TObject> {
  /** Path prefix without a trailing slash, e.g. `/api/v1/config`. */
  prefix: string;
  /** The entity's manager (schemas, validation, storage). */
  manager: Manager<R, I, O>;
  /** OpenAPI tags (default: the last prefix segment). */
  tags?: string[];
  /** Noun used in summaries (default: the first tag). */
  entityName?: string;
  /** Which generic routes exist. */
  permissions?: CrudPermissions;
  /** Output properties whose schema `$schema` places under `$defs` (e.g. `{ data: DiseaseConfig }`). */
  nestedSchemas?: Record<string, TSchema>;
  /** Operations on the collection: `{prefix}/$name`. */
  collectionOperations?: Operation[];
  /** Operations on one entity: `{prefix}/{entity_id}/$name`. */
  entityOperations?: Operation[];
  /** Parses list query parameters (default: opt-in pagination). */
  listQuery?: ListQueryParser;
  /**
   * List queries (filters, sort, fields, search, cursors; `false` turns them
   * off). On by default when the repository knows its table; `listQuery` then
   * only applies when this is `false`.
   */
  list?: ListRouteOptions | false;
  /** `$bulk-create`, `$bulk-update` and `$bulk-delete` (default true; each follows its permission). */
  bulk?: boolean;
  /**
   * What the auth guard requires of reads (GET) and writes (everything else)
   * when auth is on; unset keeps the convention (`<resource>:read` / `:write`).
   */
  access?: { read?: RoutePermission; write?: RoutePermission };
  /** What `GET {prefix}/$schema` answers (default: the output schema with `nestedSchemas` under `$defs`). */
  schemaDocument?: unknown;
  /** Maps rows to list items for the list-query endpoint (default: the manager's output), e.g. summaries without heavy keys. */
  listSource?: ListSource<R, unknown>;
  /** Adds `GET {prefix}/$stats` answering `{"total": N}` (chapkit 1.x). */
  stats?: boolean;
  /**
   * RFC 8288 `Link` headers on list and item answers (default on), their
   * related collections, and the opt-in `_links` body member; `false` turns them off.
   */
  links?: LinkOptions | false;
  /** `GET {prefix}/$export` and `POST {prefix}/$import` (CSV, NDJSON, XLSX; default true where list queries are on). */
  exchange?: boolean;
}

function locate(error: unknown, instance: string): unknown {
  if (error instanceof NotFoundError && error.instance === undefined) {
    return new NotFoundError(error.message, { instance });
  }
  return error;
}

function location(request: Request, id: string): string {
  const url = new URL(request.url);
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}/${id}`;
}

/**
 * The generic CRUD routes of an entity (contract §6): create (upsert by id),
 * list (opt-in pagination), `$schema`, get, update and delete by id, plus the
 * entity's own `$` operations. Ids are checked as ULIDs (400 `invalid-ulid`,
 * instance `{prefix}/{raw id}`) after body validation (422).
 *
 * @example
 * ```ts ignore
 * const app = new Elysia().use(crudRouter({ prefix: "/api/v1/notes", manager: notes }));
 * ```
 */
export function crudRouter<R extends EntityRecord, I extends TObject, O extends TObject>(
  options: CrudRouterOptions<R, I, O>,
): AnyElysia {
  const { prefix, manager } = options;
  const tags = options.tags ?? [prefix.split("/").filter(Boolean).pop() ?? "entities"];
  const noun = options.entityName ?? tags[0] ?? "entity";
  const allow = { create: true, read: true, update: true, delete: true, ...options.permissions };
  const parseList = options.listQuery ?? paginationQuery;
  const app: AnyElysia = new Elysia();
  const { read, write } = options.access ?? {};
  const reading = (doc: RouteDoc) => read ? withPermission(routeDetail(doc), read) : routeDetail(doc);
  const writing = (doc: RouteDoc) => write ? withPermission(routeDetail(doc), write) : routeDetail(doc);
  const listed: ListSource<R, unknown> = options.listSource ?? manager;
  const listing = options.list === false ? undefined : listRoute(listed, options.list ?? {});
  const links = options.links === false ? undefined : options.links ?? {};
  // A list body gets `_links` only where it is an object (page envelopes), never a bare array.
  const linkList = (request: Request, set: ResponseSet) => (body: unknown): unknown => {
    if (!links) return body;
    const found = listLinks(request, body);
    set.headers.link = formatLinks(found);
    return links.body && body !== null && typeof body === "object" && !Array.isArray(body) ? { ...body, _links: found } : body;
  };
  // Most entities link only `self` and `collection`: that header is built straight from the URL.
  const plainItemLinks = links !== undefined && !links.body && (links.related === undefined || Object.keys(links.related).length === 0);
  const linkItem = (request: Request, set: ResponseSet, item: Record<string, unknown>): Record<string, unknown> => {
    if (!links) return item;
    if (plainItemLinks) {
      set.headers.link = itemLinkHeader(request);
      return item;
    }
    const path = new URL(request.url).pathname;
    const found = itemLinks(request, item, links, path.slice(0, path.lastIndexOf(prefix)));
    set.headers.link = formatLinks(found);
    return links.body ? { ...item, _links: found } : item;
  };

  const table = options.list === false ? undefined : options.list?.table ?? (manager.repository as { table?: TableDefinition }).table;
  const bulk = options.bulk === false ? [] : bulkOperations(manager, table).filter((op) =>
    op.name === "$bulk-create" ? allow.create : op.name === "$bulk-update" ? allow.update : allow.delete)
    .map((op) => write ? { ...op, permission: write } : op);
  for (const op of [...bulk, ...options.collectionOperations ?? []]) mountOperation(app, prefix, op, { entity: false, tags });
  if (listing && options.exchange !== false) {
    exchangeRoutes(app, { prefix, manager, listing, read: allow.read, create: allow.create, reading, writing, tags });
  }

  if (allow.create) {
    addRoute(app, "POST", prefix, async ({ body, request, set }: { body: unknown; request: Request; set: ResponseSet }) => {
      const { output, created } = await manager.save(requireBody(body));
      if (created) {
        set.status = 201;
        set.headers.location = location(request, (output as { id: string }).id);
      }
      return output;
    }, {
      detail: writing({
        summary: `Create ${noun}`,
        description: "Creates an entity; a body whose `id` exists updates it instead (200).",
        tags,
        body: manager.input,
        response: manager.output,
        status: 201,
      }),
    });
  }

  if (allow.read) {
    const envelope = Type.Object({
      items: Type.Array(manager.output),
      total: Type.Integer(),
      page: Type.Integer(),
      size: Type.Integer(),
      pages: Type.Integer(),
    }, { title: "PaginatedResponse" });
    // With a list route the handler reads the query string itself: Elysia then parses no query object.
    const listHandler = listing
      ? ({ request, set }: { request: Request; set: ResponseSet }) => listing.answer(request, set, linkList(request, set))
      : async ({ query, request, set }: { query: Record<string, unknown>; request: Request; set: ResponseSet }) => {
        const parsed = parseList(query);
        const body = parsed.page
          ? await manager.page(parsed.page.page, parsed.page.size, parsed.query)
          : await manager.list(parsed.query);
        return linkList(request, set)(body);
      };
    addRoute(app, "GET", prefix, listHandler, {
      detail: reading({
        summary: `List ${noun}`,
        description: "All entities, or one page in an envelope when both `page` and `size` are given.",
        tags,
        query: listing?.query ?? Type.Object({
          page: Type.Optional(Type.Integer({ minimum: 1 })),
          size: Type.Optional(Type.Integer({ minimum: 1 })),
        }),
        response: listing?.response(manager.output) ?? Type.Union([Type.Array(manager.output), envelope]),
      }),
    });
    const schemaDocument = options.schemaDocument ?? outputSchemaDocument(manager.output, options.nestedSchemas);
    if (options.stats) {
      addRoute(app, "GET", `${prefix}/$stats`, async () => ({ total: await manager.repository.count() }), {
        detail: routeDetail({
          summary: `Count ${noun}`,
          tags,
          response: Type.Object({ total: Type.Integer({ minimum: 0 }) }, { title: "CollectionStats" }),
        }),
      });
    }
    addRoute(app, "GET", `${prefix}/$schema`, () => schemaDocument, {
      detail: reading({
        summary: `Get ${noun} schema`,
        tags,
        response: Type.Object({}, { additionalProperties: true }),
      }),
    });
    addRoute(app, "GET", `${prefix}/:entity_id`, async ({ params, request, set }: { params: { entity_id: string }; request: Request; set: ResponseSet }) => {
      const instance = `${prefix}/${params.entity_id}`;
      const id = parseUlid(params.entity_id, instance);
      try {
        const record = await manager.require(id);
        const output = await manager.toOutput(record) as Record<string, unknown>;
        const updatedAt = typeof output.updated_at === "string" ? output.updated_at : undefined;
        return withEtag(request, set, linkItem(request, set, output), updatedAt, rowEtag(record, manager.output));
      } catch (error) {
        throw locate(error, instance);
      }
    }, { detail: reading({ summary: `Get ${noun} by id`, tags, response: manager.output }) });
  }

  if (allow.update) {
    addRoute(app, "PUT", `${prefix}/:entity_id`, async ({ params, body, request }: { params: { entity_id: string }; body: unknown; request: Request }) => {
      const instance = `${prefix}/${params.entity_id}`;
      manager.parse(requireBody(body));
      const id = parseUlid(params.entity_id, instance);
      try {
        const condition = await ifMatchCondition(request, manager, id, instance);
        return await manager.update(id, body, condition ? { condition } : {});
      } catch (error) {
        throw locate(error, instance);
      }
    }, {
      detail: writing({ summary: `Update ${noun}`, tags, body: manager.input, response: manager.output }),
    });
  }

  if (allow.update) {
    addRoute(app, "PATCH", `${prefix}/:entity_id`, async ({ params, body, request }: { params: { entity_id: string }; body: unknown; request: Request }) => {
      const instance = `${prefix}/${params.entity_id}`;
      const id = parseUlid(params.entity_id, instance);
      try {
        const condition = await ifMatchCondition(request, manager, id, instance);
        return await patchEntity(manager, id, requireBody(body), condition);
      } catch (error) {
        throw locate(error, instance);
      }
    }, {
      detail: writing({
        summary: `Patch ${noun}`,
        description: "JSON Merge Patch (RFC 7396): nested objects merge, `null` removes a key (clears a top-level field).",
        tags,
        body: Type.Object({}, { additionalProperties: true }),
        response: manager.output,
      }),
    });
  }

  if (allow.delete) {
    addRoute(app, "DELETE", `${prefix}/:entity_id`, async ({ params, request }: { params: { entity_id: string }; request: Request }) => {
      const instance = `${prefix}/${params.entity_id}`;
      const id = parseUlid(params.entity_id, instance);
      try {
        const condition = await ifMatchCondition(request, manager, id, instance);
        await manager.delete(id, condition ? { condition } : {});
      } catch (error) {
        throw locate(error, instance);
      }
      return new Response(null, { status: 204 });
    }, { detail: writing({ summary: `Delete ${noun}`, tags, status: 204 }) });
  }

  for (const op of options.entityOperations ?? []) mountOperation(app, prefix, op, { entity: true, tags });
  return app;
}
