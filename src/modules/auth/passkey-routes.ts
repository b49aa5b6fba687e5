import { type TObject, Type } from "@sinclair/typebox";
import { type AnyElysia, Elysia } from "elysia";
import { UnauthorizedError } from "../../core/errors.ts";
import { parseUlid } from "../../core/ulid.ts";
import { validateValue } from "../../core/validation.ts";
import { AUTHENTICATED, PUBLIC, withPermission } from "../../http/auth-guard-permissions.ts";
import { principalOf } from "../../http/auth-guard.ts";
import { requireBody } from "../../http/crud/operation.ts";
import { routeDetail, type RouteDoc } from "../../http/route-doc.ts";
import type { AuthManager, RequestOrigin } from "./manager.ts";
import { loginAnswer } from "./oidc-routes.ts";
import type { Passkeys } from "./passkeys.ts";
import type { UserRecord } from "./schema.ts";

const Credential = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 1024 }),
  rawId: Type.String({ maxLength: 1024 }),
  type: Type.Literal("public-key"),
  response: Type.Object({ clientDataJSON: Type.String({ maxLength: 8192 }) }, { additionalProperties: true }),
}, { additionalProperties: true, description: "The credential's JSON form (`PublicKeyCredential.toJSON()`)" });
const RegisterIn: TObject = Type.Object({ response: Credential, name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })) }, { title: "PasskeyRegisterIn" });
const LoginOptionsIn: TObject = Type.Object({ username: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })) }, { title: "PasskeyLoginOptionsIn" });
const LoginIn: TObject = Type.Object({ response: Credential }, { title: "PasskeyLoginIn" });
const PasskeyOut: TObject = Type.Object({
  id: Type.String(),
  name: Type.String(),
  created_at: Type.String(),
  last_used_at: Type.Union([Type.String(), Type.Null()]),
  backed_up: Type.Boolean(),
}, { title: "PasskeyOut" });

type Ctx = { request: Request; body?: unknown; params: Record<string, string> };
const h = (fn: (ctx: Ctx) => unknown): never => fn as never;
const json = (value: unknown, status = 200): Response =>
  new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json", "cache-control": "no-store" } });

/** Options of {@link passkeyRoutes}. */
export interface PasskeyRoutesOptions {
  /** The auth routes' prefix. */
  prefix: string;
  /** OpenAPI tags. */
  tags: string[];
  /** Where a request came from, for the audit log. */
  origin(request: Request, path: string): RequestOrigin;
}

/**
 * Passkey routes: a logged-in user's `passkeys/$register-options`,
 * `passkeys/$register`, list and delete; anyone's `passkeys/$login-options`
 * and `passkeys/$login` (a token pair).
 */
export function passkeyRoutes(auth: AuthManager, passkeys: Passkeys, options: PasskeyRoutesOptions): AnyElysia {
  const { prefix, tags } = options;
  const doc = (permission: string, route: Omit<RouteDoc, "tags">) => ({ detail: withPermission(routeDetail({ ...route, tags }), permission) });
  const base = `${prefix}/passkeys`;
  const user = async (request: Request): Promise<UserRecord> => {
    const principal = principalOf(request);
    const found = principal?.kind === "user" ? await auth.stores.users.findById(principal.id) : null;
    if (!found) throw new UnauthorizedError("Log in as a user to manage passkeys");
    return found;
  };
  const app: AnyElysia = new Elysia();

  app.post(`${base}/$register-options`, h(async ({ request }: Ctx) => json(await passkeys.registrationOptions(await user(request)))),
    doc(AUTHENTICATED, { summary: "Start registering a passkey", description: "Options for `navigator.credentials.create()` (JSON form); the challenge works once, for five minutes." }));

  app.post(`${base}/$register`, h(async ({ request, body }: Ctx) => {
    const owner = await user(request);
    const input = validateValue<{ response: Record<string, unknown>; name?: string }>(RegisterIn, requireBody(body), { clean: false });
    const saved = await passkeys.register(owner, input.response, input.name ?? null);
    await auth.audit.record({ event: "auth.passkey.registered", outcome: "success", actor: { kind: "user", id: owner.id, name: owner.username }, target: saved.id, method: "POST", path: `${base}/$register` });
    return json(saved, 201);
  }), doc(AUTHENTICATED, { summary: "Register a passkey", description: "The browser's response to the registration options.", body: RegisterIn, response: PasskeyOut, status: 201 }));

  app.get(base, h(async ({ request }: Ctx) => passkeys.list((await user(request)).id)), doc(AUTHENTICATED, { summary: "List my passkeys", response: Type.Array(PasskeyOut) }));

  app.delete(`${base}/:passkey_id`, h(async ({ request, params }: Ctx) => {
    await passkeys.remove((await user(request)).id, parseUlid(params.passkey_id ?? "", `${base}/${params.passkey_id}`));
    return new Response(null, { status: 204 });
  }), doc(AUTHENTICATED, { summary: "Delete one of my passkeys", status: 204 }));

  app.post(`${base}/$login-options`, h(async ({ body }: Ctx) => {
    const input = validateValue<{ username?: string }>(LoginOptionsIn, body ?? {});
    const [named] = input.username
      ? await auth.stores.users.findMany({ filter: { kind: "compare", field: "username", op: "eq", value: input.username }, limit: 1 })
      : [];
    // An unknown username gets the same answer as no username (any passkey of this site), so it leaks nothing.
    return json(await passkeys.authenticationOptions(named ?? null));
  }), doc(PUBLIC, { summary: "Start a passkey login", description: "Options for `navigator.credentials.get()`; without `username` any passkey of this site may answer.", body: LoginOptionsIn }));

  app.post(`${base}/$login`, h(async ({ request, body }: Ctx) => {
    const input = validateValue<{ response: Record<string, unknown> }>(LoginIn, requireBody(body), { clean: false });
    const where = options.origin(request, `${base}/$login`);
    let found;
    try {
      found = await passkeys.authenticate(input.response);
    } catch (error) {
      await auth.audit.record({ event: "auth.login", outcome: "failure", actor: null, method: where.method ?? null, path: where.path ?? null, details: { via: "passkey", reason: error instanceof Error ? error.message : String(error) } });
      throw error;
    }
    const owner = await auth.stores.users.findById(found.userId);
    if (!owner) throw new UnauthorizedError("Unknown passkey");
    return loginAnswer(await auth.signInVia(owner, "passkey", where, { strong: found.userVerified }), null);
  }), doc(PUBLIC, { summary: "Log in with a passkey", description: "The browser's assertion: a token pair. A passkey that verified the user counts as two factors (no TOTP step).", body: LoginIn }));

  return app;
}
