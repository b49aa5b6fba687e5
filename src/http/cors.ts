/**
 * CORS at the service's edge (off by default): preflights are answered
 * before routing, and answers to allowed origins carry the
 * `Access-Control-*` fields. The same origins are the ones the cross-site
 * write check of `request-context.ts` lets through.
 */
import type { Settings } from "../core/settings/schema.ts";

const SAFE_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";

/** The origin to echo in `Access-Control-Allow-Origin`, or undefined when `origin` is not allowed. */
export function allowedOrigin(origin: string | null, settings: Settings["cors"]): string | undefined {
  if (origin === null) return undefined;
  if (settings.origins.includes(origin)) return origin;
  if (settings.origins.includes("*")) return settings.credentials ? origin : "*";
  return undefined;
}

/** The answer to a CORS preflight (`OPTIONS` with `Access-Control-Request-Method`), or undefined for any other request. */
export function preflight(request: Request, settings: Settings["cors"]): Response | undefined {
  if (request.method !== "OPTIONS" || !request.headers.has("access-control-request-method")) return undefined;
  const origin = allowedOrigin(request.headers.get("origin"), settings);
  const headers = new Headers({ vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers" });
  if (origin !== undefined) {
    headers.set("access-control-allow-origin", origin);
    headers.set("access-control-allow-methods", SAFE_METHODS);
    headers.set("access-control-allow-headers", request.headers.get("access-control-request-headers") ?? "content-type");
    headers.set("access-control-max-age", String(settings.maxAgeSeconds));
    if (settings.credentials) headers.set("access-control-allow-credentials", "true");
  }
  return new Response(null, { status: 204, headers });
}

/** Adds the CORS fields for an allowed `Origin` to `response` (and `Vary: Origin` always). */
export function withCorsHeaders(request: Request, response: Response, settings: Settings["cors"]): Response {
  const origin = allowedOrigin(request.headers.get("origin"), settings);
  const headers = response.headers;
  headers.append("vary", "Origin");
  if (origin === undefined) return response;
  headers.set("access-control-allow-origin", origin);
  if (settings.credentials) headers.set("access-control-allow-credentials", "true");
  if (settings.exposeHeaders.length > 0) headers.set("access-control-expose-headers", settings.exposeHeaders.join(", "));
  return response;
}
