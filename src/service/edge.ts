/**
 * The edge of a served service: what every request passes before Elysia
 * routes it. It wraps the app's `fetch` (which `handle`, `listen()` and
 * `Bun.serve`/`Deno.serve` all go through) with the overload protections of
 * `src/http/overload.ts`, reading the live settings on every request.
 */
import type { AnyElysia } from "elysia";
import type { ServiceContext } from "../http/module.ts";
import { LoadShedder, type NextHandler, timeoutFor, withTimeout } from "../http/overload.ts";
import { isHealthPath, isStreamRequest, pathnameOf, servicePath } from "../http/request-class.ts";

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

/** Wraps `app.fetch` with the edge; returns what it installed. */
export function installEdge(app: AnyElysia, context: ServiceContext, options: EdgeOptions = {}): Edge {
  const basePath = options.basePath ?? "";
  const inner = app.fetch as NextHandler;
  const shedder = new LoadShedder({ limits: () => context.settings.load });
  const guarded = (request: Request): Promise<Response> => {
    const path = servicePath(request, basePath);
    if (isHealthPath(path) || isStreamRequest(request, path)) return inner(request);
    const instance = pathnameOf(request.url);
    const timeoutMs = timeoutFor(context.settings.http, request.method, path);
    return shedder.run(request, (admitted) => withTimeout(admitted, inner, timeoutMs, instance), instance);
  };
  Object.defineProperty(app, "fetch", { value: guarded, configurable: true, writable: true });
  return { shedder };
}
