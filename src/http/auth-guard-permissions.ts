import { closedMethods, methodsByPath, segmentsOf } from "./routing.ts";
import { stripBasePath } from "./base-path.ts";
/**
 * What a route requires: a permission `resource:action`, `public` (no
 * credentials) or `authenticated` (any valid credentials).
 */
export type RoutePermission = string;

/** The route `detail` key under which a route declares its permission (an OpenAPI extension). */
export const PERMISSION_DETAIL_KEY = "x-chapkit-permission";

/** No credentials needed. */
export const PUBLIC: RoutePermission = "public";

/** Any authenticated caller. */
export const AUTHENTICATED: RoutePermission = "authenticated";

/**
 * Adds a permission to a route's `detail`, so the auth guard enforces it
 * without the module importing anything of auth.
 *
 * @example
 * ```ts ignore
 * app.post("/api/v1/ml/$train", train, { detail: withPermission(routeDetail(doc), "ml:train") });
 * ```
 */
export function withPermission(
  detail: Record<string, unknown>,
  permission: RoutePermission,
): Record<string, unknown> {
  return { ...detail, [PERMISSION_DETAIL_KEY]: permission };
}

/** A route as the guard sees it: method, path pattern and declared permission. */
export interface RouteEntry {
  /** Upper-case method, or `ALL`. */
  method: string;
  /** Elysia path pattern (`/api/v1/config/:entity_id`, `/docs/*`). */
  path: string;
  /** The permission declared in the route's detail, if any. */
  permission?: RoutePermission;
  /** Hidden from the docs (`detail.hide`), as the 405 answers of missing methods are. */
  hidden?: boolean;
}

interface CompiledPattern {
  segments: string[];
  wildcard: boolean;
  staticCount: number;
}

/** Compiles a path pattern (`:param` segments, a trailing `*`). */
function compile(path: string): CompiledPattern {
  const segments = segmentsOf(path);
  const wildcard = segments[segments.length - 1] === "*";
  if (wildcard) segments.pop();
  return { segments, wildcard, staticCount: segments.filter((s) => !s.startsWith(":")).length };
}

function matches(pattern: CompiledPattern, parts: string[]): boolean {
  if (pattern.wildcard ? parts.length < pattern.segments.length : parts.length !== pattern.segments.length) {
    return false;
  }
  return pattern.segments.every((segment, i) => segment.startsWith(":") || segment === parts[i]);
}

/** Scores a match so the most specific pattern wins (static before param before wildcard). */
function score(pattern: CompiledPattern): number {
  return pattern.staticCount * 4 + pattern.segments.length * 2 + (pattern.wildcard ? 0 : 1);
}

/** A `METHOD /path/pattern` table: the most specific matching entry wins. */
export class RouteTable<T> {
  readonly #entries: { method: string; pattern: CompiledPattern; value: T }[] = [];

  /** Adds an entry; `method` may be `ALL`. */
  add(method: string, path: string, value: T): void {
    this.#entries.push({ method: method.toUpperCase(), pattern: compile(path), value });
  }

  /** The value of the most specific entry matching the request (HEAD falls back to GET). */
  match(method: string, pathname: string): T | undefined {
    const parts = segmentsOf(pathname);
    const wanted = method.toUpperCase();
    let best: { value: T; score: number } | undefined;
    for (const entry of this.#entries) {
      const sameMethod = entry.method === wanted || (wanted === "HEAD" && entry.method === "GET");
      if (!sameMethod && entry.method !== "ALL") continue;
      if (!matches(entry.pattern, parts)) continue;
      // A method-specific entry beats an ALL entry of the same shape.
      const value = score(entry.pattern) * 2 + (sameMethod ? 1 : 0);
      if (!best || value > best.score) best = { value: entry.value, score: value };
    }
    return best?.value;
  }
}

const OPERATION_ACTIONS: Record<string, string> = {
  $train: "train",
  $predict: "predict",
  $execute: "execute",
  $cancel: "cancel",
};

/**
 * The conventional permission of a route under `apiPrefix` (`/api/v1`):
 * `<resource>:read` for GET and HEAD, `<resource>:write` for anything else,
 * where the resource is the first segment after the prefix; the operations
 * `$train`, `$predict`, `$execute` and `$cancel` map to their own action
 * (`ml:train`, `tasks:execute`…). Routes outside the prefix need only
 * authentication.
 */
export function conventionalPermission(method: string, pattern: string, apiPrefix = "/api/v1"): RoutePermission {
  const base = segmentsOf(apiPrefix);
  const parts = segmentsOf(pattern);
  if (parts.length <= base.length || !base.every((segment, i) => parts[i] === segment)) return AUTHENTICATED;
  const resource = parts[base.length]!;
  const last = parts[parts.length - 1]!;
  const action = OPERATION_ACTIONS[last];
  if (action) return `${resource}:${action}`;
  const verb = method.toUpperCase();
  return verb === "GET" || verb === "HEAD" ? `${resource}:read` : `${resource}:write`;
}

/** Options of {@link RoutePermissions}. */
export interface RoutePermissionsOptions {
  /** The app's routes; read lazily, once they are all registered. */
  routes: () => readonly RouteEntry[];
  /** Overrides keyed by `METHOD /path/pattern` (`*` as method matches any); they beat declarations. */
  overrides?: Record<string, RoutePermission>;
  /** Like `overrides`, but used only for routes that declare nothing (before the convention). */
  defaults?: Record<string, RoutePermission>;
  /** Where the REST API lives, for the convention (default `/api/v1`). */
  apiPrefix?: string;
}

/**
 * Resolves the permission a request needs from the route it hits: an
 * override for that route, else the permission the route declares in its
 * detail, else a default for that route, else {@link conventionalPermission}. A request that hits no route
 * needs only authentication (it then answers 404 or 405).
 */
export class RoutePermissions {
  readonly #options: RoutePermissionsOptions;
  readonly #overrides: RouteTable<RoutePermission>;
  readonly #defaults: RouteTable<RoutePermission>;
  #table: RouteTable<RoutePermission> | undefined;
  #size = -1;

  constructor(options: RoutePermissionsOptions) {
    this.#options = options;
    this.#overrides = tableOf(options.overrides);
    this.#defaults = tableOf(options.defaults);
  }

  /** The permission a request with this method and path needs. */
  resolve(method: string, pathname: string): RoutePermission {
    const override = this.#overrides.match(method, pathname);
    if (override !== undefined) return override;
    return this.#current().match(method, pathname) ?? AUTHENTICATED;
  }

  #current(): RouteTable<RoutePermission> {
    const listed = this.#options.routes();
    if (this.#table && listed.length === this.#size) return this.#table;
    const routes = withClosedMethods(listed);
    const table = new RouteTable<RoutePermission>();
    const visible = new Map<string, RoutePermission[]>();
    for (const route of routes) {
      if (route.hidden) continue;
      const list = visible.get(route.path) ?? [];
      list.push(route.permission ?? "");
      visible.set(route.path, list);
    }
    for (const route of routes) {
      // The 404 catch-all carries no permission of its own.
      if (route.path === "/*" && route.permission === undefined) continue;
      const siblings = visible.get(route.path);
      if (route.hidden && route.permission === undefined && siblings) {
        // A hidden route beside documented ones answers 405 for a missing method:
        // open where the path is open, otherwise any authenticated caller may learn it.
        table.add(route.method, route.path, siblings.includes(PUBLIC) ? PUBLIC : AUTHENTICATED);
        continue;
      }
      const permission = route.permission ??
        this.#defaults.match(route.method === "ALL" ? "GET" : route.method, route.path) ??
        conventionalPermission(route.method, route.path, this.#options.apiPrefix);
      table.add(route.method, route.path, permission);
    }
    this.#table = table;
    this.#size = listed.length;
    return table;
  }
}

/**
 * `routes` and, hidden, the 405 answers of the methods each path lacks
 * (`closeRoutes` answers them from its catch-all, not from routes of their own).
 */
function withClosedMethods(routes: readonly RouteEntry[]): RouteEntry[] {
  const out = [...routes];
  for (const [path, methods] of methodsByPath(routes)) {
    for (const method of closedMethods(methods)?.missing ?? []) {
      if (!routes.some((route) => route.path === path && route.method === method)) out.push({ method, path, hidden: true });
    }
  }
  return out;
}

function tableOf(source: Record<string, RoutePermission> | undefined): RouteTable<RoutePermission> {
  const table = new RouteTable<RoutePermission>();
  for (const [key, permission] of Object.entries(source ?? {})) {
    const [method = "*", path = "/"] = key.trim().split(/\s+/, 2);
    table.add(method === "*" ? "ALL" : method, path, permission);
  }
  return table;
}

/** Reads the route entries (with declared permissions) of an Elysia app's `routes`, paths relative to `basePath`. */
export function routeEntries(
  routes: readonly { method: string; path: string; hooks?: unknown }[],
  basePath = "",
): RouteEntry[] {
  return routes.map((route) => {
    const detail = (route.hooks as { detail?: Record<string, unknown> } | undefined)?.detail;
    const declared = detail?.[PERMISSION_DETAIL_KEY];
    const entry: RouteEntry = { method: route.method.toUpperCase(), path: stripBasePath(route.path, basePath) };
    if (typeof declared === "string") entry.permission = declared;
    if (detail?.hide === true) entry.hidden = true;
    return entry;
  });
}
