/**
 * ID tokens an attacker could slip in are refused: the service's OIDC login
 * runs against a provider served by the test (discovery, JWKS and a token
 * endpoint over real HTTP) whose token endpoint answers, case by case, a
 * token signed by a key the JWKS does not hold, for another audience or
 * issuer, with another nonce, expired, or unsigned. Only the honest token logs in.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, describe, it } from "node:test";
import * as jose from "jose";
import { authService, type AuthTestService } from "./_service.ts";

type Forgery = "honest" | "foreign key" | "other audience" | "other issuer" | "other nonce" | "expired" | "unsigned";

describe("OpenID Connect login refuses forged ID tokens", () => {
  let server: Server;
  let issuer = "";
  let service: AuthTestService;
  let forgery: Forgery = "honest";
  let nonce = "";
  let signingKey: CryptoKey;
  let foreignKey: CryptoKey;
  let publicJwk: jose.JWK;

  const idToken = async (): Promise<string> => {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      sub: "mallory-1",
      email: "mallory@example.org",
      email_verified: true,
      nonce: forgery === "other nonce" ? "another-nonce" : nonce,
    };
    if (forgery === "unsigned") {
      const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
      return `${part({ alg: "none", typ: "JWT" })}.${part({ ...claims, iss: issuer, aud: "chapkit", iat: now, exp: now + 300 })}.`;
    }
    return await new jose.SignJWT(claims)
      .setProtectedHeader({ alg: "RS256", kid: "k1" })
      .setIssuer(forgery === "other issuer" ? "http://127.0.0.1:1/evil" : issuer)
      .setAudience(forgery === "other audience" ? "someone-else" : "chapkit")
      .setIssuedAt(forgery === "expired" ? now - 7200 : now)
      .setExpirationTime(forgery === "expired" ? now - 3600 : now + 300)
      .sign(forgery === "foreign key" ? foreignKey : signingKey);
  };

  before(async () => {
    const pair = await jose.generateKeyPair("RS256", { extractable: true });
    foreignKey = pair.privateKey as CryptoKey;
    const signing = await jose.generateKeyPair("RS256", { extractable: true });
    signingKey = signing.privateKey as CryptoKey;
    publicJwk = { ...await jose.exportJWK(signing.publicKey), kid: "k1", alg: "RS256", use: "sig" };
    server = createServer((request, response) => {
      const url = new URL(request.url ?? "/", issuer);
      const json = (value: unknown) => {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify(value));
      };
      if (url.pathname === "/.well-known/openid-configuration") {
        return json({
          issuer,
          authorization_endpoint: `${issuer}/authorize`,
          token_endpoint: `${issuer}/token`,
          jwks_uri: `${issuer}/jwks`,
          response_types_supported: ["code"],
          subject_types_supported: ["public"],
          id_token_signing_alg_values_supported: ["RS256"],
        });
      }
      if (url.pathname === "/jwks") return json({ keys: [publicJwk] });
      if (url.pathname === "/token") {
        request.resume();
        request.on("end", () => void idToken().then((token) => json({ access_token: "at-1", token_type: "Bearer", id_token: token })));
        return;
      }
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    issuer = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    service = await authService({ auth: { oidc: { providers: [{ name: "forge", issuer, clientId: "chapkit", clientSecret: "forge-secret-0123456789abcdef" }] } } });
  });

  after(async () => {
    await service?.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** Starts a login, then comes back with a code whose token exchange answers the current forgery. */
  const loginWith = async (kind: Forgery): Promise<Response> => {
    forgery = kind;
    const start = await service.call("GET", "/api/v1/auth/oidc/forge/$login");
    assert.equal(start.status, 302, await start.clone().text());
    const authorize = new URL(start.headers.get("location")!);
    nonce = authorize.searchParams.get("nonce")!;
    const cookie = (start.headers.get("set-cookie") ?? "").split(";")[0]!;
    const callback = new URL(authorize.searchParams.get("redirect_uri")!);
    callback.searchParams.set("code", "code-1");
    callback.searchParams.set("state", authorize.searchParams.get("state")!);
    callback.searchParams.set("iss", issuer);
    return await service.app.handle(new Request(callback, { headers: { cookie } }));
  };

  for (const kind of ["foreign key", "other audience", "other issuer", "other nonce", "expired", "unsigned"] as const) {
    it(`refuses an ID token with ${kind} (401 problem, no user created)`, async () => {
      const response = await loginWith(kind);
      assert.equal(response.status, 401, await response.clone().text());
      assert.equal(response.headers.get("content-type")?.split(";")[0], "application/problem+json");
      const problem = await response.json() as { detail: string };
      assert.match(problem.detail, /ID token|issuer|nonce/i);
      const users = await service.auth.stores.users.findMany({ filter: { kind: "compare", field: "email", op: "eq", value: "mallory@example.org" } });
      assert.equal(users.length, 0);
    });
  }

  it("logs in with the honest token of the same provider (the forgeries above failed for their flaw alone)", async () => {
    const response = await loginWith("honest");
    assert.equal(response.status, 200, await response.clone().text());
    const users = await service.auth.stores.users.findMany({ filter: { kind: "compare", field: "email", op: "eq", value: "mallory@example.org" } });
    assert.equal(users.length, 1);
  });
});
