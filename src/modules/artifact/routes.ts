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
import { tusRoutes } from "../../http/tus.ts";
import type { ResumableUploads } from "../../storage/resumable-uploads.ts";
import type { ArtifactManager } from "./manager.ts";
import type { ArtifactRetention } from "./retention.ts";
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
  /** Serves `GET`/`PUT {prefix}/{id}/$retention` (expiry and legal hold). */
  retention?: ArtifactRetention;
  /** Serves resumable uploads (tus 1.0) under `{prefix}/$uploads`. */
  resumable?: ResumableOptions;
}

/** What resumable uploads of artifacts need. */
export interface ResumableOptions {
  /** Where unfinished uploads are kept. */
  uploads: ResumableUploads;
  /** The largest upload accepted, in bytes (`Tus-Max-Size`). */
  maxSize: number;
  /** Milliseconds an untouched upload lives before garbage collection removes it. */
  expiresMs: number;
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

/** Where an uploaded payload goes: under a parent, or as the trained model of a config. */
interface Placement {
  parent_id?: string;
  config_id?: string;
}

function checkPlacement(placement: Placement, linked: LinkedUpload | undefined): void {
  if (placement.parent_id !== undefined && placement.config_id !== undefined) {
    throw new BadRequestError("Give parent_id or config_id, not both: an artifact linked to a config is a root");
  }
  if (placement.config_id !== undefined && !linked) {
    throw new BadRequestError("config_id needs config linking (enableConfigLinking)");
  }
}

async function createWith(manager: ArtifactManager, payload: PayloadInput & { contentType: string; size?: number }, placement: Placement, linked?: LinkedUpload): Promise<ArtifactOut> {
  const stored = "bytes" in payload ? { size: payload.bytes.byteLength } : payload;
  if (placement.config_id !== undefined && linked) return linked(placement.config_id, payload);
  return manager.create({
    data: { content_type: payload.contentType, size: stored.size, content: PAYLOAD_MARKER },
    ...(placement.parent_id === undefined ? {} : { parent_id: placement.parent_id }),
  }, payload);
}

async function upload(manager: ArtifactManager, context: UploadContext, linked?: LinkedUpload): Promise<ArtifactOut> {
  const placement = validateValue<Placement>(UploadQuery, context.query, { loc: ["query"] });
  if (!(context.body instanceof UploadBody)) {
    // JSON (and untyped) bodies are parsed as JSON before any route sees them.
    throw new UnsupportedMediaTypeError(
      "Upload the content with its own media type (e.g. application/octet-stream); JSON data belongs in POST on the collection",
    );
  }
  checkPlacement(placement, linked);
  const payload = await manager.storeContent(context.body.stream, contentTypeOf(context.request));
  const created = await createWith(manager, payload, placement, linked);
  const url = new URL(context.request.url);
  context.set.status = 201;
  context.set.headers.location = `${url.origin}${url.pathname.replace(/\/\$upload\/*$/, "")}/${created.id}`;
  return created;
}

/** Reads where a resumable upload goes from its tus metadata (`parent_id`, `config_id`, `content_type` or `filetype`). */
function placementOf(metadata: Record<string, string>): Placement {
  const query: Record<string, string> = {};
  if (metadata.parent_id) query.parent_id = metadata.parent_id;
  if (metadata.config_id) query.config_id = metadata.config_id;
  return validateValue<Placement>(UploadQuery, query, { loc: ["header", "Upload-Metadata"] });
}

function resumableRoutes(app: AnyElysia, manager: ArtifactManager, prefix: string, tags: string[], resumable: ResumableOptions, linked?: LinkedUpload): void {
  tusRoutes(app, {
    path: `${prefix}/$uploads`,
    uploads: resumable.uploads,
    maxSize: resumable.maxSize,
    expiresMs: resumable.expiresMs,
    tags,
    check: (metadata) => checkPlacement(placementOf(metadata), linked),
    finish: async (done, body) => {
      const contentType = done.metadata.content_type || done.metadata.filetype || "application/octet-stream";
      const payload = await manager.storeContent(body, contentType);
      const created = await createWith(manager, payload, placementOf(done.metadata), linked);
      return `${prefix}/${created.id}`;
    },
  });
}

const RetentionSchema: TObject = Type.Object({
  artifact_id: UlidSchema,
  expires_at: Type.Union([Type.String({ format: "date-time" }), Type.Null()], { description: "When the artifact is deleted; null: only the policies apply" }),
  legal_hold: Type.Boolean({ description: "While true, neither the expiry nor any policy deletes it" }),
}, { title: "ArtifactRetention", examples: [{ artifact_id: "01K2E7W8X9Y0Z1A2B3C4D5E6F7", expires_at: "2027-01-31T00:00:00.000Z", legal_hold: false }] });

const RetentionChangeSchema: TObject = Type.Object({
  expires_at: Type.Optional(Type.Union([Type.String({ format: "date-time" }), Type.Null()])),
  legal_hold: Type.Optional(Type.Boolean()),
}, { title: "ArtifactRetentionChange", additionalProperties: false, examples: [{ expires_at: "2027-01-31T00:00:00Z", legal_hold: false }] });

function checkRetentionChange(body: Record<string, unknown>): FieldError[] {
  const errors: FieldError[] = [];
  const value = body.expires_at;
  if (typeof value === "string" && Number.isNaN(Date.parse(value))) {
    errors.push({ loc: ["body", "expires_at"], msg: "Input should be a valid datetime", type: "datetime_parsing" });
  }
  return errors;
}

function retentionOperations(retention: ArtifactRetention): Operation[] {
  return [
    {
      name: "$retention",
      method: "GET",
      summary: "Artifact retention",
      description: "The artifact's expiry (`expires_at`) and legal hold.",
      response: RetentionSchema,
      handler: ({ id, instance }) => retention.get(id).catch((error) => Promise.reject(locate(error, instance))),
    },
    {
      name: "$retention",
      method: "PUT",
      summary: "Set artifact retention",
      description: "Sets when the artifact is deleted (`expires_at`, null for never by itself) and its legal hold; an absent field keeps its value. " +
        "The `artifacts.retention` job deletes due artifacts with their subtrees, sparing any tree that holds an artifact under legal hold.",
      body: RetentionChangeSchema,
      checkBody: checkRetentionChange,
      response: RetentionSchema,
      handler: ({ id, instance, body }) =>
        retention.set(id, body as { expires_at?: string | null; legal_hold?: boolean }).catch((error) => Promise.reject(locate(error, instance))),
    },
  ];
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
  const retention = options.retention ? retentionOperations(options.retention) : [];
  const entityOperations: Operation[] = options.chap ? [...chapOperations(manager), ...retention] : [
    ...retention,
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
  if (allow.create && options.resumable) resumableRoutes(app, manager, prefix, tags, options.resumable, options.linkedUpload);
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
