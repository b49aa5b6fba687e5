import { checkIfMatch, computeEtag, ifNoneMatchHits } from "../core/etag.ts";
import type { ResponseSet } from "./crud/operation.ts";

/**
 * Answers a JSON body with its strong `ETag`, or `304 Not Modified` when the
 * request's `If-None-Match` already holds it. The body is serialised once,
 * for the tag and the response alike.
 */
export function withEtag(request: Request, set: ResponseSet, body: unknown): Response | string {
  const json = JSON.stringify(body);
  const etag = computeEtag(json);
  set.headers.etag = etag;
  if (ifNoneMatchHits(request.headers.get("if-none-match"), etag)) {
    return new Response(null, { status: 304, headers: { etag } });
  }
  set.headers["content-type"] = "application/json";
  return json;
}

/**
 * Enforces `If-Match` on a write: when the header is present, the current
 * representation (read by `current`) must carry one of its tags, else 412
 * `precondition-failed`. Without the header nothing is read.
 */
export async function requireIfMatch(request: Request, current: () => Promise<unknown>, instance?: string): Promise<void> {
  const header = request.headers.get("if-match");
  if (header === null) return;
  checkIfMatch(header, computeEtag(JSON.stringify(await current())), instance);
}
