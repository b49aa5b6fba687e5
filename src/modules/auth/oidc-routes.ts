import { type TObject, Type } from "@sinclair/typebox";
import { type AnyElysia, Elysia } from "elysia";
import { PUBLIC, withPermission } from "../../http/auth-guard-permissions.ts";
import { routeDetail, type RouteDoc } from "../../http/route-doc.ts";
import { resolveExternalUser } from "./identities.ts";
import type { AuthManager, RequestOrigin } from "./manager.ts";
import type { MfaChallenge } from "./mfa.ts";
import type { OidcLogin } from "./oidc.ts";
import type { TokenPair } from "./sessions.ts";

const COOKIE = "chapkit_oidc";
const LoginQuery: TObject = Type.Object({
  redirect_to: Type.Optional(Type.String({ maxLength: 2048, description: "A path of this service (or a URL of an allowed origin) to send the browser to afterwards, with the tokens in the fragment" })),
  login_hint: Type.Optional(Type.String({ maxLength: 256 })),
});
const CallbackQuery: TObject = Type.Object({
  code: Type.Optional(Type.String()),
  state: Type.Optional(Type.String()),
  iss: Type.Optional(Type.String()),
  error: Type.Optional(Type.String()),
  error_description: Type.Optional(Type.String()),
});

type Ctx = { request: Request; params: Record<string, string>; query: Record<string, string | undefined> };
const h = (fn: (ctx: Ctx) => unknown): never => fn as never;

/** A cookie's value from a request's `Cookie` header. */
export function cookieOf(request: Request, name: string): string | null {
  for (const part of (request.headers.get("cookie") ?? "").split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

/**
 * The answer of a login that ends in a browser: to `redirectTo` with the
 * tokens (or the MFA challenge) in the URL fragment, which never reaches a
 * server log; without one, the JSON body.
 */
export function loginAnswer(result: TokenPair | MfaChallenge, redirectTo: string | null, headers: Record<string, string> = {}): Response {
  const common = { "cache-control": "no-store", ...headers };
  if (!redirectTo) return new Response(JSON.stringify(result), { headers: { "content-type": "application/json", ...common } });
  const fragment = new URLSearchParams(Object.entries(result).map(([key, value]) => [key, String(value)]));
  return new Response(null, { status: 303, headers: { location: `${redirectTo}#${fragment}`, ...common } });
}

/** Options of {@link oidcRoutes}. */
export interface OidcRoutesOptions {
  /** The auth routes' prefix. */
  prefix: string;
  /** OpenAPI tags. */
  tags: string[];
  /** Where a request came from, for the audit log. */
  origin(request: Request, path: string): RequestOrigin;
}

/**
 * OpenID Connect / OAuth2 login routes: `oidc` (the providers),
 * `oidc/{provider}/$login` (to the provider) and `oidc/{provider}/callback`
 * (back from it: a token pair, or an MFA challenge).
 */
export function oidcRoutes(auth: AuthManager, oidc: OidcLogin, options: OidcRoutesOptions): AnyElysia {
  const { prefix, tags } = options;
  const doc = (route: Omit<RouteDoc, "tags">) => ({ detail: withPermission(routeDetail({ ...route, tags }), PUBLIC) });
  const base = `${prefix}/oidc`;
  const app: AnyElysia = new Elysia();

  app.get(base, () => oidc.names().map((name) => ({ name, login_url: `${base}/${name}/$login` })), doc({
    summary: "List identity providers",
    response: Type.Array(Type.Object({ name: Type.String(), login_url: Type.String() })),
  }));

  app.get(`${base}/:provider/$login`, h(async ({ request, params, query }: Ctx) => {
    const name = params.provider ?? "";
    oidc.provider(name);
    const redirectTo = query.redirect_to ? oidc.checkRedirect(query.redirect_to, request.url) : null;
    const redirectUri = oidc.redirectUri(request.url, `${base}/${name}/callback`);
    const { url, binding } = await oidc.start(name, redirectUri, { redirectTo, loginHint: query.login_hint ?? null });
    const secure = redirectUri.startsWith("https:") ? "; Secure" : "";
    return new Response(null, {
      status: 302,
      headers: { location: url, "cache-control": "no-store", "set-cookie": `${COOKIE}=${binding}; Path=${base}/${name}; HttpOnly; SameSite=Lax; Max-Age=600${secure}` },
    });
  }), doc({ summary: "Log in with an identity provider", description: "Redirects to the provider (authorization code with PKCE, state and nonce).", query: LoginQuery, status: 302 }));

  app.get(`${base}/:provider/callback`, h(async ({ request, params, query }: Ctx) => {
    const name = params.provider ?? "";
    const where = options.origin(request, `${base}/${name}/callback`);
    const clear = { "set-cookie": `${COOKIE}=; Path=${base}/${name}; HttpOnly; SameSite=Lax; Max-Age=0` };
    let result;
    try {
      result = await oidc.finish(name, query, cookieOf(request, COOKIE));
    } catch (error) {
      await auth.audit.record({ event: "auth.login", outcome: "failure", actor: null, method: where.method ?? null, path: where.path ?? null, details: { via: "oidc", provider: name, reason: error instanceof Error ? error.message : String(error) } });
      throw error;
    }
    const provider = oidc.provider(name);
    const user = await resolveExternalUser(auth.stores, auth.roles, result.identity, {
      ...(provider.createUsers !== undefined ? { createUsers: provider.createUsers } : {}),
      ...(provider.defaultRole ? { defaultRole: provider.defaultRole } : {}),
      ...(provider.tenantId ? { tenantId: provider.tenantId } : {}),
    });
    const answer = await auth.signInVia(user, "oidc", where, { details: { provider: name } });
    return loginAnswer(answer, result.redirectTo, clear);
  }), doc({ summary: "Return from an identity provider", description: "Checks state, browser and ID token, links or creates the account, and answers a token pair (or an MFA challenge); with `redirect_to`, a 303 carrying them in the fragment.", query: CallbackQuery }));

  return app;
}
