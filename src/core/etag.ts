import { PreconditionFailedError } from "./errors.ts";

/**
 * The strong ETag of a representation: a quoted 106-bit digest of its text
 * (two independent 53-bit string hashes), so equal bodies get equal tags on
 * every instance. Not a cryptographic digest: it only has to tell versions
 * of one resource apart, and it costs a fraction of a SHA-256 per request.
 *
 * @example
 * ```ts
 * import { computeEtag } from "./etag.ts";
 * computeEtag('{"id":"1"}'); // "\"…\""
 * ```
 */
export function computeEtag(body: string | Uint8Array): string {
  const text = typeof body === "string" ? body : new TextDecoder().decode(body);
  return `"${hash53(text, 0x9e3779b9).toString(36)}-${hash53(text, 0x85ebca6b).toString(36)}"`;
}

// cyrb53: a fast, well-mixed 53-bit string hash.
function hash53(text: string, seed: number): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
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
