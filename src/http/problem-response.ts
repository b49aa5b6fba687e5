import type { ChapkitError } from "../core/errors.ts";

/** The media type of every chapkit error body. */
export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/**
 * Renders a chapkit error as an RFC 9457 response: the problem body,
 * `Content-Type: application/problem+json` and the error's own headers
 * (e.g. `Allow`, `Retry-After`).
 */
export function problemResponse(error: ChapkitError, instance: string): Response {
  const headers: Record<string, string> = { ...error.headers, "content-type": PROBLEM_CONTENT_TYPE };
  return new Response(JSON.stringify(error.toProblem(instance)), { status: error.status, headers });
}
