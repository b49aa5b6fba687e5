import { type TObject, Type } from "@sinclair/typebox";
import { type AnyElysia, Elysia } from "elysia";
import { NotFoundError, UnauthorizedError, ValidationError } from "../../core/errors.ts";
import { parseUlid } from "../../core/ulid.ts";
import { validateValue } from "../../core/validation.ts";
import { PUBLIC, withPermission } from "../../http/auth-guard-permissions.ts";
import type { AuthPrincipal } from "../../http/auth-guard.ts";
import { requireBody } from "../../http/crud/operation.ts";
import { routeDetail, type RouteDoc } from "../../http/route-doc.ts";
import type { AuthManager, RequestOrigin } from "./manager.ts";

const Code = Type.String({ minLength: 6, maxLength: 10, pattern: "^[0-9]+$" });
const Token = Type.String({ minLength: 1, maxLength: 512 });
const VerifyIn: TObject = Type.Object({
  mfa_token: Token,
  code: Type.Optional(Code),
  recovery_code: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
}, { title: "MfaVerifyIn" });
const EnrollIn: TObject = Type.Object({ mfa_token: Type.Optional(Token) }, { title: "TotpEnrollIn" });
const ConfirmIn: TObject = Type.Object({ mfa_token: Type.Optional(Token), code: Code }, { title: "TotpConfirmIn" });
const EnrolmentOut: TObject = Type.Object({
  secret: Type.String({ description: "Base32, for manual entry" }),
  otpauth_uri: Type.String(),
  qr_svg: Type.String({ description: "The URI as a QR code, an SVG document" }),
}, { title: "TotpEnrolment" });

type Ctx = { request: Request; body?: unknown; params: Record<string, string> };
const h = (fn: (ctx: Ctx) => unknown): never => fn as never;
const NO_STORE = { "cache-control": "no-store" };

/** Options of {@link mfaRoutes}. */
export interface MfaRoutesOptions {
  /** The auth routes' prefix. */
  prefix: string;
  /** OpenAPI tags. */
  tags: string[];
  /** Where a request came from, for the audit log. */
  origin(request: Request, path: string): RequestOrigin;
}

/**
 * The TOTP routes: `mfa/$verify` (the login's second step), `mfa/totp/$enroll`
 * and `$confirm` (with a login challenge token, or as a logged-in user), and
 * an administrator's `users/{id}/$reset-mfa`.
 */
export function mfaRoutes(auth: AuthManager, options: MfaRoutesOptions): AnyElysia {
  const { prefix, tags } = options;
  const doc = (permission: string, route: Omit<RouteDoc, "tags">) => ({ detail: withPermission(routeDetail({ ...route, tags }), permission) });
  // Public routes: the guard does not authenticate them, so a logged-in user is read here.
  const loggedIn = async (request: Request): Promise<AuthPrincipal> => {
    if (!request.headers.has("authorization")) {
      throw new ValidationError([{ loc: ["body", "mfa_token"], msg: "Field required (or log in first)", type: "missing" }]);
    }
    const principal = await auth.authenticate(request.headers);
    if (!principal || principal.kind !== "user") throw new UnauthorizedError("Log in as a user, or send the login's mfa_token");
    return principal;
  };
  const app: AnyElysia = new Elysia();

  app.post(`${prefix}/mfa/$verify`, h(async ({ request, body }: Ctx) => {
    const input = validateValue<{ mfa_token: string; code?: string; recovery_code?: string }>(VerifyIn, requireBody(body));
    if ((input.code === undefined) === (input.recovery_code === undefined)) throw new UnauthorizedError("Send either code or recovery_code");
    return new Response(JSON.stringify(await auth.completeMfa(input.mfa_token, input, options.origin(request, `${prefix}/mfa/$verify`))), {
      headers: { "content-type": "application/json", ...NO_STORE },
    });
  }), doc(PUBLIC, { summary: "Complete a login with a second factor", description: "A TOTP code (±1 step) or a single-use recovery code; a code is accepted once.", body: VerifyIn }));

  app.post(`${prefix}/mfa/totp/$enroll`, h(async ({ request, body }: Ctx) => {
    const input = validateValue<{ mfa_token?: string }>(EnrollIn, body ?? {});
    if (input.mfa_token) return auth.enrollChallenged(input.mfa_token);
    const user = await loggedIn(request);
    return auth.mfa.enroll(user.id, user.name);
  }), doc(PUBLIC, { summary: "Start TOTP enrolment", description: "Answers the secret, its otpauth URI and a QR code. As a logged-in user, or with the mfa_token of a login whose role requires MFA.", body: EnrollIn, response: EnrolmentOut }));

  app.post(`${prefix}/mfa/totp/$confirm`, h(async ({ request, body }: Ctx) => {
    const input = validateValue<{ mfa_token?: string; code: string }>(ConfirmIn, requireBody(body));
    const where = options.origin(request, `${prefix}/mfa/totp/$confirm`);
    if (input.mfa_token) return auth.confirmChallenged(input.mfa_token, input.code, where);
    const user = await loggedIn(request);
    const codes = await auth.mfa.confirm(user.id, input.code);
    await auth.audit.record({ event: "auth.mfa.enrolled", outcome: "success", actor: user, method: "POST", path: where.path ?? null });
    return { recovery_codes: codes };
  }), doc(PUBLIC, { summary: "Confirm TOTP enrolment", description: "A first code turns TOTP on and answers the recovery codes, shown this once (with a login's mfa_token, also a token pair).", body: ConfirmIn }));

  app.post(`${prefix}/users/:entity_id/$reset-mfa`, h(async ({ params }: Ctx) => {
    const id = parseUlid(params.entity_id ?? "", `${prefix}/users/${params.entity_id}/$reset-mfa`);
    if (!(await auth.stores.users.findById(id))) throw new NotFoundError(`User ${id} not found`);
    await auth.mfa.reset(id);
    return new Response(null, { status: 204 });
  }), doc("auth:admin", { summary: "Reset a user's TOTP", description: "The user enrols again at the next login (when the role requires MFA).", status: 204 }));

  return app;
}
