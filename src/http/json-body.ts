import { Elysia } from "elysia";
import { PayloadTooLargeError, ValidationError } from "../core/errors.ts";

/** Options of {@link jsonBody}. */
export interface JsonBodyOptions {
  /** Largest accepted body in bytes (default 10 MiB). */
  maxBodyBytes?: number;
}

/** The default largest request body: 10 MiB. */
export const DEFAULT_MAX_BODY_BYTES: number = 10 * 1024 * 1024;

function isJson(contentType: string): boolean {
  const type = contentType.split(";", 1)[0]!.trim().toLowerCase();
  return type === "application/json" || (type.startsWith("application/") && type.endsWith("+json"));
}

const decoder = new TextDecoder();

/**
 * JSON body parsing as clients of the contract expect it: bodies without a
 * `Content-Type` are read as JSON too, an empty body is `null` (a required
 * body then answers 422 `missing`), malformed JSON answers 422 `json_invalid`
 * and a body above the size limit answers 413. Other media types are left
 * to the framework's own parsers.
 */
export function jsonBody(options: JsonBodyOptions = {}): Elysia {
  const max = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return new Elysia().onParse({ as: "scoped" }, async ({ request, contentType }) => {
    if (contentType && !isJson(contentType)) return undefined;
    const bytes = new Uint8Array(await request.arrayBuffer());
    if (bytes.byteLength > max) {
      throw new PayloadTooLargeError(`Request body exceeds ${max} bytes`);
    }
    const text = decoder.decode(bytes);
    if (text.trim() === "") return null;
    try {
      return JSON.parse(text);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ValidationError(
        [{ loc: ["body"], msg: "JSON decode error", type: "json_invalid" }],
        `Malformed JSON body: ${reason}`,
      );
    }
  }) as unknown as Elysia;
}
