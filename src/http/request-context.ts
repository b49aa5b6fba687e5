import { Elysia } from "elysia";
import { type ChapkitError, ForbiddenError } from "../core/errors.ts";
import type { Logger } from "../core/logging.ts";
import { assignCursorSecret } from "./cursor-secret.ts";
import { assignBodyLimit, type BodyLimits, bodyLimitFor, bodyTooLarge, DEFAULT_BODY_LIMITS } from "./body-limit.ts";
import { isUnderBasePath, requestPath } from "./base-path.ts";
import { problemResponse } from "./problem-response.ts";
import { pathnameOf } from "./request-class.ts";
import { REQUEST_ID_HEADER, resolveRequestId } from "./request-id.ts";

/** Options of {@link requestContext}. */
export interface RequestContextOptions {
  /** The logger of request events. */
  logger?: Logger;
  /** Log one `http.request.complete` line per request at info level, and `http.request.start` at debug (default false). */
  logRequests?: boolean;
  /**
   * Where `http.request.complete` is written when `logRequests` is on: an
   * after-response hook (default), or, with `false`, by the server's fetch
   * wrapper through {@link logCompletion} (no hook scheduled per request).
   */
  completionHook?: boolean;
  /**
   * Body limits by kind of route (default {@link DEFAULT_BODY_LIMITS}): a
   * `Content-Length` above the route's limit answers 413 before routing, and
   * body parsers stop reading at it.
   */
  bodyLimits?: Partial<BodyLimits>;
  /** Shorthand for `bodyLimits.json`. */
  maxBodyBytes?: number;
  /** `Strict-Transport-Security` max-age in seconds on every response; 0 or absent: none (set it only behind HTTPS). */
  hstsMaxAge?: number;
  /**
   * Origins besides the service's own whose browsers may send state-changing
   * requests (e.g. the CORS origins). A `POST`, `PUT`, `PATCH` or `DELETE`
   * whose `Origin` is neither answers 403: cross-site request forgery
   * against services without auth. Requests without `Origin` pass.
   */
  allowedOrigins?: readonly string[];
  /** The secret that signs list cursors (HMAC), so every instance accepts the others' cursors. */
  cursorSecret?: string;
  /**
   * The prefix the service is mounted under: a host app's requests outside
   * it are left alone (the hook runs before routing, for the host's too).
   */
  basePath?: string;
}

/** Headers on every response: no MIME sniffing, no referrer leaking paths to other sites. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

// When each logged request started; keyed by the request, so the hooks read only what they name
// (a hook taking the whole context makes Elysia build all of it, cookies included, for every request).
const started = new WeakMap<Request, number>();

/**
 * Per-request plumbing: every response carries `X-Request-ID`, the
 * {@link SECURITY_HEADERS} and, when configured, HSTS (an incoming
 * id of 1–128 characters from `[A-Za-z0-9._-]` is kept, otherwise a fresh
 * ULID), oversized bodies are refused by their `Content-Length`, and, when
 * enabled, each request logs one `http.request.complete` line at info
 * (`method`, `path`, `status_code`, `duration_ms`) and `http.request.start`
 * at debug. Nothing is allocated for logs when request logging is off.
 */
export function requestContext(options: RequestContextOptions = {}): Elysia {
  const { logger } = options;
  const allowed = new Set((options.allowedOrigins ?? []).map((origin) => origin.replace(/\/+$/, "")));
  const security: Record<string, string> = { ...SECURITY_HEADERS };
  if (options.hstsMaxAge) security["strict-transport-security"] = `max-age=${Math.floor(options.hstsMaxAge)}; includeSubDomains`;
  const limits: BodyLimits = {
    ...DEFAULT_BODY_LIMITS,
    ...(options.maxBodyBytes === undefined ? {} : { json: options.maxBodyBytes }),
    ...options.bodyLimits,
  };
  const basePath = options.basePath ?? "";
  const logRequests = options.logRequests === true && logger !== undefined;
  // Answers before routing carry what every response carries.
  const refuse = (request: Request, id: string, error: ChapkitError): Response => {
    const response = problemResponse(error, requestPath(request.url));
    for (const [name, value] of Object.entries({ ...security, [REQUEST_ID_HEADER]: id })) response.headers.set(name, value);
    return response;
  };
  const app = new Elysia().onRequest(({ request, set }) => {
    if (basePath && !isUnderBasePath(requestPath(request.url), basePath)) return;
    const id = resolveRequestId(request.headers.get(REQUEST_ID_HEADER));
    const headers = set.headers;
    headers[REQUEST_ID_HEADER] = id;
    for (const name in security) headers[name] = security[name]!;
    if (options.cursorSecret !== undefined) assignCursorSecret(request, options.cursorSecret);
    if (UNSAFE_METHODS.has(request.method)) {
      const origin = request.headers.get("origin");
      if (origin !== null && !allowed.has(origin) && origin !== new URL(request.url).origin) {
        return refuse(request, id, new ForbiddenError(`Cross-site request refused: origin ${origin.slice(0, 200)} is not allowed to change this service`));
      }
    }
    if (request.body !== null) {
      const path = requestPath(request.url);
      const limit = bodyLimitFor(path, limits);
      assignBodyLimit(request, limit);
      const length = request.headers.get("content-length");
      if (length !== null && Number(length) > limit) {
        return refuse(request, id, bodyTooLarge(limit));
      }
    }
    if (logRequests) {
      if (options.completionHook !== false) started.set(request, performance.now());
      if (logger!.enabled?.("debug") !== false) logger!.debug("http.request.start", { request_id: id, method: request.method, path: requestPath(request.url) });
    }
  });
  if (!logRequests || options.completionHook === false) return app as unknown as Elysia;
  return app.onAfterResponse({ as: "scoped" }, ({ request, set, path, responseValue }) => {
    const start = started.get(request);
    const status = responseValue instanceof Response ? responseValue.status : Number(set.status ?? 200);
    logger!.info("http.request.complete", {
      request_id: set.headers[REQUEST_ID_HEADER],
      method: request.method,
      path,
      status_code: status,
      duration_ms: start === undefined ? 0 : Math.round((performance.now() - start) * 100) / 100,
    });
  }) as unknown as Elysia;
}

/**
 * Writes the `http.request.complete` line of an answered request, as the
 * hook of {@link requestContext} does: its id is the answer's
 * `X-Request-ID`, its status the answer's, its duration counted from
 * `startedMs` (`performance.now()` when the request came in).
 */
export function logCompletion(logger: Logger, request: Request, response: Response, startedMs: number): void {
  logger.info("http.request.complete", {
    request_id: response.headers.get(REQUEST_ID_HEADER) ?? undefined,
    method: request.method,
    path: pathnameOf(request.url),
    status_code: response.status,
    duration_ms: Math.round((performance.now() - startedMs) * 100) / 100,
  });
}
