/**
 * TOTP second factor, checked against codes this test computes itself
 * (RFC 4226 truncation over an HMAC-SHA1 of the step), never with the
 * implementation under test.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { hotp } from "../../../src/modules/auth/totp.ts";
import { ADMIN_KEY, authService, type AuthTestService } from "./_service.ts";

function fromBase32(text: string): Uint8Array {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const bits = [...text.replace(/=+$/, "")].map((c) => alphabet.indexOf(c).toString(2).padStart(5, "0")).join("");
  const bytes: number[] = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return new Uint8Array(bytes);
}

/** The code of a base32 secret at a step, computed here. */
function code(secret: string, step: number, digits = 6): string {
  const counter = new Uint8Array(8);
  let rest = step;
  for (let i = 7; i >= 0; i--) {
    counter[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  const mac = createHmac("sha1", fromBase32(secret)).update(counter).digest();
  const offset = mac[19]! & 15;
  const value = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(value % 10 ** digits).padStart(digits, "0");
}

const step = (): number => Math.floor(Date.now() / 30_000);

describe("TOTP", () => {
  it("matches the RFC 6238 SHA-1 test vectors", () => {
    const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"; // "12345678901234567890"
    for (const [seconds, expected] of [[59, "94287082"], [1111111109, "07081804"], [1234567890, "89005924"], [20000000000, "65353130"]] as const) {
      assert.equal(hotp(secret, Math.floor(seconds / 30), 8), expected);
      assert.equal(code(secret, Math.floor(seconds / 30), 8), expected);
    }
  });
});

describe("MFA over HTTP", () => {
  let service: AuthTestService;
  let secret = "";
  let recovery: string[] = [];
  let confirmedStep = 0;

  before(async () => {
    service = await authService({ auth: { mfa: { requiredRoles: ["admin"], issuer: "Lab" } } });
    for (const [username, role] of [["erin", "editor"], ["root", "admin"]]) {
      assert.equal((await service.call("POST", "/api/v1/auth/users", { key: ADMIN_KEY, body: { username, password: "password-123", role } })).status, 201);
    }
  });
  after(() => service.close());

  const login = async (username: string): Promise<Record<string, unknown>> =>
    await (await service.call("POST", "/api/v1/auth/login", { body: { username, password: "password-123" } })).json();
  const verify = (token: string, body: Record<string, string>) => service.call("POST", "/api/v1/auth/mfa/$verify", { body: { mfa_token: token, ...body } });

  it("enrols a logged-in user with a secret, an otpauth URI and an SVG QR code", async () => {
    const pair = await login("erin");
    assert.equal(typeof pair.access_token, "string");
    const res = await service.call("POST", "/api/v1/auth/mfa/totp/$enroll", { token: String(pair.access_token), body: {} });
    assert.equal(res.status, 200);
    const enrolment = await res.json();
    secret = enrolment.secret;
    assert.match(secret, /^[A-Z2-7]{32}$/);
    const uri = new URL(enrolment.otpauth_uri);
    assert.equal(uri.protocol, "otpauth:");
    assert.equal(uri.searchParams.get("secret"), secret);
    assert.equal(uri.searchParams.get("issuer"), "Lab");
    assert.match(decodeURIComponent(uri.pathname), /Lab:erin$/);
    assert.match(enrolment.qr_svg, /^<svg[\s\S]*<\/svg>$/);
    const wrong = await service.call("POST", "/api/v1/auth/mfa/totp/$confirm", { token: String(pair.access_token), body: { code: code(secret, step() + 5) } });
    assert.equal(wrong.status, 401);
    confirmedStep = step();
    const confirm = await service.call("POST", "/api/v1/auth/mfa/totp/$confirm", { token: String(pair.access_token), body: { code: code(secret, confirmedStep) } });
    assert.equal(confirm.status, 200);
    recovery = (await confirm.json()).recovery_codes;
    assert.equal(recovery.length, 10);
    assert.equal(new Set(recovery).size, 10);
  });

  it("asks an enrolled user for a code at login and accepts one within the drift window", async () => {
    const challenge = await login("erin");
    assert.equal(challenge.mfa_required, true);
    assert.equal(challenge.enrollment_required, false);
    assert.equal(challenge.access_token, undefined);
    const far = await verify(String(challenge.mfa_token), { code: code(secret, step() + 5) });
    assert.equal(far.status, 401);
    const res = await verify(String(challenge.mfa_token), { code: code(secret, confirmedStep + 1) });
    assert.equal(res.status, 200);
    const pair = await res.json();
    assert.equal((await service.call("GET", "/api/v1/auth/me", { token: pair.access_token })).status, 200);
  });

  it("never accepts a code twice, nor one older than the last accepted", async () => {
    const challenge = await login("erin");
    assert.equal((await verify(String(challenge.mfa_token), { code: code(secret, confirmedStep + 1) })).status, 401);
    assert.equal((await verify(String(challenge.mfa_token), { code: code(secret, confirmedStep) })).status, 401);
  });

  it("accepts each recovery code once", async () => {
    const first = await login("erin");
    assert.equal((await verify(String(first.mfa_token), { recovery_code: recovery[0]! })).status, 200);
    const second = await login("erin");
    assert.equal((await verify(String(second.mfa_token), { recovery_code: recovery[0]! })).status, 401);
    assert.equal((await verify(String(second.mfa_token), { recovery_code: recovery[1]! })).status, 200);
  });

  it("refuses forged tokens, and a token after five wrong codes", async () => {
    const challenge = await login("erin");
    const token = String(challenge.mfa_token);
    const forged = token.replace(/^[^.]+/, "01ARZ3NDEKTSV4RRFFQ69G5FAV");
    assert.equal((await verify(forged, { recovery_code: recovery[2]! })).status, 401);
    for (let i = 0; i < 5; i++) assert.equal((await verify(token, { code: "000000" === code(secret, step()) ? "111111" : "000000" })).status, 401);
    assert.equal((await verify(token, { recovery_code: recovery[2]! })).status, 401);
  });

  it("makes a user of a role that requires MFA enrol before getting tokens", async () => {
    const challenge = await login("root");
    assert.equal(challenge.mfa_required, true);
    assert.equal(challenge.enrollment_required, true);
    const token = String(challenge.mfa_token);
    assert.equal((await verify(token, { code: "123456" })).status, 401);
    const enrolment = await (await service.call("POST", "/api/v1/auth/mfa/totp/$enroll", { body: { mfa_token: token } })).json();
    const res = await service.call("POST", "/api/v1/auth/mfa/totp/$confirm", { body: { mfa_token: token, code: code(enrolment.secret, step()) } });
    assert.equal(res.status, 200);
    const pair = await res.json();
    assert.equal(pair.recovery_codes.length, 10);
    assert.equal((await service.call("GET", "/api/v1/auth/users", { token: pair.access_token })).status, 200);
  });

  it("lets an administrator reset a user's TOTP", async () => {
    const users = await (await service.call("GET", "/api/v1/auth/users", { key: ADMIN_KEY })).json();
    const erin = users.find((user: { username: string }) => user.username === "erin");
    assert.equal((await service.call("POST", `/api/v1/auth/users/${erin.id}/$reset-mfa`, { key: ADMIN_KEY })).status, 204);
    const pair = await login("erin");
    assert.equal(typeof pair.access_token, "string");
  });
});
