import { PayloadTooLargeError } from "../core/errors.ts";
import { isFramed } from "../runtime/framed.ts";

/** The largest request bodies a service accepts, by kind of route, in bytes. */
export interface BodyLimits {
  /** JSON bodies of every other route (default 10 MiB). */
  json: number;
  /** `$train`, `$predict`, `$predict-stream` and `$validate`, whose DataFrames are large (default 256 MiB). */
  ml: number;
  /** Raw `$upload` and `$batch-predict` bodies, and each request of a resumable upload (`$uploads`; default 256 MiB). */
  upload: number;
}

/** The default limits: JSON 10 MiB, ML operations and uploads 256 MiB. */
export const DEFAULT_BODY_LIMITS: Readonly<BodyLimits> = {
  json: 10 * 1024 * 1024,
  ml: 256 * 1024 * 1024,
  upload: 256 * 1024 * 1024,
};

const ML_OPERATION = /\/\$(train|predict|predict-stream|validate)\/*$/;
// `$upload`, `$batch-predict`, `$import`, and the tus creation and PATCH requests of resumable uploads (`$uploads`, `$uploads/<id>`).
const UPLOAD = /\/\$(upload|batch-predict|import|uploads(\/[^/]+)?)\/*$/;

/** The limit that applies to a request path. */
export function bodyLimitFor(pathname: string, limits: BodyLimits): number {
  if (ML_OPERATION.test(pathname)) return limits.ml;
  if (UPLOAD.test(pathname)) return limits.upload;
  return limits.json;
}

/** The largest of the limits: what the HTTP server itself is told to accept. */
export function largestBodyLimit(limits: BodyLimits): number {
  return Math.max(limits.json, limits.ml, limits.upload);
}

const assigned = new WeakMap<Request, number>();

/** Records the limit of a request (done once, before routing), for the parsers that read its body. */
export function assignBodyLimit(request: Request, limit: number): void {
  assigned.set(request, limit);
}

/**
 * Whether a body may be read whole, without counting it as it arrives: the
 * HTTP server framed the request, so its body ends at its declared
 * `Content-Length` (a stream reader costs a POST about a sixth of its CPU).
 *
 * @throws {PayloadTooLargeError} when that declared length is past the limit.
 */
function readsWhole(request: Request, limit: number): boolean {
  const length = request.headers.get("content-length");
  if (length === null || !isFramed(request)) return false;
  const declared = Number(length);
  if (declared > limit) throw bodyTooLarge(limit);
  return Number.isSafeInteger(declared) && declared >= 0;
}

/** The tooLarge problem of a limit. */
export function bodyTooLarge(limit: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`Request body exceeds ${limit} bytes`);
}

/**
 * Reads a request body, counting bytes as they arrive: a body (chunked or
 * not, whatever its `Content-Length` claims) that passes the limit is
 * refused with 413 before it is buffered whole, and the rest is not read.
 * A request the HTTP server received with a `Content-Length` is refused at
 * once when that length is past the limit, else read whole: its framing
 * ends the body there.
 *
 * @throws {PayloadTooLargeError} past the limit (the request's assigned one, else `fallback`).
 */
export async function readBodyLimited(request: Request, fallback: number = DEFAULT_BODY_LIMITS.json): Promise<Uint8Array> {
  const limit = assigned.get(request) ?? fallback;
  if (readsWhole(request, limit)) return new Uint8Array(await request.arrayBuffer());
  return await readCounted(request, limit);
}

/** The body read chunk by chunk, refused with 413 as soon as more than `limit` bytes arrived. */
async function readCounted(request: Request, limit: number): Promise<Uint8Array> {
  const body = request.body;
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw bodyTooLarge(limit);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

const utf8 = new TextDecoder();

/**
 * A request body as UTF-8 text under the same limits as {@link readBodyLimited}:
 * a body the HTTP server framed comes straight from the runtime as a string,
 * any other is counted as it arrives.
 *
 * @throws {PayloadTooLargeError} past the limit (the request's assigned one, else `fallback`).
 */
export async function readTextLimited(request: Request, fallback: number = DEFAULT_BODY_LIMITS.json): Promise<string> {
  const limit = assigned.get(request) ?? fallback;
  if (readsWhole(request, limit)) return await request.text();
  return utf8.decode(await readCounted(request, limit));
}

/**
 * The request body as a stream that errors with 413 once more than the
 * limit has arrived (the request's assigned one, else `fallback`): for
 * uploads written through to storage as they arrive, never held whole.
 *
 * @throws {PayloadTooLargeError} at once when `Content-Length` already says too much.
 */
export function limitedBodyStream(request: Request, fallback: number = DEFAULT_BODY_LIMITS.json): ReadableStream<Uint8Array> {
  const limit = assigned.get(request) ?? fallback;
  if (Number(request.headers.get("content-length") ?? 0) > limit) throw bodyTooLarge(limit);
  const body = request.body ?? new ReadableStream<Uint8Array>({ start: (controller) => controller.close() });
  let total = 0;
  return body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      total += chunk.byteLength;
      if (total > limit) controller.error(bodyTooLarge(limit));
      else controller.enqueue(chunk);
    },
  }));
}
