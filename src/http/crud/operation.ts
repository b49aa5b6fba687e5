import type { TObject, TSchema } from "@sinclair/typebox";
import type { AnyElysia } from "elysia";
import { type FieldError, ValidationError } from "../../core/errors.ts";
import { parseUlid } from "../../core/ulid.ts";
import { validateValue } from "../../core/validation.ts";
import { addRoute } from "../_route.ts";
import { type RoutePermission, withPermission } from "../auth-guard-permissions.ts";
import { routeDetail } from "../route-doc.ts";

/** HTTP methods an operation may use. */
export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** The response status and headers an operation may change. */
export interface ResponseSet {
  /** The response status. */
  status?: number | string;
  /** The response headers. */
  headers: Record<string, string | number>;
}

/** What an operation's handler receives. */
export interface OperationContext {
  /** The entity id, validated as a ULID (entity operations; `""` for collection operations). */
  readonly id: string;
  /** The request body, validated when the operation declares a `body` schema. */
  readonly body: unknown;
  /** Query parameters, validated when the operation declares a `query` schema. */
  readonly query: Record<string, unknown>;
  /** The raw request (read it for non-JSON bodies; such operations declare no `body`). */
  readonly request: Request;
  /** Response status and headers. */
  readonly set: ResponseSet;
  /** `{prefix}/{raw id}` (entity operations) or the collection prefix: the problem `instance`. */
  readonly instance: string;
}

/**
 * A `$name` operation on a collection (`{prefix}/$name`) or on one entity
 * (`{prefix}/{entity_id}/$name`).
 */
export interface Operation {
  /** Name with or without the leading `$`, e.g. `$tree`. */
  name: string;
  /** HTTP method. */
  method: HttpMethod;
  /** OpenAPI summary. */
  summary: string;
  /** OpenAPI description. */
  description?: string;
  /** JSON body schema; validated before the id (422 `validation-failed`). */
  body?: TSchema;
  /** Convert body values to the schema's types before checking, e.g. `1` → `"1"` (default true). */
  coerceBody?: boolean;
  /** Checks across fields the schema cannot say (one of two fields required); reported with the schema's failures. */
  checkBody?: (body: Record<string, unknown>) => FieldError[];
  /** Query schema; validated (with coercion) before the handler. */
  query?: TObject;
  /** Documented success body. */
  response?: TSchema;
  /** Success status (default 200; 204 sends no body). */
  status?: number;
  /** Entity operations only: check the id is a ULID first (default true). */
  validateId?: boolean;
  /** What the auth guard requires when auth is on (default: the route convention). */
  permission?: RoutePermission;
  /** Runs the operation; returns a JSON value or a `Response`. */
  handler(context: OperationContext): unknown;
}

/** The `$`-prefixed path segment of an operation. */
export function operationSegment(name: string): string {
  return name.startsWith("$") ? name : `$${name}`;
}

/** Throws 422 `missing` when a required body is absent. */
export function requireBody(body: unknown): unknown {
  if (body === undefined || body === null) {
    throw new ValidationError([{ loc: ["body"], msg: "Field required", type: "missing" }]);
  }
  return body;
}

function finish(result: unknown, status: number, set: ResponseSet): unknown {
  if (status === 204 && !(result instanceof Response)) return new Response(null, { status: 204 });
  if (status !== 200) set.status = status;
  return result;
}

interface RawContext {
  params: Record<string, string>;
  query: Record<string, unknown>;
  body?: unknown;
  request: Request;
  set: ResponseSet;
}

// The schema's failures and the operation's own checks are reported together.
function validateBody(op: Operation, raw: unknown, coerce: boolean): unknown {
  const extra = (value: unknown): FieldError[] =>
    op.checkBody && typeof value === "object" && value !== null ? op.checkBody(value as Record<string, unknown>) : [];
  let body: unknown;
  try {
    body = validateValue(op.body!, requireBody(raw), { loc: ["body"], coerce });
  } catch (error) {
    if (error instanceof ValidationError) {
      const more = extra(raw);
      if (more.length > 0) throw new ValidationError([...more, ...error.errors]);
    }
    throw error;
  }
  const more = extra(body);
  if (more.length > 0) throw new ValidationError(more);
  return body;
}

function runner(op: Operation, prefix: string, entity: boolean) {
  const status = op.status ?? 200;
  const checkId = entity && op.validateId !== false;
  return async (raw: RawContext): Promise<unknown> => {
    const coerce = op.coerceBody !== false;
    const body = op.body ? validateBody(op, raw.body, coerce) : undefined;
    const query = op.query ? validateValue<Record<string, unknown>>(op.query, raw.query, { loc: ["query"] }) : raw.query;
    const rawId = entity ? raw.params.entity_id ?? "" : "";
    const instance = entity ? `${prefix}/${rawId}` : prefix;
    const id = checkId ? parseUlid(rawId, instance) : rawId;
    const result = await op.handler({ id, body, query, request: raw.request, set: raw.set, instance });
    return finish(result, status, raw.set);
  };
}

/**
 * Registers an operation on `app`: entity operations at
 * `{prefix}/:entity_id/$name`, collection operations at `{prefix}/$name`.
 * Operations without a `body` schema leave the body unread, so they may
 * read `request` themselves (e.g. raw uploads).
 */
export function mountOperation(
  app: AnyElysia,
  prefix: string,
  op: Operation,
  options: { entity: boolean; tags: string[] },
): void {
  const path = options.entity
    ? `${prefix}/:entity_id/${operationSegment(op.name)}`
    : `${prefix}/${operationSegment(op.name)}`;
  let detail = routeDetail({
    summary: op.summary,
    tags: options.tags,
    ...(op.description ? { description: op.description } : {}),
    ...(op.body ? { body: op.body } : {}),
    ...(op.query ? { query: op.query } : {}),
    ...(op.response ? { response: op.response } : {}),
    ...(op.status ? { status: op.status } : {}),
  });
  const run = runner(op, prefix, options.entity);
  if (op.permission) detail = withPermission(detail, op.permission);
  // Two shapes so the framework parses a body only for operations that declare one.
  const handler = op.body
    ? ({ params, query, body, request, set }: RawContext) => run({ params, query, body, request, set })
    : ({ params, query, request, set }: RawContext) => run({ params, query, request, set });
  addRoute(app, op.method, path, handler, { detail });
}
