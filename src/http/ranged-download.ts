import { RangeNotSatisfiableError } from "../core/errors.ts";
import { ifNoneMatchHits } from "../core/etag.ts";
import type { ByteRange } from "../storage/blob-store.ts";

/** What {@link rangedResponse} serves: stored bytes it can open whole or by range. */
export interface RangedSource {
  /** Size of the whole content. */
  size: number;
  /** Strong validator, quoted (e.g. `"<sha256>"`). */
  etag: string;
  /** The media type. */
  contentType: string;
  /** `Content-Disposition`, when the content is a file to save. */
  disposition?: string;
  /** Opens the bytes, whole or of an inclusive range. */
  open(range?: ByteRange): Promise<ReadableStream<Uint8Array>>;
}

/**
 * The single byte range a `Range: bytes=…` header asks for within `size`
 * bytes: null when there is none or it asks for several (then the whole is
 * sent, as RFC 9110 allows).
 *
 * @throws {RangeNotSatisfiableError} a range that starts past the end.
 */
export function parseRange(header: string | null, size: number): ByteRange | null {
  if (header === null) return null;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match || (match[1] === "" && match[2] === "")) return null;
  if (match[1] === "") {
    const suffix = Number(match[2]);
    if (suffix === 0) throw new RangeNotSatisfiableError(header, size);
    return { start: Math.max(size - suffix, 0), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || end < start) throw new RangeNotSatisfiableError(header, size);
  return { start, end };
}

/**
 * Serves stored bytes as HTTP wants large downloads served: streamed,
 * `ETag` + `If-None-Match` (304), `Accept-Ranges` and `Range` (206 with
 * `Content-Range`; `If-Range` with another tag sends the whole; 416 past the end).
 */
export async function rangedResponse(request: Request, source: RangedSource): Promise<Response> {
  const headers: Record<string, string> = {
    etag: source.etag,
    "accept-ranges": "bytes",
    "content-type": source.contentType,
    ...(source.disposition ? { "content-disposition": source.disposition } : {}),
  };
  if (ifNoneMatchHits(request.headers.get("if-none-match"), source.etag)) return new Response(null, { status: 304, headers });
  const ifRange = request.headers.get("if-range");
  const range = ifRange === null || ifRange === source.etag ? parseRange(request.headers.get("range"), source.size) : null;
  if (!range) {
    return new Response(await source.open() as ReadableStream<Uint8Array<ArrayBuffer>>, {
      headers: { ...headers, "content-length": String(source.size) },
    });
  }
  return new Response(await source.open(range) as ReadableStream<Uint8Array<ArrayBuffer>>, {
    status: 206,
    headers: {
      ...headers,
      "content-range": `bytes ${range.start}-${range.end}/${source.size}`,
      "content-length": String(range.end - range.start + 1),
    },
  });
}
