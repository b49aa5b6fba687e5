import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { bunExecutable, type ServiceProcess, startService } from "../../_support/service-process.ts";
import { ADMIN_KEY, authService, type AuthTestService } from "./_service.ts";

const ORIGIN = "http://chapkit.test";
const CALLBACK = (name: string) => `${ORIGIN}/api/v1/auth/oidc/${name}/callback`;
const SECRET = "chapkit-client-secret-0123456789abcdef";

/** Follows the provider's redirects as a browser would (its cookies kept) until it sends the browser back to the service. */
async function throughProvider(start: Response): Promise<{ callback: string; cookie: string }> {
  assert.equal(start.status, 302, await start.clone().text());
  const binding = /chapkit_oidc=([^;]+)/.exec(start.headers.get("set-cookie") ?? "")?.[1];
  assert.ok(binding, "the login sets a browser-binding cookie");
  const jar = new Map<string, string>();
  let url = start.headers.get("location")!;
  for (let hop = 0; hop < 10 && !url.startsWith(ORIGIN); hop++) {
    const response = await fetch(url, { redirect: "manual", headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join("; ") } });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const [key, ...value] = pair!.split("=");
      jar.set(key!.trim(), value.join("="));
    }
    const next = response.headers.get("location");
    assert.ok(next, `the provider answered ${response.status} without a redirect: ${await response.text()}`);
    url = new URL(next, url).href;
  }
  return { callback: url, cookie: `chapkit_oidc=${binding}` };
}

describe("OpenID Connect login against a real provider", () => {
  let provider: ServiceProcess;
  let service: AuthTestService;
  let issuer = "";

  const back = (callback: string, cookie?: string) =>
    service.app.handle(new Request(callback, { headers: cookie ? { cookie } : {} }));
  const login = async (name: string, hint: string, query = "") =>
    throughProvider(await service.call("GET", `/api/v1/auth/oidc/${name}/$login?login_hint=${hint}${query}`));

  before(async () => {
    provider = await startService(new URL("./_oidc-provider.ts", import.meta.url).pathname, {
      OIDC_REDIRECT_URIS: ["test", "plain", "closed"].map(CALLBACK).join(","),
    }, { executable: bunExecutable(), command: [new URL("./_oidc-provider.ts", import.meta.url).pathname] });
    assert.ok(provider.port, provider.output());
    issuer = provider.url;
    const discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json() as Record<string, string>;
    service = await authService({
      auth: {
        oidc: {
          providers: [
            { name: "test", issuer, clientId: "chapkit", clientSecret: SECRET, scopes: ["openid", "email", "profile", "groups"], roles: { claim: "groups", values: { "lab-admins": "admin", analysts: "editor" } } },
            {
              name: "plain",
              clientId: "chapkit",
              clientSecret: SECRET,
              scopes: ["openid", "email"],
              endpoints: { authorization: discovery.authorization_endpoint!, token: discovery.token_endpoint!, userinfo: discovery.userinfo_endpoint! },
            },
            { name: "closed", issuer, clientId: "chapkit", clientSecret: SECRET, createUsers: false },
          ],
        },
      },
    });
  });

  after(async () => {
    await service?.close();
    await provider?.stop();
  });

  it("lists the providers with their login routes", async () => {
    const response = await service.call("GET", "/api/v1/auth/oidc");
    assert.equal(response.status, 200);
    assert.deepEqual((await response.json() as { name: string }[]).map((p) => p.name), ["test", "plain", "closed"]);
  });

  it("sends the browser to the provider with PKCE (S256), state and nonce", async () => {
    const response = await service.call("GET", "/api/v1/auth/oidc/test/$login");
    const url = new URL(response.headers.get("location")!);
    assert.equal(url.origin, issuer);
    assert.equal(url.searchParams.get("code_challenge_method"), "S256");
    assert.match(url.searchParams.get("code_challenge")!, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(url.searchParams.get("state")!.length >= 32);
    assert.ok(url.searchParams.get("nonce"));
    assert.equal(url.searchParams.get("redirect_uri"), CALLBACK("test"));
    assert.match(response.headers.get("set-cookie")!, /HttpOnly; SameSite=Lax/);
  });

  it("creates a user from a verified ID token with the role its group claim maps to", async () => {
    const { callback, cookie } = await login("test", "alice");
    const response = await back(callback, cookie);
    assert.equal(response.status, 200, await response.clone().text());
    const pair = await response.json() as { access_token: string };
    const me = await (await service.call("GET", "/api/v1/auth/me", { token: pair.access_token })).json() as Record<string, unknown>;
    assert.equal(me.name, "alice@example.org");
    assert.equal(me.role, "admin");
    const [user] = await service.auth.stores.users.findMany({ filter: { kind: "compare", field: "email", op: "eq", value: "alice@example.org" } });
    assert.equal(user?.role, "admin");
    // The next login finds the same user through the linked identity.
    const again = await back(...Object.values(await login("test", "alice")) as [string, string]);
    const second = await (await service.call("GET", "/api/v1/auth/me", { token: (await again.json() as { access_token: string }).access_token })).json() as { id: string };
    assert.equal(second.id, user?.id);
    const events = await service.auth.audit.page(1, 10, { event: "auth.login" });
    assert.ok(events.items.some((event) => (event.details as { via?: string } | null)?.via === "oidc"));
  });

  it("links an existing user whose e-mail the provider verified", async () => {
    const created = await service.call("POST", "/api/v1/auth/users", { key: ADMIN_KEY, body: { username: "carol", password: "carol-password-1", email: "Carol@Example.org" } });
    assert.equal(created.status, 201, await created.clone().text());
    const carol = await created.json() as { id: string; email: string };
    assert.equal(carol.email, "carol@example.org");
    const response = await back(...Object.values(await login("test", "carol")) as [string, string]);
    assert.equal(response.status, 200);
    const me = await (await service.call("GET", "/api/v1/auth/me", { token: (await response.json() as { access_token: string }).access_token })).json() as Record<string, unknown>;
    assert.equal(me.id, carol.id);
    assert.equal(me.role, "editor");
  });

  it("never links through an unverified e-mail address", async () => {
    const created = await service.call("POST", "/api/v1/auth/users", { key: ADMIN_KEY, body: { username: "bob", password: "bob-password-12", email: "bob@example.org" } });
    const bob = await created.json() as { id: string };
    const response = await back(...Object.values(await login("test", "bob")) as [string, string]);
    assert.equal(response.status, 200);
    const me = await (await service.call("GET", "/api/v1/auth/me", { token: (await response.json() as { access_token: string }).access_token })).json() as Record<string, unknown>;
    assert.notEqual(me.id, bob.id);
    assert.equal(me.role, "viewer");
  });

  it("refuses an unknown person when the provider may not create users", async () => {
    const response = await back(...Object.values(await login("closed", "alice")) as [string, string]);
    // alice is linked to "test", not to "closed", but her verified e-mail links her.
    assert.equal(response.status, 200);
    const refused = await back(...Object.values(await login("closed", "bob")) as [string, string]);
    assert.equal(refused.status, 401);
    assert.equal((await refused.json() as { type: string }).type, "urn:chapkit:error:unauthorized");
  });

  it("accepts a state once only", async () => {
    const { callback, cookie } = await login("test", "alice");
    assert.equal((await back(callback, cookie)).status, 200);
    const replay = await back(callback, cookie);
    assert.equal(replay.status, 401);
    assert.match((await replay.json() as { detail: string }).detail, /state/);
  });

  it("refuses a callback in a browser that did not start the login", async () => {
    const { callback } = await login("test", "alice");
    const response = await back(callback, "chapkit_oidc=someone-elses-binding");
    assert.equal(response.status, 401);
    assert.match((await response.json() as { detail: string }).detail, /another browser/);
  });

  it("refuses a forged state, and answers 422 without a code", async () => {
    const { callback, cookie } = await login("test", "alice");
    const forged = new URL(callback);
    forged.searchParams.set("state", "forged-state");
    assert.equal((await back(forged.href, cookie)).status, 401);
    const missing = await back(`${CALLBACK("test")}?state=abc`, cookie);
    assert.equal(missing.status, 422);
    assert.equal((await missing.json() as { type: string }).type, "urn:chapkit:error:validation-failed");
  });

  it("reports the provider's own refusal as 401", async () => {
    const response = await back(`${CALLBACK("test")}?error=access_denied&error_description=user+cancelled`);
    assert.equal(response.status, 401);
    assert.match((await response.json() as { detail: string }).detail, /access_denied/);
  });

  it("refuses a code sent with another PKCE verifier", async () => {
    // Two logins in one browser: the second state's verifier does not match the first code.
    const first = await login("test", "alice");
    const second = await login("test", "alice");
    const mixed = new URL(first.callback);
    mixed.searchParams.set("state", new URL(second.callback).searchParams.get("state")!);
    const response = await back(mixed.href, second.cookie);
    assert.equal(response.status, 401);
    assert.match((await response.json() as { detail: string }).detail, /refused the code/);
  });

  it("returns the browser to redirect_to with the tokens in the fragment, and refuses foreign origins", async () => {
    const { callback, cookie } = await login("test", "alice", "&redirect_to=%2Fapp%2Fhome");
    const response = await back(callback, cookie);
    assert.equal(response.status, 303);
    const location = new URL(response.headers.get("location")!, ORIGIN);
    assert.equal(location.pathname, "/app/home");
    assert.ok(new URLSearchParams(location.hash.slice(1)).get("access_token"));
    const open = await service.call("GET", "/api/v1/auth/oidc/test/$login?redirect_to=https%3A%2F%2Fevil.example%2F");
    assert.equal(open.status, 422);
    const scheme = await service.call("GET", "/api/v1/auth/oidc/test/$login?redirect_to=%2F%2Fevil.example");
    assert.equal(scheme.status, 422);
  });

  it("logs in through a plain OAuth2 provider's userinfo (as GitHub works)", async () => {
    const response = await back(...Object.values(await login("plain", "alice")) as [string, string]);
    assert.equal(response.status, 200, await response.clone().text());
    const me = await (await service.call("GET", "/api/v1/auth/me", { token: (await response.json() as { access_token: string }).access_token })).json() as Record<string, unknown>;
    assert.equal(me.name, "alice@example.org");
  });

  it("answers 401 for an unknown provider", async () => {
    assert.equal((await service.call("GET", "/api/v1/auth/oidc/nobody/$login")).status, 401);
  });
});
