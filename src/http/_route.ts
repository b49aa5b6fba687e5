import type { AnyElysia } from "elysia";

/** A route handler; its context is typed by the caller. */
export type RouteHandler = (context: never) => unknown;

interface RouteTable {
  route(method: string, path: string, handler: RouteHandler, hook?: Record<string, unknown>): unknown;
}

/** Registers a route on any Elysia instance without path-template typing. */
export function addRoute(
  app: AnyElysia,
  method: string,
  path: string,
  handler: RouteHandler,
  hook: Record<string, unknown> = {},
): void {
  (app as unknown as RouteTable).route(method, path, handler, hook);
}
