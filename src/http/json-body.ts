import { Elysia } from "elysia";
import { ValidationError } from "../core/errors.ts";
import { DEFAULT_BODY_LIMITS, readBodyLimited } from "./body-limit.ts";

/** Options of {@link jsonBody}. */
export interface JsonBodyOptions {
  /** Largest accepted body in bytes when the request has no limit of its own (default 10 MiB). */
  maxBodyBytes?: number;
}

/** The default largest JSON request body: 10 MiB. */
export const DEFAULT_MAX_BODY_BYTES: number = DEFAULT_BODY_LIMITS.json;

function isJson(contentType: string): boolean {
  const type = contentType.split(";", 1)[0]!.trim().toLowerCase();
  return type === "application/json" || (type.startsWith("application/") && type.endsWith("+json"));
}

const decoder = new TextDecoder();

/**
 * JSON body parsing as clients of the contract expect it: bodies without a
 * `Content-Type` are read as JSON too, an empty body is `null` (a required
 * body then answers 422 `missing`), malformed JSON answers 422 `json_invalid`
 * and a body above the size limit answers 413 as soon as the bytes read pass
 * it (chunked bodies included). Other media types are left to the
 * framework's own parsers.
 */
export function jsonBody(options: JsonBodyOptions = {}): Elysia {
  const max = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return new Elysia().onParse({ as: "scoped" }, async ({ request, contentType }) => {
    if (contentType && !isJson(contentType)) return undefined;
    const bytes = await readBodyLimited(request, max);
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
