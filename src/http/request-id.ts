import { newUlid } from "../core/ulid.ts";

/** The header that carries a request's id, both ways. */
export const REQUEST_ID_HEADER = "x-request-id";

const ACCEPTED = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * The id of a request: an incoming `X-Request-ID` of 1–128 characters from
 * `[A-Za-z0-9._-]` is kept, anything else is replaced by a fresh ULID.
 */
export function resolveRequestId(incoming: string | null | undefined): string {
  return incoming && ACCEPTED.test(incoming) ? incoming : newUlid();
}
