import { type TObject, Type } from "@sinclair/typebox";
import { type AnyElysia, Elysia } from "elysia";
import { ForbiddenError, UnauthorizedError } from "../../core/errors.ts";
import { clientAddressOf } from "../../runtime/client-address.ts";
import { parseUlid } from "../../core/ulid.ts";
import { validateValue } from "../../core/validation.ts";
import { AUTHENTICATED, PUBLIC, withPermission } from "../../http/auth-guard-permissions.ts";
import { type AuthPrincipal, principalOf } from "../../http/auth-guard.ts";
import { crudRouter } from "../../http/crud/crud-router.ts";
import { requireBody } from "../../http/crud/operation.ts";
import { routeDetail, type RouteDoc } from "../../http/route-doc.ts";
import type { AuthManager, RequestOrigin } from "./manager.ts";
import { mfaRoutes } from "./mfa-routes.ts";
import { ApiKeyIn, ApiKeyOut, IssuedApiKeyOut, RoleIn } from "./schema.ts";

const LoginIn: TObject = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 128 }),
  password: Type.String({ minLength: 1, maxLength: 1024 }),
}, { title: "LoginIn" });
const RefreshIn: TObject = Type.Object({ refresh_token: Type.String({ minLength: 1, maxLength: 256 }) }, { title: "RefreshIn" });
const TokenOut: TObject = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal("bearer"),
  expires_in: Type.Integer(),
  refresh_token: Type.String(),
  refresh_expires_in: Type.Integer(),
  session_id: Type.String(),
}, { title: "TokenOut" });
const AuditQuery: TObject = Type.Object({
  page: Type.Integer({ minimum: 1, default: 1 }),
  size: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
  event: Type.Optional(Type.String({ maxLength: 64 })),
  outcome: Type.Optional(Type.Union([Type.Literal("success"), Type.Literal("failure")])),
});

/** The permission every auth administration route needs. */
export const AUTH_ADMIN = "auth:admin";

const RoleOut: TObject = Type.Object({
  name: Type.String(),
  inherits: Type.Array(Type.String()),
  permissions: Type.Array(Type.String()),
  description: Type.Union([Type.String(), Type.Null()]),
  effective_permissions: Type.Array(Type.String()),
}, { title: "RoleOut", examples: [{ name: "editor", inherits: ["viewer"], permissions: ["notes:write"], description: null, effective_permissions: ["notes:read", "notes:write"] }] });

type Ctx = { request: Request; body?: unknown; params: Record<string, string>; query: Record<string, unknown>; set: { status?: number | string; headers: Record<string, string | number> } };

/** Handlers are typed by their own context shape; route schemas are documented, not inferred. */
const h = (fn: (ctx: Ctx) => unknown): never => fn as never;

const NO_STORE = { "cache-control": "no-store" };

/** Where a request came from, for the audit log and the login throttle. */
export function requestOrigin(request: Request, path: string, trustProxy = false): RequestOrigin {
  return { method: request.method, path, userAgent: request.headers.get("user-agent"), address: clientAddressOf(request, { trustProxy }) };
}

function principal(request: Request): AuthPrincipal {
  const found = principalOf(request);
  if (!found) throw new UnauthorizedError();
  return found;
}

/** Refuses a tenant's principal: role changes and the audit log span every tenant. */
function platformOnly(request: Request): void {
  if (principalOf(request)?.tenantId) throw new ForbiddenError("Only a principal without tenant may use this route");
}

const noContent = (): Response => new Response(null, { status: 204 });

/** Options of {@link authRoutes}. */
export interface AuthRoutesOptions {
  /** Route prefix (default `/api/v1/auth`). */
  prefix?: string;
  /** OpenAPI tags (default `["auth"]`). */
  tags?: string[];
  /** Take the client address from `X-Forwarded-For` (only behind a proxy that sets it; default false). */
  trustProxy?: boolean;
}

/**
 * The auth routes: `login`, `refresh`, `logout`, `me`, `sessions` (own, or
 * any user's for administrators), and the administration of `keys`, `users`,
 * `roles` and the `audit` log (`auth:admin`).
 */
export function authRoutes(auth: AuthManager, options: AuthRoutesOptions = {}): AnyElysia {
  const prefix = options.prefix ?? "/api/v1/auth";
  const tags = options.tags ?? ["auth"];
  const doc = (permission: string, route: Omit<RouteDoc, "tags">) => ({ detail: withPermission(routeDetail({ ...route, tags }), permission) });
  const app: AnyElysia = new Elysia();

  app.post(`${prefix}/login`, h(async ({ request, body, set }: Ctx) => {
    const input = validateValue<{ username: string; password: string }>(LoginIn, requireBody(body));
    Object.assign(set.headers, NO_STORE);
    return auth.signIn(input.username, input.password, requestOrigin(request, `${prefix}/login`, options.trustProxy));
  }), doc(PUBLIC, {
    summary: "Log in",
    description: "Exchanges a username and password for an access and a refresh token. A user with TOTP (or of a role that requires it) gets `{mfa_required, enrollment_required, mfa_token}` instead: complete it at `mfa/$verify` (or enrol at `mfa/totp/$enroll` and `$confirm`).",
    body: LoginIn,
    response: TokenOut,
  }));

  app.post(`${prefix}/refresh`, h(async ({ request, body, set }: Ctx) => {
    const input = validateValue<{ refresh_token: string }>(RefreshIn, requireBody(body));
    Object.assign(set.headers, NO_STORE);
    return auth.refresh(input.refresh_token, requestOrigin(request, `${prefix}/refresh`));
  }), doc(PUBLIC, { summary: "Refresh tokens", description: "Spends a refresh token for a new pair; a reused token revokes its session.", body: RefreshIn, response: TokenOut }));

  app.post(`${prefix}/logout`, h(async ({ request }: Ctx) => {
    await auth.logout(principal(request), requestOrigin(request, `${prefix}/logout`));
    return noContent();
  }), doc(AUTHENTICATED, { summary: "Log out", description: "Revokes the current session.", status: 204 }));

  app.use(mfaRoutes(auth, { prefix, tags, origin: (request, path) => requestOrigin(request, path, options.trustProxy) }));

  app.get(`${prefix}/me`, h(({ request }: Ctx) => {
    const who = principal(request);
    return { kind: who.kind, id: who.id, name: who.name, role: who.role, scopes: who.scopes ?? null, permissions: auth.roles.permissionsOf(who.role) };
  }), doc(AUTHENTICATED, { summary: "Who am I", response: Type.Object({}, { additionalProperties: true }) }));

  app.get(`${prefix}/sessions`, h(({ request, query }: Ctx) => {
    const who = principal(request);
    const wanted = typeof query.user_id === "string" ? query.user_id : undefined;
    if (wanted !== undefined && wanted !== who.id && !auth.authorize(who, AUTH_ADMIN)) throw new ForbiddenError(`Permission ${AUTH_ADMIN} required`);
    if (wanted === undefined && who.kind !== "user") return [];
    return auth.sessions.listFor(wanted ?? who.id);
  }), doc(AUTHENTICATED, {
    summary: "List sessions",
    description: "The caller's sessions; `?user_id=` (administrators) another user's.",
    query: Type.Object({ user_id: Type.Optional(Type.String({ examples: ["01K79YAHJ7BR4E87VVTG8FNBMA"] })) }),
  }));

  app.delete(`${prefix}/sessions/:session_id`, h(async ({ request, params }: Ctx) => {
    const who = principal(request);
    const id = parseUlid(params.session_id ?? "", `${prefix}/sessions/${params.session_id}`);
    const session = await auth.sessions.require(id);
    if (session.user_id !== who.id && !auth.authorize(who, AUTH_ADMIN)) throw new ForbiddenError(`Permission ${AUTH_ADMIN} required`);
    await auth.sessions.revoke(id, "revoked");
    await auth.audit.record({ event: "auth.session.revoked", outcome: "success", actor: who, target: id, method: "DELETE", path: `${prefix}/sessions/${id}` });
    return noContent();
  }), doc(AUTHENTICATED, { summary: "Revoke a session", status: 204 }));

  app.post(`${prefix}/keys`, h(async ({ request, body, set }: Ctx) => {
    const who = principal(request);
    const issued = await auth.keys.issue(requireBody(body), who);
    await auth.audit.record({ event: "auth.key.issued", outcome: "success", actor: who, target: issued.id, method: "POST", path: `${prefix}/keys`, details: { name: issued.name, role: issued.role, scopes: issued.scopes } });
    set.status = 201;
    Object.assign(set.headers, NO_STORE);
    return issued;
  }), doc(AUTH_ADMIN, { summary: "Issue an API key", description: "The `key` is shown in this response only.", body: ApiKeyIn, response: IssuedApiKeyOut, status: 201 }));

  app.get(`${prefix}/keys`, () => auth.keys.list(), doc(AUTH_ADMIN, { summary: "List API keys", response: Type.Array(ApiKeyOut) }));

  app.get(`${prefix}/keys/:key_id`, h(({ params }: Ctx) => auth.keys.get(parseUlid(params.key_id ?? "", `${prefix}/keys/${params.key_id}`))), doc(AUTH_ADMIN, { summary: "Get an API key", response: ApiKeyOut }));

  app.delete(`${prefix}/keys/:key_id`, h(async ({ request, params }: Ctx) => {
    const who = principal(request);
    const id = parseUlid(params.key_id ?? "", `${prefix}/keys/${params.key_id}`);
    const revoked = await auth.keys.revoke(id);
    await auth.audit.record({ event: "auth.key.revoked", outcome: "success", actor: who, target: id, method: "DELETE", path: `${prefix}/keys/${id}`, details: { name: revoked.name } });
    return noContent();
  }), doc(AUTH_ADMIN, { summary: "Revoke an API key", status: 204 }));

  app.get(`${prefix}/roles`, () =>
    auth.roles.entries().map(([name, role]) => ({
      name,
      inherits: role.inherits ?? [],
      permissions: role.permissions,
      description: role.description ?? null,
      effective_permissions: auth.roles.permissionsOf(name),
    })), doc(AUTH_ADMIN, { summary: "List roles", response: Type.Array(RoleOut) }));

  app.post(`${prefix}/roles`, h(async ({ request, body }: Ctx) => {
    platformOnly(request);
    const saved = await auth.saveRole(requireBody(body));
    await auth.audit.record({ event: "auth.role.changed", outcome: "success", actor: principal(request), target: saved.name, method: "POST", path: `${prefix}/roles`, details: { permissions: saved.permissions, inherits: saved.inherits } });
    return saved;
  }), doc(AUTH_ADMIN, { summary: "Create or replace a custom role", body: RoleIn, response: RoleIn }));

  app.delete(`${prefix}/roles/:name`, h(async ({ request, params }: Ctx) => {
    platformOnly(request);
    await auth.deleteRole(params.name ?? "");
    await auth.audit.record({ event: "auth.role.changed", outcome: "success", actor: principal(request), target: params.name ?? null, method: "DELETE", path: `${prefix}/roles/${params.name}`, details: { deleted: true } });
    return noContent();
  }), doc(AUTH_ADMIN, { summary: "Delete a custom role", status: 204 }));

  app.get(`${prefix}/audit`, h(({ request, query }: Ctx) => {
    platformOnly(request);
    const input = validateValue<{ page: number; size: number; event?: string; outcome?: string }>(AuditQuery, query, { loc: ["query"] });
    return auth.audit.page(input.page, input.size, { ...(input.event ? { event: input.event } : {}), ...(input.outcome ? { outcome: input.outcome } : {}) });
  }), doc(AUTH_ADMIN, { summary: "List audit events", description: "Newest first, paginated.", query: AuditQuery }));

  app.post(`${prefix}/users/:entity_id/$unlock`, h(async ({ request, params }: Ctx) => {
    const id = parseUlid(params.entity_id ?? "", `${prefix}/users/${params.entity_id}/$unlock`);
    await auth.unlock(id);
    await auth.audit.record({ event: "auth.user.unlocked", outcome: "success", actor: principal(request), target: id, method: "POST", path: `${prefix}/users/${id}/$unlock` });
    return noContent();
  }), doc(AUTH_ADMIN, { summary: "Unlock a user", description: "Lifts every failed-login wait and lock of the user, from every address.", status: 204 }));

  // No one makes a user who holds more than they do.
  const usersApp = new Elysia().onBeforeHandle(({ request, body }) => {
    if (request.method === "GET" || request.method === "HEAD" || request.method === "DELETE") return;
    const items = Array.isArray(body) ? body : [body];
    for (const item of items) {
      const role = item !== null && typeof item === "object" ? (item as { role?: unknown }).role : undefined;
      if (typeof role === "string" && auth.roles.has(role) && !auth.roles.canGrant(principal(request), role, null)) {
        throw new ForbiddenError(`A user with role ${role} would hold permissions you lack`);
      }
    }
  });
  app.use(usersApp.use(crudRouter({ prefix: `${prefix}/users`, manager: auth.users, tags, entityName: "user" })));
  return app;
}
