import { createHash } from "node:crypto";
import { PreconditionFailedError } from "./errors.ts";

/**
 * The strong ETag of a representation: a quoted base64url SHA-256 prefix of
 * its bytes, so equal bodies get equal tags on every instance.
 *
 * @example
 * ```ts
 * import { computeEtag } from "./etag.ts";
 * computeEtag('{"id":"1"}'); // "\"…\""
 * ```
 */
export function computeEtag(body: string | Uint8Array): string {
  return `"${createHash("sha256").update(body).digest().subarray(0, 18).toString("base64url")}"`;
}

function tags(header: string): string[] {
  return header.split(",").map((tag) => tag.trim()).filter((tag) => tag.length > 0);
}

/** Whether an `If-None-Match` header matches the tag (weak comparison, `*` matches anything). */
export function ifNoneMatchHits(header: string | null, etag: string): boolean {
  if (header === null) return false;
  const bare = etag.replace(/^W\//, "");
  return tags(header).some((tag) => tag === "*" || tag.replace(/^W\//, "") === bare);
}

/**
 * Checks an `If-Match` header against the current representation's tag
 * (strong comparison; `*` matches any existing representation). A miss is a
 * 412 `precondition-failed`; no header passes.
 */
export function checkIfMatch(header: string | null, etag: string, instance?: string): void {
  if (header === null) return;
  if (tags(header).some((tag) => tag === "*" || (!tag.startsWith("W/") && tag === etag))) return;
  throw new PreconditionFailedError(`If-Match ${header} does not match the current ETag ${etag}`, instance === undefined ? {} : { instance });
}
