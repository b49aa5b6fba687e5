/**
 * The edge of a served service: what every request passes before Elysia
 * routes it. It wraps the app's `fetch` (which `handle`, `listen()` and
 * `Bun.serve`/`Deno.serve` all go through) with CORS (`src/http/cors.ts`),
 * the overload protections of `src/http/overload.ts`, API versions
 * (`src/http/versioning.ts`, when the service has them), MessagePack answers
 * (`src/http/negotiation.ts`) and compression (`src/http/compression.ts`),
 * reading the live settings on every request.
 */
import type { AnyElysia } from "elysia";
import type { ServiceContext } from "../http/module.ts";
import { LoadShedder, type NextHandler, timeoutFor, withTimeout } from "../http/overload.ts";
import { isHealthPath, isStreamRequest, matchesRoute, pathnameOf, servicePath } from "../http/request-class.ts";
import { compress } from "../http/compression.ts";
import { preflight, withCorsHeaders } from "../http/cors.ts";
import { prefersMsgpack, toMsgpackResponse } from "../http/negotiation.ts";
import { problemResponse } from "../http/problem-response.ts";
import { toChapkitError } from "../core/errors.ts";
import { type Versioning, VERSIONING_KEY } from "../http/versioning.ts";

/** Options of {@link installEdge}. */
export interface EdgeOptions {
  /** The prefix the service is mounted under (default none). */
  basePath?: string;
}

/** What the edge exposes for health, metrics and tests. */
export interface Edge {
  /** The in-flight cap and queue. */
  readonly shedder: LoadShedder;
}

/** Adds the `Cache-Control` of the first matching rule to a successful GET or HEAD answer that has none. */
function withCacheControl(request: Request, path: string, response: Response, rules: Record<string, string>): Response {
  if ((request.method !== "GET" && request.method !== "HEAD") || response.status < 200 || response.status >= 300) return response;
  if (response.headers.has("cache-control")) return response;
  for (const rule in rules) {
    if (matchesRoute(rule, request.method === "HEAD" ? "GET" : request.method, path)) {
      response.headers.set("cache-control", rules[rule]!);
      break;
    }
  }
  return response;
}

/** Wraps `app.fetch` with the edge; returns what it installed. */
export function installEdge(app: AnyElysia, context: ServiceContext, options: EdgeOptions = {}): Edge {
  const basePath = options.basePath ?? "";
  const served = app.fetch as NextHandler;
  // Only a service with `withVersions()` pays for versions.
  const inner = context.has(VERSIONING_KEY) ? context.get<Versioning>(VERSIONING_KEY).wrap(served, basePath) : served;
  const shedder = new LoadShedder({ limits: () => context.settings.load });
  const protectedFetch = (request: Request, path: string, stream: boolean): Promise<Response> => {
    if (stream || isHealthPath(path)) return inner(request);
    const instance = pathnameOf(request.url);
    const timeoutMs = timeoutFor(context.settings.http, request.method, path);
    return shedder.run(request, (admitted) => withTimeout(admitted, inner, timeoutMs, instance), instance);
  };
  const answer = async (request: Request, path: string, stream: boolean): Promise<Response> => {
    const response = await protectedFetch(request, path, stream);
    if (stream || !prefersMsgpack(request.headers.get("accept"))) return response;
    return toMsgpackResponse(response).catch((error: unknown) => problemResponse(toChapkitError(error), pathnameOf(request.url)));
  };
  const guarded = async (request: Request): Promise<Response> => {
    const { cors, compression, http } = context.settings;
    const path = servicePath(request, basePath);
    const stream = isStreamRequest(request, path);
    if (!cors.enabled && !compression.enabled) {
      return withCacheControl(request, path, await answer(request, path, stream), http.cacheControl);
    }
    if (cors.enabled) {
      const preflighted = preflight(request, cors);
      if (preflighted) return preflighted;
    }
    let response = withCacheControl(request, path, await answer(request, path, stream), http.cacheControl);
    if (compression.enabled && !stream) response = await compress(request, response, compression);
    return cors.enabled ? withCorsHeaders(request, response, cors) : response;
  };
  Object.defineProperty(app, "fetch", { value: guarded, configurable: true, writable: true });
  return { shedder };
}
