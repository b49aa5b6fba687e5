import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, CDPSession, Page } from "playwright-core";
import { type RunningServer, serve } from "../../src/runtime/serve.ts";
import { ADMIN_KEY, authService, type AuthTestService } from "../modules/auth/_service.ts";
import { blockInternet, launchChromium } from "./_browser.ts";

// Runs in the page: the WebAuthn ceremonies with the browser's own API, the
// JSON forms converted by PublicKeyCredential's parse/toJSON helpers.
async function registerInPage(input: { token: string; name: string }): Promise<{ status: number; body: unknown }> {
  const headers = { authorization: `Bearer ${input.token}`, "content-type": "application/json" };
  const options = await (await fetch("/api/v1/auth/passkeys/$register-options", { method: "POST", headers })).json();
  const credential = await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) }) as PublicKeyCredential;
  const response = await fetch("/api/v1/auth/passkeys/$register", { method: "POST", headers, body: JSON.stringify({ response: credential.toJSON(), name: input.name }) });
  return { status: response.status, body: await response.json() };
}

async function assertInPage(input: { username?: string }): Promise<unknown> {
  const headers = { "content-type": "application/json" };
  const options = await (await fetch("/api/v1/auth/passkeys/$login-options", { method: "POST", headers, body: JSON.stringify(input) })).json();
  const credential = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) }) as PublicKeyCredential;
  return credential.toJSON();
}

describe("passkeys in Chromium with a virtual authenticator", () => {
  let browser: Browser;
  let page: Page;
  let cdp: CDPSession;
  let server: RunningServer;
  let service: AuthTestService;
  let origin = "";
  let token = "";

  const login = (response: unknown) =>
    fetch(`${origin}/api/v1/auth/passkeys/$login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ response }) });

  before(async () => {
    server = await serve((request) => service.app.fetch(request), { port: 0, hostname: "127.0.0.1" });
    // WebAuthn needs a secure context and a domain as relying party id: localhost is both.
    origin = `http://localhost:${server.port}`;
    // Ada's role requires a second factor: her password alone gets a challenge, a verified passkey is both factors.
    service = await authService({ auth: { passkeys: { rpId: "localhost", rpName: "Chapkit test", origins: [origin] }, mfa: { requiredRoles: ["viewer"] } } });
    const created = await service.call("POST", "/api/v1/auth/users", { key: ADMIN_KEY, body: { username: "ada", password: "ada-password-12" } });
    assert.equal(created.status, 201);
    const challenged = await (await service.call("POST", "/api/v1/auth/login", { body: { username: "ada", password: "ada-password-12" } })).json() as Record<string, unknown>;
    assert.equal(challenged.mfa_required, true);
    const ada = await service.auth.stores.users.findById((await created.json() as { id: string }).id);
    token = (await service.auth.sessions.start(ada!)).access_token;
    browser = await launchChromium();
    page = await browser.newPage();
    await blockInternet(page);
    cdp = await page.context().newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    await page.goto(`${origin}/health`);
  });

  after(async () => {
    await browser?.close();
    await server?.stop(1000);
    await service?.close();
  });

  it("registers a passkey for a logged-in user", async () => {
    const result = await page.evaluate(registerInPage, { token, name: "Laptop" });
    assert.equal(result.status, 201, JSON.stringify(result.body));
    assert.equal((result.body as { name: string }).name, "Laptop");
    const listed = await (await service.call("GET", "/api/v1/auth/passkeys", { token })).json() as { name: string }[];
    assert.deepEqual(listed.map((passkey) => passkey.name), ["Laptop"]);
  });

  it("logs in with the passkey alone (a discoverable credential, both factors) and once per challenge", async () => {
    const assertion = await page.evaluate(assertInPage, {});
    const response = await login(assertion);
    assert.equal(response.status, 200, await response.clone().text());
    const pair = await response.json() as { access_token: string };
    const me = await (await service.call("GET", "/api/v1/auth/me", { token: pair.access_token })).json() as { name: string };
    assert.equal(me.name, "ada");
    const replay = await login(assertion);
    assert.equal(replay.status, 401);
    assert.match((await replay.json() as { detail: string }).detail, /challenge/);
  });

  it("logs in after naming the user", async () => {
    const response = await login(await page.evaluate(assertInPage, { username: "ada" }));
    assert.equal(response.status, 200);
  });

  it("refuses an assertion whose signature was tampered with", async () => {
    const assertion = await page.evaluate(assertInPage, {}) as { response: { signature: string } };
    const signature = Buffer.from(assertion.response.signature, "base64url");
    signature[signature.length - 1]! ^= 0xff;
    assertion.response.signature = signature.toString("base64url");
    const response = await login(assertion);
    assert.equal(response.status, 401);
  });

  it("refuses a registration without a login, and malformed bodies with 422", async () => {
    const anonymous = await fetch(`${origin}/api/v1/auth/passkeys/$register-options`, { method: "POST" });
    assert.equal(anonymous.status, 401);
    const malformed = await login({ id: "x" });
    assert.equal(malformed.status, 422);
    assert.equal((await malformed.json() as { type: string }).type, "urn:chapkit:error:validation-failed");
  });

  it("refuses a passkey that was deleted", async () => {
    const assertion = await page.evaluate(assertInPage, {});
    const [passkey] = await (await service.call("GET", "/api/v1/auth/passkeys", { token })).json() as { id: string }[];
    assert.equal((await service.call("DELETE", `/api/v1/auth/passkeys/${passkey!.id}`, { token })).status, 204);
    const response = await login(assertion);
    assert.equal(response.status, 401);
    assert.match((await response.json() as { detail: string }).detail, /Unknown passkey/);
  });
});
