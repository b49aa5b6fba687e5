import { Elysia } from "elysia";
import { BadRequestError, UnsupportedMediaTypeError, ValidationError } from "../core/errors.ts";
import { DEFAULT_BODY_LIMITS, readBodyLimited, readTextLimited } from "./body-limit.ts";
import { decodeMsgpackBody, isMsgpackType } from "./negotiation.ts";

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

const rawBodies = new WeakMap<Request, string>();

/**
 * The exact text of a request's JSON body as it arrived, for checks that
 * need the bytes rather than the parsed value (a webhook signature):
 * available in handlers once the body was parsed; undefined for other
 * media types.
 */
export function rawJsonBody(request: Request): string | undefined {
  return rawBodies.get(request);
}

/** Deepest nesting of arrays and objects a JSON body may have. */
export const MAX_JSON_DEPTH = 64;

// Bodies a browser form (or a cross-site request) can send without a preflight.
const FORM_TYPES = new Set(["application/x-www-form-urlencoded", "multipart/form-data", "text/plain"]);

/** Whether a path takes a browser form: the page a mailed sign-in link opens, and a SAML identity provider, post one (its token or signature is the proof). */
function takesForm(url: string, type: string): boolean {
  const query = url.indexOf("?");
  return type === "application/x-www-form-urlencoded" && /\/(magic-link\/\$redeem|saml\/acs)\/*$/.test(query < 0 ? url : url.slice(0, query));
}

/** Whether a path takes raw bytes of any media type (`$upload`). */
function takesRawBody(url: string): boolean {
  const query = url.indexOf("?");
  return /\/\$upload\/*$/.test(query < 0 ? url : url.slice(0, query));
}

/** The deepest nesting of a JSON text, counted without parsing it (strings skipped). */
export function jsonDepth(text: string, limit: number = MAX_JSON_DEPTH): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 92) i++;
      else if (char === 34) inString = false;
    } else if (char === 34) {
      inString = true;
    } else if (char === 91 || char === 123) {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if (char === 93 || char === 125) {
      depth--;
    }
  }
  return deepest;
}

/**
 * JSON body parsing as clients of the contract expect it: bodies without a
 * `Content-Type` are read as JSON too, form types and `text/plain` answer
 * 415 (except on raw `$upload` routes), nesting deeper than
 * {@link MAX_JSON_DEPTH} answers 400, an empty body is `null` (a required
 * body then answers 422 `missing`), malformed JSON answers 422 `json_invalid`
 * and a body above the size limit answers 413 as soon as the bytes read pass
 * it (chunked bodies included). A MessagePack body (`application/msgpack`)
 * is read as its JSON equivalent, under the same limits. Other media types are left to the
 * framework's own parsers.
 */
export function jsonBody(options: JsonBodyOptions = {}): Elysia {
  const max = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return new Elysia().onParse({ as: "scoped" }, async ({ request, contentType }) => {
    if (contentType && !isJson(contentType)) {
      if (isMsgpackType(contentType)) return decodeMsgpackBody(await readBodyLimited(request, max), MAX_JSON_DEPTH);
      const type = contentType.split(";", 1)[0]!.trim().toLowerCase();
      if (FORM_TYPES.has(type) && !takesRawBody(request.url) && !takesForm(request.url, type)) {
        throw new UnsupportedMediaTypeError(`This route takes application/json, not ${type}`);
      }
      return undefined;
    }
    const text = await readTextLimited(request, max);
    rawBodies.set(request, text);
    if (text.trim() === "") return null;
    if (jsonDepth(text) > MAX_JSON_DEPTH) throw new BadRequestError(`JSON body nested deeper than ${MAX_JSON_DEPTH} levels`);
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
