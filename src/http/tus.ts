import type { AnyElysia } from "elysia";
import { BadRequestError, NotFoundError, PayloadTooLargeError, PreconditionFailedError, UnsupportedMediaTypeError } from "../core/errors.ts";
import type { ResumableUpload, ResumableUploads } from "../storage/resumable-uploads.ts";
import { addRoute } from "./_route.ts";
import { routeDetail } from "./route-doc.ts";

/** The tus version served. */
export const TUS_VERSION = "1.0.0";
/** The media type of tus PATCH bodies. */
export const TUS_CONTENT_TYPE = "application/offset+octet-stream";
const EXTENSIONS = "creation,creation-with-upload,termination,expiration";

/** Options of {@link tusRoutes}. */
export interface TusRoutesOptions {
  /** The creation URL, e.g. `/api/v1/artifacts/$uploads`; uploads live at `{path}/{id}`. */
  path: string;
  /** Where uploads are kept. */
  uploads: ResumableUploads;
  /** The largest upload accepted (`Tus-Max-Size`). */
  maxSize: number;
  /** Milliseconds an untouched upload lives (`Upload-Expires`). */
  expiresMs: number;
  /** Checks the metadata of a new upload before anything is stored. @throws a chapkit error (e.g. 400) to refuse it. */
  check?(metadata: Record<string, string>): void | Promise<void>;
  /** Turns a finished upload into what it is for; answers that resource's path (`Content-Location`). */
  finish(upload: ResumableUpload, body: ReadableStream<Uint8Array>): Promise<string>;
  /** OpenAPI tags. */
  tags?: string[];
}

// The body is read by the handler as a stream; this parser only keeps Elysia's from reading it.
const UNREAD = Object.freeze({ unread: true });
function rawBody(): object {
  return UNREAD;
}

interface TusContext {
  request: Request;
  params: { upload_id?: string };
}

/** The body, with a read that fails (the client went away) turned into a 400 problem rather than a server error. */
function brokenOffAsBadRequest(body: ReadableStream<Uint8Array> | null): ReadableStream<Uint8Array> {
  if (!body) return new ReadableStream<Uint8Array>({ start: (controller) => controller.close() });
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (error) {
        controller.error(new BadRequestError("The request body broke off; ask for the offset (HEAD) and resume from there", { cause: error }));
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

function withHeaders(detail: Record<string, unknown>, headers: { name: string; required: boolean; example: string }[]): Record<string, unknown> {
  const parameters = headers.map(({ name, required, example }) => ({ name, in: "header", required, schema: { type: "string" }, example }));
  return { ...detail, parameters: [...((detail.parameters as unknown[] | undefined) ?? []), ...parameters] };
}

function tusHeaders(extra: Record<string, string> = {}): Headers {
  return new Headers({ "tus-resumable": TUS_VERSION, ...extra });
}

function checkVersion(request: Request): void {
  const version = request.headers.get("tus-resumable");
  if (version !== TUS_VERSION) {
    throw new PreconditionFailedError(`Send Tus-Resumable: ${TUS_VERSION}${version ? ` (this server does not speak ${version})` : ""}`, {
      headers: { "tus-version": TUS_VERSION, "tus-resumable": TUS_VERSION },
    });
  }
}

function integerHeader(request: Request, name: string): number | null {
  const raw = request.headers.get(name);
  if (raw === null) return null;
  if (!/^\d{1,16}$/.test(raw.trim())) throw new BadRequestError(`${name} must be a non-negative integer, not ${JSON.stringify(raw)}`);
  return Number(raw.trim());
}

/** Decodes `Upload-Metadata`: comma-separated `key base64value` pairs (the value may be absent). @throws {BadRequestError} */
export function parseUploadMetadata(header: string | null): Record<string, string> {
  const metadata: Record<string, string> = {};
  if (header === null || header.trim() === "") return metadata;
  for (const pair of header.split(",")) {
    const [key, value, ...rest] = pair.trim().split(" ");
    if (!key || rest.length > 0 || !/^[\x21-\x7e]+$/.test(key) || key in metadata) {
      throw new BadRequestError(`Upload-Metadata must be comma-separated "key base64value" pairs with unique keys, not ${JSON.stringify(pair.trim())}`);
    }
    if (value !== undefined && !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw new BadRequestError(`Upload-Metadata value of ${key} is not base64`);
    metadata[key] = value === undefined ? "" : new TextDecoder().decode(Uint8Array.from(atob(value), (c) => c.charCodeAt(0)));
  }
  return metadata;
}

function encodeMetadata(metadata: Record<string, string>): string {
  return Object.entries(metadata)
    .map(([key, value]) => `${key} ${btoa(String.fromCharCode(...new TextEncoder().encode(value)))}`)
    .join(",");
}

/**
 * The server side of the tus 1.0 protocol for resumable uploads, with the
 * creation, creation-with-upload, termination and expiration extensions:
 * `OPTIONS {path}` (discovery), `POST {path}` (create, `Upload-Length`,
 * `Upload-Metadata`), `HEAD {path}/{id}` (offset), `PATCH {path}/{id}`
 * (`Upload-Offset`, body `application/offset+octet-stream`) and
 * `DELETE {path}/{id}`. The request that brings the last byte turns the
 * upload into its resource (`finish`) and answers its path in
 * `Content-Location`, as `HEAD` does from then on. Errors are problems.
 */
export function tusRoutes(app: AnyElysia, options: TusRoutesOptions): void {
  const { path, uploads } = options;
  const tags = options.tags ?? [];
  const expires = (upload: ResumableUpload) => new Date(Date.parse(upload.updatedAt) + options.expiresMs).toUTCString();
  const location = (request: Request, id: string) => {
    const url = new URL(request.url);
    return `${url.origin}${url.pathname.replace(/\/+$/, "")}/${id}`;
  };

  const existing = async (id: string | undefined): Promise<ResumableUpload> => {
    const upload = id ? await uploads.get(id) : null;
    if (!upload) throw new NotFoundError(`Upload ${id} not found (never created, finished long ago, removed or expired)`);
    return upload;
  };

  const receive = async (upload: ResumableUpload, request: Request, offset: number): Promise<Response> => {
    let current = await uploads.append(upload.id, offset, brokenOffAsBadRequest(request.body));
    const headers = tusHeaders({ "upload-offset": String(current.offset), "upload-expires": expires(current) });
    if (current.offset === current.length && current.result === null) {
      const result = await options.finish(current, await uploads.stream(current.id));
      await uploads.finish(current.id, result);
      current = { ...current, result };
    }
    if (current.result !== null) headers.set("content-location", current.result);
    return new Response(null, { status: 204, headers });
  };

  addRoute(app, "OPTIONS", path, () =>
    new Response(null, {
      status: 204,
      headers: tusHeaders({ "tus-version": TUS_VERSION, "tus-extension": EXTENSIONS, "tus-max-size": String(options.maxSize) }),
    }), { detail: routeDetail({ summary: "Resumable uploads: discovery (tus)", tags, status: 204 }) });

  addRoute(app, "POST", path, async ({ request }: TusContext) => {
    checkVersion(request);
    if (request.headers.get("upload-defer-length") !== null) throw new BadRequestError("Upload-Defer-Length is not supported: give Upload-Length");
    const length = integerHeader(request, "upload-length");
    if (length === null) throw new BadRequestError("Give the upload's size in Upload-Length");
    if (length > options.maxSize) throw new PayloadTooLargeError(`Upload-Length ${length} exceeds the largest upload, ${options.maxSize} bytes (Tus-Max-Size)`);
    const metadata = parseUploadMetadata(request.headers.get("upload-metadata"));
    await options.check?.(metadata);
    const withBody = request.headers.get("content-type")?.split(";")[0]?.trim() === TUS_CONTENT_TYPE;
    const upload = await uploads.create(length, metadata);
    const created = location(request, upload.id);
    const answer = withBody || length === 0 ? await receive(upload, request, 0) : null;
    const headers = tusHeaders({ location: created, "upload-expires": expires(upload) });
    for (const name of ["upload-offset", "content-location", "upload-expires"]) {
      const value = answer?.headers.get(name);
      if (value) headers.set(name, value);
    }
    return new Response(null, { status: 201, headers });
  }, {
    parse: [rawBody],
    detail: withHeaders(routeDetail({
      summary: "Resumable uploads: create (tus)",
      description: "tus 1.0 creation: `Upload-Length` (bytes), `Upload-Metadata`; answers 201 with `Location`. " +
        "A body of type `application/offset+octet-stream` is its first bytes (creation-with-upload).",
      tags,
      status: 201,
    }), [
      { name: "Tus-Resumable", required: true, example: TUS_VERSION },
      { name: "Upload-Length", required: true, example: "1048576" },
      { name: "Upload-Metadata", required: false, example: "filetype dGV4dC9jc3Y=" },
    ]),
  });

  addRoute(app, "HEAD", `${path}/:upload_id`, async ({ request, params }: TusContext) => {
    checkVersion(request);
    const upload = await existing(params.upload_id);
    const headers = tusHeaders({
      "upload-offset": String(upload.offset),
      "upload-length": String(upload.length),
      "cache-control": "no-store",
      "upload-expires": expires(upload),
    });
    if (Object.keys(upload.metadata).length > 0) headers.set("upload-metadata", encodeMetadata(upload.metadata));
    if (upload.result !== null) headers.set("content-location", upload.result);
    return new Response(null, { status: 200, headers });
  }, { detail: routeDetail({ summary: "Resumable uploads: offset (tus)", tags }) });

  addRoute(app, "PATCH", `${path}/:upload_id`, async ({ request, params }: TusContext) => {
    checkVersion(request);
    if (request.headers.get("content-type")?.split(";")[0]?.trim() !== TUS_CONTENT_TYPE) {
      throw new UnsupportedMediaTypeError(`Send the bytes as ${TUS_CONTENT_TYPE}`);
    }
    const offset = integerHeader(request, "upload-offset");
    if (offset === null) throw new BadRequestError("Give the offset the bytes start at in Upload-Offset");
    return receive(await existing(params.upload_id), request, offset);
  }, {
    parse: [rawBody],
    detail: routeDetail({
      summary: "Resumable uploads: append (tus)",
      description: "tus 1.0: appends the body at `Upload-Offset` (409 when it is not where the upload stands); " +
        "the request that brings the last byte creates the resource, named in `Content-Location`.",
      tags,
      status: 204,
    }),
  });

  addRoute(app, "DELETE", `${path}/:upload_id`, async ({ request, params }: TusContext) => {
    checkVersion(request);
    if (!params.upload_id || !(await uploads.remove(params.upload_id))) throw new NotFoundError(`Upload ${params.upload_id} not found`);
    return new Response(null, { status: 204, headers: tusHeaders() });
  }, { detail: routeDetail({ summary: "Resumable uploads: terminate (tus)", tags, status: 204 }) });
}
