import { type TSchema, Type } from "@sinclair/typebox";
import { type AnyElysia, Elysia } from "elysia";
import { BadRequestError } from "../../core/errors.ts";
import { validateValue } from "../../core/validation.ts";
import { addRoute } from "../../http/_route.ts";
import { principalOf } from "../../http/auth-guard.ts";
import { withPermission } from "../../http/auth-guard-permissions.ts";
import { routeDetail } from "../../http/route-doc.ts";
import type { ModelRegistry } from "./registry.ts";
import {
  AliasMoveSchema,
  AliasRollbackSchema,
  type ModelVersionInput,
  ModelVersionInSchema,
  type ModelVersionStatus,
  StatusChangeSchema,
} from "./schema.ts";

/** Permission of the registry's read routes under auth. */
export const MODELS_READ = "models:read";
/** Permission of the registry's write routes (register, status, aliases, routes) under auth. */
export const MODELS_WRITE = "models:write";

/** Options of {@link modelRegistryRoutes}. */
export interface ModelRoutesOptions {
  /** Path prefix (default `/api/v1/models`). */
  prefix?: string;
  /** OpenAPI tags (default `["models"]`). */
  tags?: string[];
}

type Params = Record<string, string>;
interface Ctx {
  params: Params;
  query: Record<string, string | undefined>;
  body: unknown;
  request: Request;
  set: { status?: number | string };
}

const AnyObject = Type.Object({}, { additionalProperties: true });

/** Who made a change: the authenticated principal's name, else `system`. */
export function actorOf(request: Request): string {
  return principalOf(request)?.name ?? "system";
}

function bodyOf<T>(schema: TSchema, body: unknown, optional = false): T {
  return validateValue<T>(schema, optional && (body === undefined || body === null || body === "") ? {} : body);
}

/**
 * The registry routes: `GET {prefix}` (models), `GET {prefix}/{name}`,
 * `GET|POST {prefix}/{name}/versions`, `GET {prefix}/{name}/versions/{version}`,
 * `POST …/versions/{version}/$deprecate|$archive|$activate`,
 * `GET {prefix}/{name}/$compare?versions=a,b`, `GET {prefix}/{name}/aliases`,
 * `PUT|DELETE {prefix}/{name}/aliases/{alias}`, `POST …/aliases/{alias}/$rollback`
 * and `GET {prefix}/{name}/aliases/$history`.
 */
export function modelRegistryRoutes(registry: ModelRegistry, options: ModelRoutesOptions = {}): AnyElysia {
  const prefix = options.prefix ?? "/api/v1/models";
  const tags = options.tags ?? ["models"];
  const app = new Elysia({ name: `chapkit:models:${prefix}` });
  const read = (path: string, summary: string, handler: (ctx: Ctx) => unknown, description?: string): void =>
    addRoute(app, "GET", `${prefix}${path}`, handler as never, {
      detail: withPermission(routeDetail({ summary, tags, response: AnyObject, ...(description ? { description } : {}) }), MODELS_READ),
    });
  const write = (
    method: string,
    path: string,
    summary: string,
    handler: (ctx: Ctx) => unknown,
    body?: TSchema,
    status = 200,
  ): void =>
    addRoute(app, method, `${prefix}${path}`, handler as never, {
      detail: withPermission(routeDetail({ summary, tags, status, response: AnyObject, ...(body ? { body } : {}) }), MODELS_WRITE),
    });

  read("", "List models", () => registry.models());
  read("/:name", "A model: latest version, version count, aliases", ({ params }) => registry.model(params.name!));
  read("/:name/versions", "List a model's versions, highest first", ({ params, query }) => {
    const status = query.status;
    if (status !== undefined && !["active", "deprecated", "archived"].includes(status)) {
      throw new BadRequestError("status must be active, deprecated or archived");
    }
    return registry.versions(params.name!, status ? { status: status as ModelVersionStatus } : {});
  });
  write("POST", "/:name/versions", "Register a version", async ({ params, body, set }) => {
    const input = bodyOf<ModelVersionInput>(ModelVersionInSchema, body, true);
    const version = await registry.register(params.name!, input);
    set.status = 201;
    return version;
  }, ModelVersionInSchema, 201);
  read("/:name/versions/:version", "A version", ({ params }) => registry.version(params.name!, params.version!));
  const statuses: [string, ModelVersionStatus][] = [["$deprecate", "deprecated"], ["$archive", "archived"], ["$activate", "active"]];
  for (const [operation, status] of statuses) {
    write("POST", `/:name/versions/:version/${operation}`, `Mark a version ${status}`, ({ params, body }) => {
      bodyOf(StatusChangeSchema, body, true);
      return registry.setStatus(params.name!, params.version!, status);
    }, StatusChangeSchema);
  }
  read("/:name/$compare", "Compare versions: metrics side by side, params diff", ({ params, query }) => {
    const versions = (query.versions ?? "").split(",").map((v) => v.trim()).filter((v) => v !== "");
    return registry.compare(params.name!, versions);
  }, "`versions`: two or more versions, comma-separated.");
  read("/:name/aliases", "A model's aliases (alias → version)", async ({ params }) => {
    await registry.model(params.name!);
    return registry.aliases(params.name!);
  });
  read("/:name/aliases/$history", "The alias audit trail, newest first", async ({ params, query }) => {
    await registry.model(params.name!);
    return registry.aliasHistory(params.name!, query.alias);
  });
  write("PUT", "/:name/aliases/:alias", "Point an alias at a version (atomic, audited)", ({ params, body, request }) => {
    const move = bodyOf<{ version: string; reason?: string }>(AliasMoveSchema, body);
    return registry.moveAlias(params.name!, params.alias!, move.version, {
      actor: actorOf(request),
      ...(move.reason ? { reason: move.reason } : {}),
    });
  }, AliasMoveSchema);
  write("DELETE", "/:name/aliases/:alias", "Remove an alias (audited)", ({ params, request }) =>
    registry.deleteAlias(params.name!, params.alias!, { actor: actorOf(request) }));
  write("POST", "/:name/aliases/:alias/$rollback", "Move an alias back to its previous target", ({ params, body, request }) => {
    const input = bodyOf<{ reason?: string }>(AliasRollbackSchema, body, true);
    return registry.rollbackAlias(params.name!, params.alias!, {
      actor: actorOf(request),
      ...(input.reason ? { reason: input.reason } : {}),
    });
  }, AliasRollbackSchema);
  return app as unknown as AnyElysia;
}
