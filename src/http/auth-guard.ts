import { Elysia } from "elysia";
import type { AuthBackend } from "./auth-backend.ts";
import { ChapkitError, ForbiddenError, UnauthorizedError } from "../core/errors.ts";
import { AUTHENTICATED, PUBLIC, type RoutePermissions } from "./auth-guard-permissions.ts";
import { requestPath } from "./base-path.ts";
import { problemResponse } from "./problem-response.ts";
import type { RowAccess } from "./row-policy.ts";

/** Who made a request, once authenticated. */
export interface AuthPrincipal {
  /**
   * `user` (a bearer token), `api_key` (an issued key), `static_key` (from
   * the environment) or `external` (vouched for by another {@link AuthBackend}
   * such as a trusted gateway header).
   */
  kind: "user" | "api_key" | "static_key" | "external";
  /** The user's or key's id. */
  id: string;
  /** The username or key name (never the secret). */
  name: string;
  /** The role whose permissions apply. */
  role: string;
  /** Scopes narrowing the role (API keys); null or absent means the whole role. */
  scopes?: string[] | null;
  /** The session a bearer token belongs to. */
  sessionId?: string;
  /** The tenant the principal belongs to (multi-tenant services); null or absent: none. */
  tenantId?: string | null;
}

/** The paths open without credentials by default. */
export const DEFAULT_PUBLIC_PATHS: readonly string[] = [
  "/",
  "/docs",
  "/docs/*",
  "/openapi.json",
  "/api/v1/health",
  "/health/live",
  "/health/ready",
  "/api/v1/info",
];

/** Options of {@link authGuard}. */
export interface AuthGuardOptions {
  /** Resolves the permission each request needs. */
  permissions: RoutePermissions;
  /** Reads credentials: a principal, null when there are none; throws 401/429 when they are bad. */
  authenticate(request: Request): Promise<AuthPrincipal | null>;
  /** Whether the principal holds the permission. */
  authorize(principal: AuthPrincipal, permission: string): boolean;
  /**
   * Lets a request through without credentials when it proves itself
   * otherwise (e.g. the metrics scrape token on `/metrics`); `path` is
   * relative to the base path.
   */
  admit?(request: Request, path: string): boolean;
  /** Called when an authenticated principal is refused (e.g. to audit it). */
  onDenied?(principal: AuthPrincipal, permission: string, request: Request): void | Promise<void>;
  /** Exact paths, or prefixes ending in `/*`, open without credentials (default {@link DEFAULT_PUBLIC_PATHS}). */
  publicPaths?: readonly string[];
  /**
   * Where the service is mounted inside a host app (default `""`): paths
   * outside it are left alone (the guard's hook sees the host's requests
   * too), and the prefix is removed before routes are matched.
   */
  basePath?: string;
  /** Row-level access to tell which request each store call serves (row policies, tenancy); absent: nothing is recorded. */
  rowAccess?: RowAccess;
}

/**
 * The service-context key under which modules provide extra admission rules
 * (an array of {@link AuthGuardOptions.admit} functions) to the auth guard.
 */
export const AUTH_ADMIT_KEY = "auth.admit";

/** An admission rule: whether a request may pass without credentials. */
export type AdmitRule = (request: Request, path: string) => boolean;

const principals = new WeakMap<Request, AuthPrincipal>();
const authorizers = new WeakMap<Request, (permission: string) => boolean>();

/** The principal the guard authenticated for this request, if any. */
export function principalOf(request: Request): AuthPrincipal | undefined {
  return principals.get(request);
}

/**
 * Refuses a request whose authenticated caller lacks `permission`, for
 * checks that depend on the body (creating a shell task needs
 * `tasks:shell`). A request the guard did not authenticate (a service
 * without auth, or a public route) passes.
 *
 * @throws {ForbiddenError} when the caller's role and scopes do not grant it.
 */
export function requirePermission(request: Request, permission: string, instance?: string): void {
  const authorize = authorizers.get(request);
  if (!authorize || authorize(permission)) return;
  throw new ForbiddenError(`Permission ${permission} required`, instance === undefined ? {} : { instance });
}

function normalise(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  return trimmed === "" ? "/" : trimmed;
}

/** Whether a path is open: an exact entry, or under an entry ending in `/*`. */
export function isPublicPath(path: string, publicPaths: readonly string[]): boolean {
  const wanted = normalise(path);
  return publicPaths.some((entry) => {
    if (entry.endsWith("/*")) {
      const prefix = normalise(entry.slice(0, -2));
      return wanted === prefix || wanted.startsWith(prefix === "/" ? "/" : `${prefix}/`);
    }
    return wanted === normalise(entry);
  });
}

/**
 * Denies every request by default: public paths pass, every other request
 * needs credentials (401 `unauthorized` with `WWW-Authenticate` otherwise)
 * and the permission of the route it hits (403 `forbidden` otherwise). Runs
 * at `onRequest`, before routing and body parsing, for every route of the app
 * it is used in (whatever the registration order). The principal is then
 * available to handlers through {@link principalOf}.
 */
export function authGuard(options: AuthGuardOptions): Elysia {
  const publicPaths = options.publicPaths ?? DEFAULT_PUBLIC_PATHS;
  const base = options.basePath ? normalise(options.basePath) : "";
  const guard = async (request: Request, path: string): Promise<void> => {
    if (isPublicPath(path, publicPaths) || options.admit?.(request, path)) return;
    const permission = options.permissions.resolve(request.method, path);
    if (permission === PUBLIC) return;
    const principal = await options.authenticate(request);
    if (!principal) throw new UnauthorizedError("Authentication required", { instance: path });
    principals.set(request, principal);
    authorizers.set(request, (wanted) => options.authorize(principal, wanted));
    if (permission === AUTHENTICATED || options.authorize(principal, permission)) return;
    await options.onDenied?.(principal, permission, request);
    throw new ForbiddenError(`Permission ${permission} required`, { instance: path });
  };
  const rowAccess = options.rowAccess;
  const app = new Elysia({ name: "chapkit-auth-guard" });
  if (rowAccess) app.onAfterResponse({ as: "global" }, () => rowAccess.leave());
  return app.onRequest(async ({ request, set }) => {
    const full = requestPath(request.url);
    if (base && full !== base && !full.startsWith(`${base}/`)) return;
    // Before the first await, so handlers and store calls of this request see it.
    rowAccess?.enter(request);
    if (!base) return guard(request, full);
    try {
      await guard(request, full.slice(base.length) || "/");
    } catch (error) {
      // Embedded, it answers itself: before routing, the host's error handler would get the error, not the service's.
      if (!(error instanceof ChapkitError)) throw error;
      const response = problemResponse(error, full, base);
      for (const [name, value] of Object.entries(set.headers)) {
        if (typeof value === "string" && !response.headers.has(name)) response.headers.set(name, value);
      }
      return response;
    }
  }) as unknown as Elysia;
}
