import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { bunExecutable, type ServiceProcess, startService } from "../../_support/service-process.ts";
import { ADMIN_KEY, authService, type AuthTestService } from "./_service.ts";

const ORIGIN = "http://chapkit.test";
const ACS = `${ORIGIN}/api/v1/auth/saml/acs`;

/** A self-signed RSA key and certificate made by the openssl command. */
function keyPair(dir: string, name: string): { key: string; cert: string; keyPath: string; certPath: string } {
  const keyPath = join(dir, `${name}.key`);
  const certPath = join(dir, `${name}.crt`);
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyPath, "-out", certPath, "-days", "2", "-subj", `/CN=${name}`], { stdio: "ignore" });
  return { key: readFileSync(keyPath, "utf8"), cert: readFileSync(certPath, "utf8"), keyPath, certPath };
}

describe("SAML 2.0 login against an identity provider run by the suite", () => {
  let dir: string;
  let idp: ServiceProcess;
  let service: AuthTestService;

  /** Starts a login and lets the IdP answer (with `overrides` making a bad assertion): the form the browser would post. */
  async function idpAnswer(overrides: Record<string, string> = {}, login = "/api/v1/auth/saml/$login"): Promise<{ SAMLResponse: string; RelayState: string }> {
    const start = await service.call("GET", login);
    assert.equal(start.status, 302, await start.clone().text());
    const sso = new URL(start.headers.get("location")!);
    for (const [name, value] of Object.entries(overrides)) sso.searchParams.append(name, value);
    const response = await fetch(sso);
    assert.equal(response.status, 200, await response.clone().text());
    return await response.json() as { SAMLResponse: string; RelayState: string };
  }
  const post = (form: Record<string, string>) =>
    service.app.handle(new Request(ACS, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form) }));
  const detailOf = async (response: Response) => (await response.json() as { detail: string }).detail;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "chapkit-saml-"));
    const idpKeys = keyPair(dir, "idp");
    const spKeys = keyPair(dir, "sp");
    const script = new URL("./_saml-idp.ts", import.meta.url).pathname;
    idp = await startService(script, { IDP_KEY: idpKeys.keyPath, IDP_CERT: idpKeys.certPath }, { executable: bunExecutable(), command: [script] });
    assert.ok(idp.port, idp.output());
    service = await authService({
      auth: {
        saml: {
          publicUrl: ORIGIN,
          privateKey: spKeys.key,
          certificate: spKeys.cert,
          idp: { entityId: `${idp.url}/metadata`, ssoUrl: `${idp.url}/sso`, certificate: idpKeys.cert },
          attributes: { email: "email", roles: { attribute: "groups", values: { "lab-admins": "admin", analysts: "editor" } } },
        },
      },
    });
    const metadata = await (await service.call("GET", "/api/v1/auth/saml/metadata")).text();
    assert.equal((await fetch(`${idp.url}/sp`, { method: "POST", body: metadata })).status, 200);
  });

  after(async () => {
    await service?.close();
    await idp?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("publishes SP metadata with the ACS, the signing certificate and signed requests wanted", async () => {
    const response = await service.call("GET", "/api/v1/auth/saml/metadata");
    assert.equal(response.status, 200);
    const xml = await response.text();
    assert.match(xml, /entityID="http:\/\/chapkit\.test\/api\/v1\/auth\/saml\/metadata"/);
    assert.match(xml, /AuthnRequestsSigned="true"/);
    assert.match(xml, /WantAssertionsSigned="true"/);
    assert.match(xml, new RegExp(`Location="${ACS.replace(/[.$/]/g, "\\$&")}"`));
    assert.match(xml, /<ds:X509Certificate>|<X509Certificate>/);
  });

  it("signs the AuthnRequest: the IdP refuses it once the signature is broken", async () => {
    const start = await service.call("GET", "/api/v1/auth/saml/$login");
    const sso = new URL(start.headers.get("location")!);
    assert.ok(sso.searchParams.get("Signature"));
    assert.match(sso.searchParams.get("SigAlg")!, /rsa-sha256/);
    sso.searchParams.set("Signature", Buffer.from("not the signature").toString("base64"));
    const response = await fetch(sso);
    assert.equal(response.status, 400);
    assert.match(await response.text(), /SIGNATURE/);
  });

  it("logs in with a signed assertion, creating the user with the role its group maps to", async () => {
    const response = await post(await idpAnswer());
    assert.equal(response.status, 200, await response.clone().text());
    const pair = await response.json() as { access_token: string };
    const me = await (await service.call("GET", "/api/v1/auth/me", { token: pair.access_token })).json() as Record<string, unknown>;
    assert.equal(me.name, "alice@example.org");
    assert.equal(me.role, "admin");
  });

  it("links an existing user by the asserted e-mail", async () => {
    const created = await (await service.call("POST", "/api/v1/auth/users", { key: ADMIN_KEY, body: { username: "carol", password: "carol-password-1", email: "carol@example.org" } })).json() as { id: string };
    const response = await post(await idpAnswer({ user: "carol" }));
    const me = await (await service.call("GET", "/api/v1/auth/me", { token: (await response.json() as { access_token: string }).access_token })).json() as Record<string, unknown>;
    assert.equal(me.id, created.id);
    assert.equal(me.role, "editor");
  });

  it("accepts a response once (its RelayState is spent)", async () => {
    const form = await idpAnswer();
    assert.equal((await post(form)).status, 200);
    const replay = await post(form);
    assert.equal(replay.status, 401);
    assert.match(await detailOf(replay), /RelayState/);
  });

  it("refuses an assertion altered after signing", async () => {
    const form = await idpAnswer();
    const xml = Buffer.from(form.SAMLResponse, "base64").toString("utf8").replaceAll("alice@example.org", "mallory@example.org");
    const response = await post({ ...form, SAMLResponse: Buffer.from(xml).toString("base64") });
    assert.equal(response.status, 401);
    assert.match(await detailOf(response), /SAML response refused/);
  });

  it("refuses an assertion for another audience", async () => {
    const response = await post(await idpAnswer({ audience: "https://other-sp.example/metadata" }));
    assert.equal(response.status, 401);
    assert.match(await detailOf(response), /audience/);
  });

  it("refuses an assertion for another recipient", async () => {
    const response = await post(await idpAnswer({ recipient: "https://other-sp.example/acs" }));
    assert.equal(response.status, 401);
    assert.match(await detailOf(response), /recipient/);
  });

  it("refuses an expired assertion", async () => {
    const response = await post(await idpAnswer({ expires_in: "-600" }));
    assert.equal(response.status, 401);
    assert.match(await detailOf(response), /SAML response refused/);
  });

  it("refuses an assertion answering another request", async () => {
    const response = await post(await idpAnswer({ in_response_to: "_someone-elses-request" }));
    assert.equal(response.status, 401);
    assert.match(await detailOf(response), /request/);
  });

  it("refuses a response signed by another key", async () => {
    const other = keyPair(dir, "other");
    const form = await idpAnswer();
    // The same document, its signature replaced by one of a key the SP does not trust.
    const xml = Buffer.from(form.SAMLResponse, "base64").toString("utf8");
    const certBody = other.cert.replace(/-----[^-]+-----|\s/g, "");
    const forged = xml.replace(/<ds:X509Certificate>[^<]+<\/ds:X509Certificate>/, `<ds:X509Certificate>${certBody}</ds:X509Certificate>`);
    const response = await post({ ...form, SAMLResponse: Buffer.from(forged).toString("base64") });
    assert.equal(response.status, 401);
  });

  it("answers 422 without a SAMLResponse and 401 without a known RelayState", async () => {
    assert.equal((await post({ RelayState: "x" })).status, 422);
    const unknown = await post({ SAMLResponse: "PHNhbWw+", RelayState: "unknown" });
    assert.equal(unknown.status, 401);
  });

  it("returns the browser to redirect_to with the tokens in the fragment", async () => {
    const response = await post(await idpAnswer({}, "/api/v1/auth/saml/$login?redirect_to=%2Fapp%2F"));
    assert.equal(response.status, 303);
    assert.match(response.headers.get("location")!, /^\/app\/#access_token=/);
  });
});
