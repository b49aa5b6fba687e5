import type { ChapkitError } from "../core/errors.ts";

/** The media type of every chapkit error body. */
export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/**
 * Renders a chapkit error as an RFC 9457 response: the problem body,
 * `Content-Type: application/problem+json` and the error's own headers
 * (e.g. `Allow`, `Retry-After`). An `instance` the raiser wrote is a path
 * of the service (`/api/v1/notes/x`) and gets `basePath` in front; the
 * fallback `instance` is the request's own path and is used as it is.
 * `typePrefix` replaces `urn:chapkit:error:` (the chap profile answers
 * `urn:servicekit:error:*`).
 */
export function problemResponse(error: ChapkitError, instance: string, basePath = "", typePrefix?: string): Response {
  const headers: Record<string, string> = { ...error.headers, "content-type": PROBLEM_CONTENT_TYPE };
  const problem = error.toProblem(instance);
  if (basePath && error.instance !== undefined) problem.instance = `${basePath}${error.instance}`;
  if (typePrefix !== undefined) problem.type = problem.type.replace(CHAPKIT_URN, typePrefix);
  return new Response(JSON.stringify(problem), { status: error.status, headers });
}

const CHAPKIT_URN = /^urn:chapkit:error:/;
