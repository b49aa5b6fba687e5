import { type TObject, Type } from "@sinclair/typebox";
import { type AnyElysia, Elysia } from "elysia";
import { UnauthorizedError } from "../../core/errors.ts";
import type { Logger } from "../../core/logging.ts";
import { validateValue } from "../../core/validation.ts";
import { PUBLIC, withPermission } from "../../http/auth-guard-permissions.ts";
import { requireBody } from "../../http/crud/operation.ts";
import { routeDetail, type RouteDoc } from "../../http/route-doc.ts";
import { safeRedirect } from "./_redirect.ts";
import type { MagicLinks } from "./magic-links.ts";
import type { AuthManager, RequestOrigin } from "./manager.ts";
import { loginAnswer } from "./oidc-routes.ts";

const RequestIn: TObject = Type.Object({
  email: Type.String({ minLength: 3, maxLength: 254, pattern: "^[^@\\s]+@[^@\\s]+$" }),
  redirect_to: Type.Optional(Type.String({ maxLength: 2048, description: "A path of this service (or a URL of an allowed origin) to send the browser to afterwards, with the tokens in the fragment" })),
}, { title: "MagicLinkIn" });
const RedeemIn: TObject = Type.Object({ token: Type.String({ minLength: 1, maxLength: 256 }) }, { title: "MagicLinkRedeemIn" });

type Ctx = { request: Request; body?: unknown; query: Record<string, string | undefined> };
const h = (fn: (ctx: Ctx) => unknown): never => fn as never;
const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Options of {@link magicLinkRoutes}. */
export interface MagicLinkRoutesOptions {
  /** The auth routes' prefix. */
  prefix: string;
  /** OpenAPI tags. */
  tags: string[];
  /** The service's public origin (default the request's). */
  publicUrl?: string;
  /** Origins besides the service's own that `redirect_to` may name. */
  redirectOrigins?: readonly string[];
  /** Where a failure to send is logged. */
  logger?: Logger;
  /** Where a request came from, for the audit log. */
  origin(request: Request, path: string): RequestOrigin;
}

/**
 * Magic-link routes: `magic-link` (mail me a link; always 202),
 * `GET magic-link/$redeem` (the page the link opens: one button, so mail
 * scanners that fetch links do not spend them) and `POST magic-link/$redeem`
 * (the token for a token pair, or an MFA challenge).
 */
export function magicLinkRoutes(auth: AuthManager, links: MagicLinks, options: MagicLinkRoutesOptions): AnyElysia {
  const { prefix, tags } = options;
  const doc = (route: Omit<RouteDoc, "tags">) => ({ detail: withPermission(routeDetail({ ...route, tags }), PUBLIC) });
  const redeemPath = `${prefix}/magic-link/$redeem`;
  const app: AnyElysia = new Elysia();

  app.post(`${prefix}/magic-link`, h(({ request, body }: Ctx) => {
    const input = validateValue<{ email: string; redirect_to?: string }>(RequestIn, requireBody(body));
    const redirectTo = input.redirect_to ? safeRedirect(input.redirect_to, request.url, { publicUrl: options.publicUrl, origins: options.redirectOrigins }) : null;
    const base = (options.publicUrl ?? new URL(request.url).origin).replace(/\/$/, "");
    const where = options.origin(request, `${prefix}/magic-link`);
    // Sent after the answer, so its timing does not tell whether the address is a user's.
    void links.send(input.email, `${base}${redeemPath}`, redirectTo).then(
      async (sent) => {
        if (sent) await auth.audit.record({ event: "auth.magic_link.sent", outcome: "success", actor: null, target: input.email.toLowerCase(), method: where.method ?? null, path: where.path ?? null });
      },
      (error) => options.logger?.error("auth.magic_link.send_failed", { error: error instanceof Error ? error.message : String(error) }),
    );
    return new Response(JSON.stringify({ detail: "If the address belongs to a user, a sign-in link is on its way", expires_in: links.ttlMinutes * 60 }), {
      status: 202,
      headers: { "content-type": "application/json", "cache-control": "no-store" },
    });
  }), doc({ summary: "Mail a sign-in link", description: "Always 202, whether or not the address belongs to a user. The link works once, for `ttlMinutes` (15).", body: RequestIn, status: 202 }));

  app.get(redeemPath, h(({ query }: Ctx) => {
    const token = escapeHtml(query.token ?? "");
    const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Sign in</title></head>` +
      `<body><form method="post" action="${escapeHtml(redeemPath)}"><input type="hidden" name="token" value="${token}"><button type="submit">Sign in</button></form></body></html>`;
    return new Response(page, { headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "referrer-policy": "no-referrer" } });
  }), doc({ summary: "The page a sign-in link opens", description: "One button that posts the token: fetching the link does not spend it." }));

  app.post(redeemPath, h(async ({ request, body }: Ctx) => {
    const input = validateValue<{ token: string }>(RedeemIn, requireBody(body));
    const where = options.origin(request, redeemPath);
    const found = await links.redeem(input.token);
    if (!found) {
      await auth.audit.record({ event: "auth.login", outcome: "failure", actor: null, method: where.method ?? null, path: where.path ?? null, details: { via: "magic_link", reason: "invalid link" } });
      throw new UnauthorizedError("Unknown, used or expired sign-in link");
    }
    return loginAnswer(await auth.signInVia(found.user, "magic_link", where), found.redirectTo);
  }), doc({ summary: "Sign in with a link's token", description: "JSON `{token}` or the page's form: a token pair (or an MFA challenge); with the link's `redirect_to`, a 303 carrying them in the fragment.", body: RedeemIn }));

  return app;
}
