import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { UnauthorizedError } from "../../../src/core/errors.ts";
import type { AuthBackend } from "../../../src/http/auth-backend.ts";
import { addressBytes, inRange, parseRange } from "../../../src/modules/auth/_cidr.ts";
import { trustedHeaderBackend } from "../../../src/modules/auth/backends.ts";
import { rememberClientAddress } from "../../../src/runtime/client-address.ts";
import { type RunningServer, serve } from "../../../src/runtime/serve.ts";
import { ADMIN_KEY, authService, type AuthTestService } from "./_service.ts";

const certificateBackend: AuthBackend = {
  name: "client_certificate",
  authenticate(request) {
    const subject = request.headers.get("x-test-subject");
    if (subject === null) return null;
    if (subject === "revoked") throw new UnauthorizedError("Certificate revoked");
    return { kind: "external", id: subject, name: subject, role: "viewer" };
  },
};

describe("pluggable auth backends", () => {
  let service: AuthTestService;
  before(async () => {
    service = await authService({ auth: { backends: [certificateBackend] } });
  });
  after(() => service.close());

  it("admits the principal a custom backend vouches for, with its role's permissions", async () => {
    const read = await service.call("GET", "/api/v1/config", { headers: { "x-test-subject": "cn=lab" } });
    assert.equal(read.status, 200);
    const write = await service.call("POST", "/api/v1/config", { headers: { "x-test-subject": "cn=lab" }, body: { name: "x", data: {} } });
    assert.equal(write.status, 403);
  });

  it("stops at a backend that refuses bad credentials", async () => {
    const res = await service.call("GET", "/api/v1/config", { headers: { "x-test-subject": "revoked" }, key: ADMIN_KEY });
    assert.equal(res.status, 401);
    assert.equal((await res.json()).detail, "Certificate revoked");
  });

  it("falls through to the built-in key backend when a backend finds no credentials", async () => {
    assert.equal((await service.call("GET", "/api/v1/config", { key: ADMIN_KEY })).status, 200);
    assert.equal((await service.call("GET", "/api/v1/config")).status, 401);
  });
});

describe("trusted reverse-proxy header backend", () => {
  const servers: RunningServer[] = [];
  const services: AuthTestService[] = [];
  const start = async (trustedProxies: string[]): Promise<string> => {
    const service = await authService({
      auth: { backends: [trustedHeaderBackend({ trustedProxies, roleHeader: "X-Forwarded-Role" })] },
    });
    services.push(service);
    const server = await serve(service.app.fetch, { port: 0 });
    servers.push(server);
    return `http://127.0.0.1:${server.port}`;
  };
  after(async () => {
    for (const server of servers) await server.stop(0);
    for (const service of services) await service.close();
  });

  it("believes the header from an allowlisted peer, with an allowed role", async () => {
    const base = await start(["127.0.0.0/8", "::1"]);
    const viewer = await fetch(`${base}/api/v1/config`, { headers: { "x-forwarded-user": "ana" } });
    assert.equal(viewer.status, 200);
    await viewer.body?.cancel();
    const denied = await fetch(`${base}/api/v1/config`, { method: "POST", headers: { "x-forwarded-user": "ana", "content-type": "application/json" }, body: "{}" });
    assert.equal(denied.status, 403);
    await denied.body?.cancel();
    const editor = await fetch(`${base}/api/v1/config`, {
      method: "POST",
      headers: { "x-forwarded-user": "ana", "x-forwarded-role": "editor", "content-type": "application/json" },
      body: JSON.stringify({ name: "by-proxy", data: {} }),
    });
    assert.equal(editor.status, 201);
    await editor.body?.cancel();
  });

  it("refuses a role the proxy may not assert", async () => {
    const base = await start(["127.0.0.1"]);
    const res = await fetch(`${base}/api/v1/config`, { headers: { "x-forwarded-user": "eve", "x-forwarded-role": "admin" } });
    assert.equal(res.status, 401);
    await res.body?.cancel();
  });

  it("answers 401 when the header comes from a peer outside the allowlist", async () => {
    const base = await start(["10.0.0.0/8"]);
    const res = await fetch(`${base}/api/v1/config`, { headers: { "x-forwarded-user": "mallory", "x-forwarded-for": "10.1.2.3" } });
    assert.equal(res.status, 401);
    assert.match((await res.json()).detail, /untrusted source/);
  });

  it("passes the tenant the proxy asserts on to the principal", async () => {
    const backend = trustedHeaderBackend({ trustedProxies: ["10.0.0.0/8"], tenantHeader: "X-Forwarded-Tenant" });
    const request = new Request("http://service/api/v1/config", { headers: { "x-forwarded-user": "ana", "x-forwarded-tenant": "district-7" } });
    rememberClientAddress(request, "10.1.2.3");
    const principal = await backend.authenticate(request);
    assert.deepEqual([principal?.kind, principal?.id, principal?.role, principal?.tenantId], ["external", "ana", "viewer", "district-7"]);
  });

  it("matches IPv4, IPv6 and IPv4-mapped addresses against ranges", () => {
    const inside = (address: string, range: string) => inRange(addressBytes(address)!, parseRange(range));
    assert.ok(inside("10.20.30.40", "10.0.0.0/8"));
    assert.ok(!inside("11.0.0.1", "10.0.0.0/8"));
    assert.ok(inside("::ffff:127.0.0.1", "127.0.0.1"));
    assert.ok(inside("fd00::1:2", "fd00::/8"));
    assert.ok(!inside("fe80::1", "fd00::/8"));
    assert.ok(inside("192.168.1.130", "192.168.1.128/25"));
    assert.ok(!inside("192.168.1.127", "192.168.1.128/25"));
    assert.throws(() => parseRange("10.0.0.0/33"));
    assert.throws(() => parseRange("not-an-address"));
  });
});
