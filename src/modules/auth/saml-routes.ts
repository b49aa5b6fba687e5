import { type TObject, Type } from "@sinclair/typebox";
import { type AnyElysia, Elysia } from "elysia";
import { PUBLIC, withPermission } from "../../http/auth-guard-permissions.ts";
import { routeDetail, type RouteDoc } from "../../http/route-doc.ts";
import { safeRedirect } from "./_redirect.ts";
import { resolveExternalUser } from "./identities.ts";
import type { AuthManager, RequestOrigin } from "./manager.ts";
import { loginAnswer } from "./oidc-routes.ts";
import type { SamlLogin, SamlOptions } from "./saml.ts";

const LoginQuery: TObject = Type.Object({
  redirect_to: Type.Optional(Type.String({ maxLength: 2048, description: "A path of this service (or a URL of an allowed origin) to send the browser to afterwards, with the tokens in the fragment" })),
});
const AcsIn: TObject = Type.Object({ SAMLResponse: Type.String(), RelayState: Type.String() }, { title: "SamlAcsIn" });

type Ctx = { request: Request; body?: unknown; query: Record<string, string | undefined> };
const h = (fn: (ctx: Ctx) => unknown): never => fn as never;

/** Options of {@link samlRoutes}. */
export interface SamlRoutesOptions {
  /** The auth routes' prefix. */
  prefix: string;
  /** OpenAPI tags. */
  tags: string[];
  /** The SAML settings (account policy, redirect origins). */
  settings: SamlOptions;
  /** Where a request came from, for the audit log. */
  origin(request: Request, path: string): RequestOrigin;
}

/**
 * SAML routes: `saml/metadata` (the SP metadata), `saml/$login` (to the IdP
 * with a signed AuthnRequest) and `saml/acs` (the IdP's POST: a token pair,
 * or an MFA challenge).
 */
export function samlRoutes(auth: AuthManager, saml: SamlLogin, options: SamlRoutesOptions): AnyElysia {
  const { prefix, tags, settings } = options;
  const doc = (route: Omit<RouteDoc, "tags">) => ({ detail: withPermission(routeDetail({ ...route, tags }), PUBLIC) });
  const base = `${prefix}/saml`;
  const app: AnyElysia = new Elysia();

  app.get(`${base}/metadata`, async () => new Response(await saml.metadata(), { headers: { "content-type": "application/samlmetadata+xml" } }),
    doc({ summary: "SAML service provider metadata", description: "Entity id, assertion consumer service and signing certificate, for the identity provider." }));

  app.get(`${base}/$login`, h(async ({ request, query }: Ctx) => {
    const redirectTo = query.redirect_to ? safeRedirect(query.redirect_to, request.url, { publicUrl: settings.publicUrl, origins: settings.redirectOrigins }) : null;
    return new Response(null, { status: 302, headers: { location: await saml.start(redirectTo), "cache-control": "no-store" } });
  }), doc({ summary: "Log in with SAML", description: "Redirects to the identity provider with a signed AuthnRequest.", query: LoginQuery, status: 302 }));

  app.post(`${base}/acs`, h(async ({ request, body }: Ctx) => {
    const where = options.origin(request, `${base}/acs`);
    const form = (body ?? {}) as { SAMLResponse?: string; RelayState?: string };
    let result;
    try {
      result = await saml.finish(form, auth.roles);
    } catch (error) {
      await auth.audit.record({ event: "auth.login", outcome: "failure", actor: null, method: where.method ?? null, path: where.path ?? null, details: { via: "saml", reason: error instanceof Error ? error.message : String(error) } });
      throw error;
    }
    const user = await resolveExternalUser(auth.stores, auth.roles, result.identity, {
      ...(settings.createUsers !== undefined ? { createUsers: settings.createUsers } : {}),
      ...(settings.defaultRole ? { defaultRole: settings.defaultRole } : {}),
      ...(settings.tenantId ? { tenantId: settings.tenantId } : {}),
    });
    return loginAnswer(await auth.signInVia(user, "saml", where), result.redirectTo);
  }), doc({ summary: "SAML assertion consumer service", description: "The identity provider's POST (form `SAMLResponse`, `RelayState`): a token pair (or an MFA challenge); with the login's `redirect_to`, a 303 carrying them in the fragment.", body: AcsIn }));

  return app;
}
