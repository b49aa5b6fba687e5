import { Buffer } from "node:buffer";
import { createHash, createHmac } from "node:crypto";
import { invalidQuery } from "./field.ts";

/** What a list cursor carries: the query it continues and the last row's sort key. */
export interface CursorState {
  /** The canonical filter, sort and search parameters of the query it belongs to. */
  query: string;
  /** The sort-key values of the last row returned (one per sort key). */
  values: unknown[];
  /** The id of the last row returned (the final tie-breaker). */
  id: string;
}

const MAC_BYTES = 12;

function mac(payload: string, secret: string | undefined): string {
  const hash = secret === undefined ? createHash("sha256") : createHmac("sha256", secret);
  return hash.update(payload).digest().subarray(0, MAC_BYTES).toString("base64url");
}

/**
 * Encodes a cursor as an opaque URL-safe token: the state as base64url JSON
 * plus a checksum (an HMAC when `secret` is given), so a changed token is
 * refused by {@link decodeCursor}.
 *
 * @example
 * ```ts
 * import { decodeCursor, encodeCursor } from "./cursor.ts";
 * const token = encodeCursor({ query: "sort=name", values: ["b"], id: "01K72P5N5KCRM6MD3BRE4P0999" });
 * decodeCursor(token).values; // ["b"]
 * ```
 */
export function encodeCursor(state: CursorState, secret?: string): string {
  const payload = Buffer.from(JSON.stringify([state.query, state.values, state.id]), "utf8").toString("base64url");
  return `${payload}.${mac(payload, secret)}`;
}

/**
 * Decodes a cursor made by {@link encodeCursor}. A malformed or altered token
 * is a 400 `invalid-query` naming `parameter` (default `cursor`).
 */
export function decodeCursor(token: string, secret?: string, parameter: string = "cursor"): CursorState {
  const bad = (): never => {
    throw invalidQuery("malformed or altered cursor; start again without it", { parameter, position: 1 });
  };
  const dot = token.lastIndexOf(".");
  if (dot <= 0 || !/^[A-Za-z0-9_-]+$/.test(token.slice(0, dot))) return bad();
  const payload = token.slice(0, dot);
  if (token.slice(dot + 1) !== mac(payload, secret)) return bad();
  let state: unknown;
  try {
    state = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    return bad();
  }
  if (!Array.isArray(state) || state.length !== 3) return bad();
  const [query, values, id] = state as unknown[];
  if (typeof query !== "string" || !Array.isArray(values) || typeof id !== "string") return bad();
  return { query, values, id };
}
