// How the chap profile (chapkit 1.x) shows artifacts: content-less summaries, trees without `config`, $download and $metadata.
import { BadRequestError, NotFoundError } from "../../core/errors.ts";
import { payloadResponse } from "./download.ts";
import type { ArtifactManager } from "./manager.ts";
import type { ArtifactTreeNode } from "./schema.ts";

/** The media type of a DataFrame stored as `{columns, data}` in an ML artifact's `content`. */
export const DATAFRAME_CONTENT_TYPE = "application/vnd.chapkit.dataframe+json";

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `data` without its `content` key (lists, trees); non-object data is left as is. */
export function withoutContent(data: unknown): unknown {
  if (!isObject(data) || !("content" in data)) return data;
  const { content: _content, ...rest } = data;
  return rest;
}

/** A tree node as the chap profile answers it: no `config` key, `content` removed at every level. */
export function chapTreeNode(node: ArtifactTreeNode): JsonObject {
  const { config: _config, children, data, ...rest } = node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(rest)) out[key] = value;
  out.data = withoutContent(data);
  const ordered: JsonObject = {};
  for (const key of ["id", "created_at", "updated_at", "tags", "data", "parent_id", "level", "level_label", "hierarchy"]) {
    if (key in out) ordered[key] = out[key];
  }
  ordered.children = children === null ? null : children.map(chapTreeNode);
  return ordered;
}

/** `$metadata`: `data.metadata`, or `{}` when absent or when `data` is not an object. */
export function artifactMetadata(data: unknown): unknown {
  return isObject(data) && data.metadata !== undefined && data.metadata !== null ? data.metadata : {};
}

const EXTENSIONS: Record<string, string> = {
  "application/zip": "zip",
  "text/csv": "csv",
  "application/json": "json",
  [DATAFRAME_CONTENT_TYPE]: "json",
  "image/png": "png",
};

/**
 * `$download` of the chap profile (contract-chapcore §6.4): the binary
 * payload verbatim; a DataFrame content as records JSON; another object
 * content as JSON. The file is named `artifact_{id}.{ext}`.
 *
 * @throws {NotFoundError} unknown artifact or no content; {@link BadRequestError} data without downloadable content.
 */
export async function downloadContent(manager: ArtifactManager, id: string, request?: Request): Promise<Response> {
  const record = await manager.store.findById(id);
  if (!record) throw new NotFoundError(`Artifact with id ${id} not found`);
  const data = record.data;
  if (!isObject(data) || !("content" in data)) throw new BadRequestError("Artifact has no downloadable content");
  const declared = typeof data.content_type === "string" ? data.content_type : undefined;
  const payload = await manager.store.payloadRow(id);
  let body: BodyInit;
  let mediaType = declared ?? "application/octet-stream";
  if (payload) {
    mediaType = declared ?? payload.contentType;
    const disposition = `attachment; filename=artifact_${id}.${EXTENSIONS[mediaType] ?? "bin"}`;
    return payloadResponse(manager, id, request ?? new Request("http://localhost/"), disposition, mediaType);
  } else if (data.content === null || data.content === undefined) {
    throw new NotFoundError("Artifact has no content");
  } else if (isObject(data.content) && mediaType === DATAFRAME_CONTENT_TYPE) {
    body = JSON.stringify(dataFrameRecords(data.content));
  } else if (isObject(data.content) || Array.isArray(data.content)) {
    body = JSON.stringify(data.content);
  } else {
    throw new BadRequestError(`Cannot serialize content of type ${typeof data.content}`);
  }
  const ext = EXTENSIONS[mediaType] ?? "bin";
  return new Response(body, {
    headers: { "content-type": mediaType, "content-disposition": `attachment; filename=artifact_${id}.${ext}` },
  });
}

function dataFrameRecords(frame: JsonObject): JsonObject[] {
  const columns = Array.isArray(frame.columns) ? frame.columns as string[] : [];
  const rows = Array.isArray(frame.data) ? frame.data as unknown[][] : [];
  return rows.map((row) => Object.fromEntries(columns.map((column, index) => [column, row[index] ?? null])));
}
