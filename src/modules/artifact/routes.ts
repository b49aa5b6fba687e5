import { type TObject, Type } from "@sinclair/typebox";
import { type AnyElysia, Elysia } from "elysia";
import {
  BadRequestError,
  type FieldError,
  NotFoundError,
  UnsupportedMediaTypeError,
  ValidationError,
} from "../../core/errors.ts";
import { UlidSchema } from "../../core/schema.ts";
import { parseUlid } from "../../core/ulid.ts";
import { validateValue } from "../../core/validation.ts";
import { addRoute } from "../../http/_route.ts";
import { type CrudPermissions, crudRouter } from "../../http/crud/crud-router.ts";
import type { Operation, ResponseSet } from "../../http/crud/operation.ts";
import { limitedBodyStream } from "../../http/body-limit.ts";
import { ifMatchCondition } from "../../http/etag.ts";
import { routeDetail } from "../../http/route-doc.ts";
import type { ArtifactManager } from "./manager.ts";
import { PAYLOAD_MARKER, type PayloadInput } from "./payload.ts";
import { artifactMetadata, chapTreeNode, downloadContent, withoutContent } from "./chap-view.ts";
import { payloadResponse } from "./download.ts";
import { ArtifactOutSchema, type ArtifactOut, type ArtifactRecord } from "./schema.ts";

/** The default route prefix of artifacts. */
export const DEFAULT_ARTIFACT_PREFIX = "/api/v1/artifacts";

/** Creates the trained-model artifact of `$upload?config_id=` (given when config linking is enabled). */
export type LinkedUpload = (configId: string, payload: PayloadInput) => Promise<ArtifactOut>;

/** Options of {@link artifactRoutes}. */
export interface ArtifactRoutesOptions {
  /** Route prefix (default `/api/v1/artifacts`). */
  prefix?: string;
  /** OpenAPI tags (default `["artifacts"]`). */
  tags?: string[];
  /** Which generic routes exist; `$upload` follows `create`. */
  permissions?: CrudPermissions;
  /** Handles `$upload?config_id=`; without it such uploads answer 400. */
  linkedUpload?: LinkedUpload;
  /** More entity operations (e.g. `$config`). */
  entityOperations?: Operation[];
  /**
   * The chap profile's views (contract-chapcore §6): content-less list items,
   * `$tree`/`$expand` without `config` and without `content`, `$stats`,
   * `$metadata`, and `$download` of the `content` (payload bytes, DataFrame
   * records, JSON) named `artifact_{id}.{ext}`.
   */
  chap?: boolean;
}

const TreeNodeSchema: TObject = Type.Object({}, { title: "ArtifactTreeNode", additionalProperties: true });

const UploadQuery = Type.Object({
  parent_id: Type.Optional(UlidSchema),
  config_id: Type.Optional(UlidSchema),
});

function cascadeOf(url: string): boolean {
  const raw = new URL(url).searchParams.get("cascade");
  if (raw === null) return true;
  const value = raw.trim().toLowerCase();
  if (["true", "1", "yes", "on"].includes(value)) return true;
  if (["false", "0", "no", "off"].includes(value)) return false;
  const error: FieldError = { loc: ["query", "cascade"], msg: "Input should be a valid boolean", type: "bool_parsing" };
  throw new ValidationError([error]);
}

function contentTypeOf(request: Request): string {
  return request.headers.get("content-type")?.trim() || "application/octet-stream";
}

interface UploadContext {
  body: unknown;
  query: Record<string, unknown>;
  request: Request;
  set: ResponseSet;
}

/** A raw upload body, streamed to storage as it arrives (the size limit counted on the way). */
class UploadBody {
  constructor(readonly stream: ReadableStream<Uint8Array>) {}
}

function rawBody({ request }: { request: Request }): UploadBody {
  return new UploadBody(limitedBodyStream(request));
}

async function upload(manager: ArtifactManager, context: UploadContext, linked?: LinkedUpload): Promise<ArtifactOut> {
  const query = validateValue<{ parent_id?: string; config_id?: string }>(UploadQuery, context.query, { loc: ["query"] });
  const { parent_id: parentId, config_id: configId } = query;
  if (!(context.body instanceof UploadBody)) {
    // JSON (and untyped) bodies are parsed as JSON before any route sees them.
    throw new UnsupportedMediaTypeError(
      "Upload the content with its own media type (e.g. application/octet-stream); JSON data belongs in POST on the collection",
    );
  }
  if (parentId !== undefined && configId !== undefined) {
    throw new BadRequestError("Give parent_id or config_id, not both: an artifact linked to a config is a root");
  }
  if (configId !== undefined && !linked) {
    throw new BadRequestError("config_id needs config linking (enableConfigLinking)");
  }
  const payload = await manager.storeContent(context.body.stream, contentTypeOf(context.request));
  const created = configId !== undefined && linked
    ? await linked(configId, payload)
    : await manager.create({
      data: { content_type: payload.contentType, size: payload.size, content: PAYLOAD_MARKER },
      ...(parentId === undefined ? {} : { parent_id: parentId }),
    }, payload);
  const url = new URL(context.request.url);
  context.set.status = 201;
  context.set.headers.location = `${url.origin}${url.pathname.replace(/\/\$upload\/*$/, "")}/${created.id}`;
  return created;
}

function chapOperations(manager: ArtifactManager): Operation[] {
  return [
    {
      name: "$expand",
      method: "GET",
      summary: "Expand artifact",
      description: "The artifact with its level label and hierarchy, without `content`; `children` is null.",
      response: TreeNodeSchema,
      handler: async ({ id, instance }) =>
        chapTreeNode(await manager.expand(id).catch((error) => Promise.reject(locate(error, instance)))),
    },
    {
      name: "$tree",
      method: "GET",
      summary: "Artifact subtree",
      description: "The artifact's subtree without `content`; children in ascending id order, leaves have `[]`.",
      response: TreeNodeSchema,
      handler: async ({ id, instance }) =>
        chapTreeNode(await manager.tree(id).catch((error) => Promise.reject(locate(error, instance)))),
    },
    {
      name: "$download",
      method: "GET",
      summary: "Download artifact content",
      description: "The artifact's `content` as a file: binary content verbatim, a DataFrame as records JSON, other objects as JSON.",
      handler: ({ id, instance, request }) => downloadContent(manager, id, request).catch((error) => Promise.reject(locate(error, instance))),
    },
    {
      name: "$metadata",
      method: "GET",
      summary: "Artifact metadata",
      description: "`data.metadata`, or `{}` when there is none.",
      response: Type.Object({}, { additionalProperties: true }),
      handler: async ({ id, instance }) =>
        artifactMetadata((await manager.get(id).catch((error) => Promise.reject(locate(error, instance)))).data),
    },
  ];
}

/**
 * Gives a not-found error without an `instance` the route's
 * `{prefix}/{raw id}` (contract §4.1), as the CRUD routes do.
 */
export function locate(error: unknown, instance: string): unknown {
  if (error instanceof NotFoundError && error.instance === undefined) return new NotFoundError(error.message, { instance });
  return error;
}

/**
 * The artifact routes (contract §8 with decisions): CRUD with a `DELETE`
 * that takes `?cascade=false`, `$expand`, `$tree`, `$download` and
 * `$upload`.
 */
export function artifactRoutes(manager: ArtifactManager, options: ArtifactRoutesOptions = {}): AnyElysia {
  const prefix = options.prefix ?? DEFAULT_ARTIFACT_PREFIX;
  const tags = options.tags ?? ["artifacts"];
  const allow = { create: true, read: true, update: true, delete: true, ...options.permissions };
  const entityOperations: Operation[] = options.chap ? chapOperations(manager) : [
    {
      name: "$expand",
      method: "GET",
      summary: "Expand artifact",
      description: "The artifact with its level label, hierarchy and linked config; `children` is null.",
      response: TreeNodeSchema,
      handler: ({ id, instance }) => manager.expand(id).catch((error) => Promise.reject(locate(error, instance))),
    },
    {
      name: "$tree",
      method: "GET",
      summary: "Artifact subtree",
      description: "The artifact's subtree; children in ascending id order, leaves have `[]`.",
      response: TreeNodeSchema,
      handler: ({ id, instance }) => manager.tree(id).catch((error) => Promise.reject(locate(error, instance))),
    },
    {
      name: "$download",
      method: "GET",
      summary: "Download artifact content",
      description:
        "The artifact's binary payload with its content type, streamed; `ETag` is its SHA-256, `If-None-Match` answers 304, " +
        "`Range: bytes=…` answers 206 (416 past the end); 404 when it has none.",
      handler: ({ id, instance, request }) =>
        payloadResponse(manager, id, request, `attachment; filename="${id}"`).catch((error) => Promise.reject(locate(error, instance))),
    },
    ...(options.entityOperations ?? []),
  ];
  const app = new Elysia().use(crudRouter({
    prefix,
    manager,
    tags,
    entityName: "artifact",
    permissions: { ...allow, delete: false },
    entityOperations,
    ...(options.chap
      ? {
        stats: true,
        listSource: {
          repository: manager.repository,
          toOutput: async (record: ArtifactRecord) => {
            const out = await manager.toOutput(record);
            return { ...out, data: withoutContent(out.data) };
          },
        },
      }
      : {}),
  }));
  if (allow.create) {
    addRoute(app, "POST", `${prefix}/$upload`, (context: UploadContext) => upload(manager, context, options.linkedUpload), {
      parse: [rawBody],
      detail: routeDetail({
        summary: "Upload binary content",
        description:
          "Creates an artifact holding the raw request body with its Content-Type (not JSON). `?parent_id=` places it in a tree; " +
          "`?config_id=` creates a trained-model artifact `{ml_type, config_id, model}` linked to that config.",
        tags,
        query: UploadQuery,
        response: ArtifactOutSchema,
        status: 201,
      }),
    });
  }
  if (allow.delete) {
    addRoute(app, "DELETE", `${prefix}/:entity_id`, async ({ params, request }: { params: { entity_id: string }; request: Request }) => {
      const instance = `${prefix}/${params.entity_id}`;
      const id = parseUlid(params.entity_id, instance);
      const cascade = cascadeOf(request.url);
      try {
        const condition = await ifMatchCondition(request, manager, id, instance);
        await manager.delete(id, condition ? { cascade, condition } : { cascade });
      } catch (error) {
        throw locate(error, instance);
      }
      return new Response(null, { status: 204 });
    }, {
      detail: routeDetail({
        summary: "Delete artifact",
        description: "Deletes the artifact with its subtree; `?cascade=false` detaches its children instead.",
        tags,
        query: Type.Object({ cascade: Type.Optional(Type.Boolean({ default: true })) }),
        status: 204,
      }),
    });
  }
  return app;
}
