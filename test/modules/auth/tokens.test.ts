import assert from "node:assert/strict";
import { createHmac, generateKeyPairSync, sign } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { jwt } from "@elysiajs/jwt";
import { JWT_SECRET, authService, type AuthTestService } from "./_service.ts";

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");
const decode = (token: string): Record<string, unknown> => JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString());

type Signer = { sign(payload: Record<string, unknown>): Promise<string> };
const signer = (secret: string, alg: string): Signer =>
  (jwt({ name: "jwt", secret, alg: alg as "HS256" }) as unknown as { decorator: { jwt: Signer } }).decorator.jwt;

describe("access tokens", () => {
  let service: AuthTestService;
  let valid: string;
  let claims: Record<string, unknown>;

  before(async () => {
    service = await authService();
    await service.auth.users.create({ username: "alice", password: "alice-password", role: "viewer" });
    const res = await service.call("POST", "/api/v1/auth/login", { body: { username: "alice", password: "alice-password" } });
    valid = (await res.json()).access_token;
    claims = decode(valid);
  });
  after(() => service.close());

  const status = async (token: string): Promise<number> => {
    const res = await service.call("GET", "/api/v1/system", { token });
    if (res.status === 401) {
      assert.equal((await res.json()).type, "urn:chapkit:error:unauthorized");
      assert.match(res.headers.get("www-authenticate") ?? "", /invalid_token/);
    }
    return res.status;
  };

  it("accepts a token it issued, and the same claims signed the same way", async () => {
    assert.equal(await status(valid), 200);
    assert.equal(await status(await signer(JWT_SECRET, "HS256").sign({ ...claims })), 200);
  });

  it("refuses an expired token", async () => {
    const past = Math.floor(Date.now() / 1000) - 60;
    assert.equal(await status(await signer(JWT_SECRET, "HS256").sign({ ...claims, iat: undefined, exp: past })), 401);
  });

  it("refuses a token signed with another secret", async () => {
    assert.equal(await status(await signer("another-secret-0123456789abcdef0123456789", "HS256").sign({ ...claims })), 401);
  });

  it("refuses a token whose payload was tampered with", async () => {
    const [header, , signature] = valid.split(".");
    assert.equal(await status(`${header}.${b64({ ...claims, role: "admin" })}.${signature}`), 401);
  });

  it("refuses an unsigned token (alg none)", async () => {
    assert.equal(await status(`${b64({ alg: "none", typ: "JWT" })}.${b64(claims)}.`), 401);
    assert.equal(await status(`${b64({ alg: "none", typ: "JWT" })}.${b64(claims)}`), 401);
  });

  it("refuses another HMAC algorithm even with the right secret", async () => {
    assert.equal(await status(await signer(JWT_SECRET, "HS512").sign({ ...claims })), 401);
  });

  it("refuses RS256 tokens, whether signed with an RSA key or with the secret as an HMAC key", async () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const input = `${b64({ alg: "RS256", typ: "JWT" })}.${b64(claims)}`;
    const rsa = sign("sha256", Buffer.from(input), privateKey).toString("base64url");
    assert.equal(await status(`${input}.${rsa}`), 401);
    const confused = createHmac("sha256", JWT_SECRET).update(input).digest("base64url");
    assert.equal(await status(`${input}.${confused}`), 401);
  });

  it("refuses a token of another type or without a session", async () => {
    const hs = signer(JWT_SECRET, "HS256");
    assert.equal(await status(await hs.sign({ ...claims, typ: "refresh" })), 401);
    assert.equal(await status(await hs.sign({ ...claims, sid: "01K72P5N5KCRM6MD3BRE4P0999" })), 401);
  });

  it("refuses garbage and malformed bearer headers", async () => {
    assert.equal(await status("not.a.token"), 401);
    const res = await service.call("GET", "/api/v1/system", { headers: { authorization: "Basic YWxpY2U6cHc=" } });
    assert.equal(res.status, 401);
  });

  it("refuses a revoked token", async () => {
    const res = await service.call("POST", "/api/v1/auth/login", { body: { username: "alice", password: "alice-password" } });
    const pair = await res.json();
    await service.auth.sessions.revoke(pair.session_id, "test");
    assert.equal(await status(pair.access_token), 401);
  });
});
