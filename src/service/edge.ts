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
import { type AnswerListener, LoadShedder, type NextHandler, timeoutFor } from "../http/overload.ts";
import { isHealthPath, isStreamRequest, matchesRoute, pathnameOf, servicePath } from "../http/request-class.ts";
import { compress } from "../http/compression.ts";
import { preflight, withCorsHeaders } from "../http/cors.ts";
import { prefersMsgpack, toMsgpackResponse } from "../http/negotiation.ts";
import { problemResponse } from "../http/problem-response.ts";
import { logCompletion } from "../http/request-context.ts";
import { toChapkitError } from "../core/errors.ts";
import type { Versioning } from "../http/versioning.ts";
import { VERSIONING_KEY } from "../http/versioning-key.ts";

/** Options of {@link installEdge}. */
export interface EdgeOptions {
  /** The prefix the service is mounted under (default none). */
  basePath?: string;
  /** Log `http.request.complete` of each answer with the context's logger (the request context's hook then does not). */
  logRequests?: boolean;
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

function hasRules(rules: Record<string, string>): boolean {
  for (const _ in rules) return true;
  return false;
}

/** Wraps `app.fetch` with the edge; returns what it installed. */
export function installEdge(app: AnyElysia, context: ServiceContext, options: EdgeOptions = {}): Edge {
  const basePath = options.basePath ?? "";
  const served = app.fetch as NextHandler;
  // Only a service with `withVersions()` pays for versions.
  const inner = context.has(VERSIONING_KEY) ? context.get<Versioning>(VERSIONING_KEY).wrap(served, basePath) : served;
  const shedder = new LoadShedder({ limits: () => context.settings.load });
  const protectedFetch = (request: Request, path: string, stream: boolean, onAnswer?: AnswerListener): Promise<Response> => {
    if (stream || isHealthPath(path)) return onAnswer ? inner(request).then((response) => (onAnswer(response), response)) : inner(request);
    const instance = pathnameOf(request.url);
    const timeoutMs = timeoutFor(context.settings.http, request.method, path);
    return shedder.run(request, inner, instance, "", timeoutMs, onAnswer);
  };
  // Until the answer is known nothing here awaits: the edge adds no async frame or microtask hop of its own.
  const answer = (request: Request, path: string, stream: boolean): Promise<Response> => {
    if (stream || !prefersMsgpack(request.headers.get("accept"))) return protectedFetch(request, path, stream);
    return protectedFetch(request, path, stream).then((response) =>
      toMsgpackResponse(response).catch((error: unknown) => problemResponse(toChapkitError(error), pathnameOf(request.url)))
    );
  };
  /** Whether the answer is exactly what the app gives: no CORS, compression, cache rule or MessagePack to apply. */
  const plainAnswer = (request: Request, stream: boolean): boolean => {
    const { cors, compression, http } = context.settings;
    return !cors.enabled && !compression.enabled && !hasRules(http.cacheControl) && (stream || !prefersMsgpack(request.headers.get("accept")));
  };
  const guarded = (request: Request): Promise<Response> => {
    const path = servicePath(request, basePath);
    return guardedAt(request, path, isStreamRequest(request, path));
  };
  const guardedAt = (request: Request, path: string, stream: boolean): Promise<Response> => {
    const { cors, compression, http } = context.settings;
    if (!cors.enabled && !compression.enabled) {
      const answered = answer(request, path, stream);
      return hasRules(http.cacheControl) ? answered.then((response) => withCacheControl(request, path, response, http.cacheControl)) : answered;
    }
    return corsAndCompression(request, path, stream);
  };
  const corsAndCompression = async (request: Request, path: string, stream: boolean): Promise<Response> => {
    const { cors, compression, http } = context.settings;
    if (cors.enabled) {
      const preflighted = preflight(request, cors);
      if (preflighted) return preflighted;
    }
    let response = withCacheControl(request, path, await answer(request, path, stream), http.cacheControl);
    if (compression.enabled && !stream) response = await compress(request, response, compression);
    return cors.enabled ? withCorsHeaders(request, response, cors) : response;
  };
  const logger = context.logger;
  const logged = (request: Request): Promise<Response> => {
    const started = performance.now();
    const path = servicePath(request, basePath);
    const stream = isStreamRequest(request, path);
    // The common case logs from the same callback that settles the request: one promise, not one per layer.
    if (plainAnswer(request, stream)) return protectedFetch(request, path, stream, (response) => logCompletion(logger, request, response, started));
    return guardedAt(request, path, stream).then((response) => {
      logCompletion(logger, request, response, started);
      return response;
    });
  };
  Object.defineProperty(app, "fetch", { value: options.logRequests ? logged : guarded, configurable: true, writable: true });
  return { shedder };
}
