/**
 * Response compression at the service's edge (off by default): gzip or
 * brotli as the client's `Accept-Encoding` prefers, for compressible media
 * types at or above a size threshold; never for streams (SSE, NDJSON),
 * already-compressed types (images, archives, Parquet, ONNX…), `HEAD`, or a
 * response that already has a `Content-Encoding`. A strong `ETag` becomes
 * weak, since the bytes differ from the identity representation.
 */
import type { Settings } from "../core/settings/schema.ts";

// node:zlib costs start-up time and most services never compress: it loads with the first compressed answer.
let zlib: Promise<typeof import("node:zlib")> | undefined;

const COMPRESSIBLE = /^(?:text\/(?!event-stream)|application\/(?:json|problem\+json|geo\+json|xml|javascript|x-yaml|yaml|csv|graphql-response\+json|openmetrics-text|[a-z.+-]+\+(?:json|xml))|image\/svg\+xml)/i;

/** The encoding to answer with, from `Accept-Encoding`: `br`, `gzip`, or undefined. */
export function negotiateEncoding(header: string | null): "br" | "gzip" | undefined {
  if (!header) return undefined;
  let best: "br" | "gzip" | undefined;
  let bestQ = 0;
  for (const part of header.split(",")) {
    const [name = "", ...params] = part.trim().toLowerCase().split(";");
    const q = Number(params.find((param) => param.trim().startsWith("q="))?.trim().slice(2) ?? 1);
    if ((name === "br" || name === "gzip") && q > bestQ) {
      best = name;
      bestQ = q;
    } else if (name === "br" && q === bestQ && q > 0) {
      best = "br";
    }
  }
  return best;
}

/** Whether a response of this media type is worth compressing. */
export function isCompressible(contentType: string | null): boolean {
  return contentType !== null && COMPRESSIBLE.test(contentType) && !contentType.includes("ndjson");
}

/** `response` compressed as the request allows, or `response` itself. */
export async function compress(request: Request, response: Response, settings: Settings["compression"]): Promise<Response> {
  if (request.method === "HEAD" || response.body === null || response.status === 204 || response.status === 304) return response;
  if (response.headers.has("content-encoding") || !isCompressible(response.headers.get("content-type"))) return response;
  const encoding = negotiateEncoding(request.headers.get("accept-encoding"));
  const length = response.headers.get("content-length");
  if (!encoding || (length !== null && Number(length) < settings.thresholdBytes)) return response;
  const body = new Uint8Array(await response.arrayBuffer());
  const headers = new Headers(response.headers);
  headers.append("vary", "Accept-Encoding");
  if (body.byteLength < settings.thresholdBytes) {
    return new Response(body, { status: response.status, statusText: response.statusText, headers });
  }
  const { brotliCompressSync, constants, gzipSync } = await (zlib ??= import("node:zlib"));
  const packed = encoding === "br"
    ? brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 4, [constants.BROTLI_PARAM_SIZE_HINT]: body.byteLength } })
    : gzipSync(body, { level: 6 });
  headers.set("content-encoding", encoding);
  headers.set("content-length", String(packed.byteLength));
  const etag = headers.get("etag");
  if (etag && !etag.startsWith("W/")) headers.set("etag", `W/${etag}`);
  return new Response(new Uint8Array(packed), { status: response.status, statusText: response.statusText, headers });
}
