import type { AnyElysia } from "elysia";
import { MethodNotAllowedError, NotFoundError } from "../core/errors.ts";
import { addRoute } from "./_route.ts";
import { stripBasePath } from "./base-path.ts";

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
const HIDDEN: Record<string, unknown> = { detail: { hide: true } };

/**
 * Adds, for every path of `app`, routes that answer 405
 * `method-not-allowed` (with `Allow`) to the methods the path lacks, then
 * a catch-all that answers 404 `not-found`. Call it once, after every route
 * is registered. A path left with no route at all answers 404.
 */
export function closeRoutes<App extends AnyElysia>(app: App): App {
  // Routes are listed with the app's prefix, and `addRoute` adds it again.
  const prefix = (app.config as { prefix?: string }).prefix ?? "";
  const methodsByPath = new Map<string, Set<string>>();
  for (const route of app.routes) {
    if (route.path.includes("*")) continue;
    const path = stripBasePath(route.path, prefix);
    const methods = methodsByPath.get(path) ?? new Set<string>();
    methods.add(route.method.toUpperCase());
    methodsByPath.set(path, methods);
  }
  for (const [path, methods] of methodsByPath) {
    if (methods.has("ALL")) continue;
    const allow: string[] = METHODS.filter((method) => methods.has(method));
    if (methods.has("GET")) allow.splice(1, 0, "HEAD");
    if (allow.length === 0) continue;
    // Elysia answers HEAD with a path's GET route when it has one, so a HEAD-only path (tus) gets no GET 405.
    const missing: string[] = METHODS.filter((method) => !methods.has(method) && !(method === "GET" && methods.has("HEAD")));
    if (!methods.has("GET") && !methods.has("HEAD")) missing.push("HEAD");
    for (const method of missing) {
      addRoute(app, method, path, () => {
        throw new MethodNotAllowedError(method, allow);
      }, HIDDEN);
    }
  }
  addRoute(app, "ALL", "/*", () => {
    throw new NotFoundError("Not Found");
  }, HIDDEN);
  return app;
}
