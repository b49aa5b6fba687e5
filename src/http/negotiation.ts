/**
 * MessagePack content negotiation: `Accept: application/msgpack` turns a
 * JSON answer into MessagePack, and a MessagePack request body is read
 * wherever a JSON body is. The codec (`msgpackr`, an optional peer) is
 * imported on the first MessagePack request, so JSON requests pay one
 * header lookup and nothing else.
 */
import { BadRequestError, ConfigurationError, ValidationError } from "../core/errors.ts";

/** The media type of MessagePack answers. */
export const MSGPACK_TYPE = "application/msgpack";

const MSGPACK_TYPES = new Set([MSGPACK_TYPE, "application/x-msgpack", "application/vnd.msgpack"]);

/** Encodes and decodes MessagePack with plain objects and no records, so any MessagePack client reads it. */
export interface MsgpackCodec {
  /** The MessagePack bytes of a JSON-shaped value. */
  pack(value: unknown): Uint8Array;
  /** The value of MessagePack bytes; maps become plain objects. */
  unpack(bytes: Uint8Array): unknown;
}

let codec: Promise<MsgpackCodec> | undefined;

/**
 * The MessagePack codec, imported on first use.
 *
 * @throws {ConfigurationError} when the `msgpackr` package is not installed.
 */
export function msgpackCodec(): Promise<MsgpackCodec> {
  codec ??= import("msgpackr").then(
    ({ Packr }) => {
      const packr = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: "number", moreTypes: false });
      return { pack: (value: unknown) => packr.pack(value), unpack: (bytes: Uint8Array) => packr.unpack(bytes) as unknown };
    },
    (error: unknown) => {
      codec = undefined;
      throw new ConfigurationError("MessagePack needs the msgpackr package: bun add msgpackr (or npm install msgpackr)", { cause: error });
    },
  );
  return codec;
}

/** Whether a `Content-Type` names MessagePack. */
export function isMsgpackType(contentType: string): boolean {
  return MSGPACK_TYPES.has(contentType.split(";", 1)[0]!.trim().toLowerCase());
}

/** The `q` of a media range (1 when absent). */
function quality(params: string[]): number {
  for (const param of params) {
    const [name, value] = param.split("=", 2);
    if (name?.trim().toLowerCase() === "q") return Number(value?.trim() ?? 1);
  }
  return 1;
}

/**
 * Whether an `Accept` header asks for MessagePack: it names a MessagePack
 * type with a `q` above 0 and at least that of `application/json`. A header
 * without the word `msgpack` is rejected without being parsed.
 */
export function prefersMsgpack(accept: string | null): boolean {
  if (accept === null || !accept.includes("msgpack")) return false;
  let msgpack = 0;
  let json = 0;
  for (const range of accept.split(",")) {
    const [type = "", ...params] = range.split(";");
    const name = type.trim().toLowerCase();
    if (MSGPACK_TYPES.has(name)) msgpack = Math.max(msgpack, quality(params));
    else if (name === "application/json") json = Math.max(json, quality(params));
  }
  return msgpack > 0 && msgpack >= json;
}

/**
 * A JSON answer re-encoded as MessagePack (same status and headers,
 * `Content-Type: application/msgpack`, `Vary: Accept`, a strong `ETag` made
 * weak); any other answer (problems, streams, files) is returned as it is.
 */
export async function toMsgpackResponse(response: Response): Promise<Response> {
  const type = response.headers.get("content-type");
  if (response.body === null || type === null || !type.startsWith("application/json")) return response;
  const { pack } = await msgpackCodec();
  const bytes = pack(JSON.parse(await response.text()));
  const headers = new Headers(response.headers);
  headers.set("content-type", MSGPACK_TYPE);
  headers.set("content-length", String(bytes.byteLength));
  headers.append("vary", "Accept");
  const etag = headers.get("etag");
  if (etag && !etag.startsWith("W/")) headers.set("etag", `W/${etag}`);
  return new Response(bytes as BodyInit, { status: response.status, statusText: response.statusText, headers });
}

/** How deep arrays and objects nest in a decoded value, counting stops past `limit`. */
function valueDepth(value: unknown, limit: number, depth = 0): number {
  if (value === null || typeof value !== "object" || ArrayBuffer.isView(value)) return depth;
  if (depth + 1 > limit) return depth + 1;
  let deepest = depth + 1;
  for (const item of Array.isArray(value) ? value : Object.values(value)) {
    deepest = Math.max(deepest, valueDepth(item, limit, depth + 1));
    if (deepest > limit) break;
  }
  return deepest;
}

/**
 * The value of a MessagePack request body (`null` when empty).
 *
 * @throws {ValidationError} 422 `msgpack_invalid` for bytes that are not one MessagePack value.
 * @throws {BadRequestError} 400 for a value nested deeper than `maxDepth`, as for JSON.
 */
export async function decodeMsgpackBody(bytes: Uint8Array, maxDepth: number): Promise<unknown> {
  if (bytes.byteLength === 0) return null;
  const { unpack } = await msgpackCodec();
  let value: unknown;
  try {
    value = unpack(bytes);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ValidationError([{ loc: ["body"], msg: "MessagePack decode error", type: "msgpack_invalid" }], `Malformed MessagePack body: ${reason}`);
  }
  if (valueDepth(value, maxDepth) > maxDepth) {
    throw new BadRequestError(`MessagePack body nested deeper than ${maxDepth} levels`);
  }
  return value;
}
