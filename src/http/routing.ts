import type { AnyElysia } from "elysia";
import { MethodNotAllowedError, NotFoundError } from "../core/errors.ts";
import { addRoute } from "./_route.ts";
import { stripBasePath } from "./base-path.ts";

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
const HIDDEN: Record<string, unknown> = { detail: { hide: true } };

/** The methods a path with routes for `methods` answers 405 to, and its `Allow`; undefined when it answers none. */
export function closedMethods(methods: ReadonlySet<string>): { allow: string[]; missing: string[] } | undefined {
  if (methods.has("ALL")) return undefined;
  const allow: string[] = METHODS.filter((method) => methods.has(method));
  if (methods.has("GET")) allow.splice(1, 0, "HEAD");
  if (allow.length === 0) return undefined;
  // Elysia answers HEAD with a path's GET route when it has one, so a HEAD-only path (tus) gets no GET 405.
  const missing: string[] = METHODS.filter((method) => !methods.has(method) && !(method === "GET" && methods.has("HEAD")));
  if (!methods.has("GET") && !methods.has("HEAD")) missing.push("HEAD");
  return { allow, missing };
}

/** The methods of each path of `routes` (wildcard paths left out), paths as listed. */
export function methodsByPath(routes: readonly { method: string; path: string }[]): Map<string, Set<string>> {
  const byPath = new Map<string, Set<string>>();
  for (const route of routes) {
    if (route.path.includes("*")) continue;
    let methods = byPath.get(route.path);
    if (!methods) byPath.set(route.path, methods = new Set<string>());
    methods.add(route.method.toUpperCase());
  }
  return byPath;
}

/** The non-empty `/`-separated segments of a path or route template. */
export function segmentsOf(path: string): string[] {
  return path.split("/").filter((segment) => segment.length > 0);
}

/** Whether a route template (`:param` segments, a trailing `*`) matches a path's segments. */
function templateMatches(template: readonly string[], parts: readonly string[]): boolean {
  const wildcard = template[template.length - 1] === "*";
  const fixed = wildcard ? template.length - 1 : template.length;
  if (wildcard ? parts.length < fixed : parts.length !== fixed) return false;
  for (let i = 0; i < fixed; i++) {
    const segment = template[i]!;
    if (segment.startsWith(":")) {
      if (segment.endsWith("?")) return false;
      continue;
    }
    if (segment !== parts[i]) return false;
  }
  return true;
}

/** Whether template `a` is more specific than `b` for the router: a static segment beats a parameter at the first difference. */
function moreSpecific(a: readonly string[], b: readonly string[]): boolean {
  for (let i = 0; i < a.length && i < b.length; i++) {
    const aParam = a[i]!.startsWith(":");
    const bParam = b[i]!.startsWith(":");
    if (aParam !== bParam) return bParam;
  }
  return false;
}

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

interface ClosedPath {
  template: string;
  segments: string[];
  allow: string[];
  missing: Set<string>;
}

/**
 * Adds, for every path of `app`, the answer 405 `method-not-allowed` (with
 * `Allow`) to the methods the path lacks, then a catch-all that answers 404
 * `not-found`. Call it once, after every route is registered. A path left
 * with no route at all answers 404.
 *
 * The catch-all answers both: a request no route took whose path matches a
 * path's template, with one of the methods it lacks, gets that path's 405
 * (of the most specific such template, as the router would pick it). A missing method
 * that another route would take (a parameter or wildcard route of that method
 * matching the path) gets a route of its own, so the 405 still wins there.
 * One catch-all instead of a route per missing method keeps the route table,
 * and so start-up, small.
 */
export function closeRoutes<App extends AnyElysia>(app: App): App {
  // Routes are listed with the app's prefix, and `addRoute` adds it again.
  const prefix = (app.config as { prefix?: string }).prefix ?? "";
  const routes = app.routes.map((route) => ({ method: route.method.toUpperCase(), segments: segmentsOf(route.path), path: route.path }));
  const closed: ClosedPath[] = [];
  for (const [path, methods] of methodsByPath(app.routes)) {
    const answer = closedMethods(methods);
    if (!answer) continue;
    const segments = segmentsOf(path);
    const optional = segments.some((segment) => segment.startsWith(":") && segment.endsWith("?"));
    const missing = new Set<string>();
    for (const method of answer.missing) {
      // Another route of this method (or of every method) that takes this path literally would answer instead of the catch-all.
      const taken = optional || routes.some((route) =>
        route.path !== path && (route.method === method || route.method === "ALL") && templateMatches(route.segments, segments)
      );
      if (taken) {
        const allow = answer.allow;
        addRoute(app, method, stripBasePath(path, prefix), () => {
          throw new MethodNotAllowedError(method, allow);
        }, HIDDEN);
      } else {
        missing.add(method);
      }
    }
    if (missing.size > 0 && !optional) closed.push({ template: path, segments, allow: answer.allow, missing });
  }
  addRoute(app, "ALL", "/*", (context: { request: Request; path?: string; route?: string }) => {
    const method = context.request.method.toUpperCase();
    const raw = segmentsOf(context.path ?? new URL(context.request.url).pathname);
    const parts = raw.map(decoded);
    // As the router would pick among routes of this method: the most specific template that lacks it.
    let best: ClosedPath | undefined;
    for (const path of closed) {
      if (!path.missing.has(method)) continue;
      if (!templateMatches(path.segments, parts) && !templateMatches(path.segments, raw)) continue;
      if (!best || moreSpecific(path.segments, best.segments)) best = path;
    }
    if (best) {
      // Metrics and traces label the answer with the path's template, as a route of its own would.
      context.route = best.template;
      throw new MethodNotAllowedError(method, best.allow);
    }
    throw new NotFoundError("Not Found");
  }, HIDDEN);
  return app;
}
