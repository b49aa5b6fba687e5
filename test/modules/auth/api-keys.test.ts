import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Driver } from "../../../src/db/driver.ts";
import { staticKeysFromEnv } from "../../../src/modules/auth/mod.ts";
import { testStores } from "../../_support/stores.ts";
import { ADMIN_KEY, authService, type AuthTestService } from "./_service.ts";

for (const store of testStores()) {
  describe(`API keys on ${store.name}`, () => {
    let db: Driver;
    let service: AuthTestService;

    before(async () => {
      db = await store.open();
      service = await authService({ db });
    });
    after(async () => {
      await service.close();
      await db.close();
      await store.cleanup();
    });

    const issue = async (body: Record<string, unknown>): Promise<Record<string, unknown>> => {
      const res = await service.call("POST", "/api/v1/auth/keys", { key: ADMIN_KEY, body });
      assert.equal(res.status, 201);
      return await res.json();
    };

    it("shows an issued key once and never again", async () => {
      const issued = await issue({ name: "ci", role: "editor" });
      assert.match(String(issued.key), /^ck_[A-Za-z0-9_-]{43}$/);
      const one = await (await service.call("GET", `/api/v1/auth/keys/${issued.id}`, { key: ADMIN_KEY })).text();
      const all = await (await service.call("GET", "/api/v1/auth/keys", { key: ADMIN_KEY })).text();
      for (const text of [one, all]) {
        assert.ok(!text.includes(String(issued.key)));
        assert.ok(!text.includes("key_hash"));
      }
      assert.equal(JSON.parse(one).name, "ci");
    });

    it("stores only a hash of the key", async () => {
      const issued = await issue({ name: "hashed" });
      const rows = await db.query(`SELECT * FROM auth_api_keys WHERE id = ?`, [String(issued.id)]);
      assert.ok(!JSON.stringify(rows).includes(String(issued.key)));
      assert.match(String(rows[0]!.key_hash), /^[0-9a-f]{64}$/);
    });

    it("authenticates with an issued key and records when it was used", async () => {
      const issued = await issue({ name: "reader", role: "viewer" });
      assert.equal(issued.last_used_at, null);
      const res = await service.call("GET", "/api/v1/system", { key: String(issued.key) });
      assert.equal(res.status, 200);
      const after = await service.auth.keys.get(String(issued.id));
      assert.ok(after.last_used_at);
    });

    it("refuses a revoked key, and a second revocation conflicts", async () => {
      const issued = await issue({ name: "short-lived" });
      assert.equal((await service.call("DELETE", `/api/v1/auth/keys/${issued.id}`, { key: ADMIN_KEY })).status, 204);
      const res = await service.call("GET", "/api/v1/system", { key: String(issued.key) });
      assert.equal(res.status, 401);
      assert.equal((await res.json()).type, "urn:chapkit:error:unauthorized");
      assert.equal((await service.call("DELETE", `/api/v1/auth/keys/${issued.id}`, { key: ADMIN_KEY })).status, 409);
    });

    it("refuses an expired key", async () => {
      const issued = await service.auth.keys.issue({ name: "old", expires_at: "2020-01-01T00:00:00.000Z" });
      assert.equal((await service.call("GET", "/api/v1/system", { key: issued.key })).status, 401);
    });

    it("refuses an unknown key with WWW-Authenticate", async () => {
      const res = await service.call("GET", "/api/v1/system", { key: "ck_not-a-real-key" });
      assert.equal(res.status, 401);
      assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer realm="chapkit"/);
    });

    it("narrows a key's role by its scopes", async () => {
      const issued = await issue({ name: "jobs-only", role: "admin", scopes: ["jobs:read"] });
      assert.equal((await service.call("GET", "/api/v1/jobs", { key: String(issued.key) })).status, 200);
      assert.equal((await service.call("GET", "/api/v1/system", { key: String(issued.key) })).status, 403);
      assert.equal((await service.call("GET", "/api/v1/auth/keys", { key: String(issued.key) })).status, 403);
    });

    it("answers 429 with Retry-After once a key's rate limit is spent", async () => {
      const issued = await issue({ name: "limited", role: "viewer", rate_limit: 2 });
      for (let i = 0; i < 2; i++) assert.equal((await service.call("GET", "/api/v1/system", { key: String(issued.key) })).status, 200);
      const res = await service.call("GET", "/api/v1/system", { key: String(issued.key) });
      assert.equal(res.status, 429);
      assert.equal((await res.json()).type, "urn:chapkit:error:rate-limited");
      assert.ok(Number(res.headers.get("retry-after")) >= 1);
    });

    it("refuses key administration to a viewer and audits the denial", async () => {
      const issued = await issue({ name: "nosy", role: "viewer" });
      const res = await service.call("POST", "/api/v1/auth/keys", { key: String(issued.key), body: { name: "x" } });
      assert.equal(res.status, 403);
      assert.equal((await res.json()).type, "urn:chapkit:error:forbidden");
      const audit = await service.auth.audit.page(1, 10, { event: "auth.permission.denied" });
      assert.ok(audit.items.some((item) => item.actor_id === issued.id && item.details?.permission === "auth:admin"));
    });

    it("audits issuing and revoking keys", async () => {
      const issued = await issue({ name: "audited" });
      await service.call("DELETE", `/api/v1/auth/keys/${issued.id}`, { key: ADMIN_KEY });
      const res = await service.call("GET", "/api/v1/auth/audit?size=50", { key: ADMIN_KEY });
      const events = (await res.json()).items.filter((item: { target: string }) => item.target === issued.id);
      assert.deepEqual(events.map((item: { event: string }) => item.event), ["auth.key.revoked", "auth.key.issued"]);
    });

    it("validates a key request", async () => {
      const res = await service.call("POST", "/api/v1/auth/keys", { key: ADMIN_KEY, body: { name: "x", role: "ghost" } });
      assert.equal(res.status, 422);
    });
  });
}

describe("static API keys", () => {
  it("come from CHAPKIT_API_KEYS and CHAPKIT_API_KEY_FILE", () => {
    const dir = mkdtempSync(join(tmpdir(), "chapkit-keys-"));
    try {
      const file = join(dir, "keys.txt");
      writeFileSync(file, "# deployment keys\nfile-key-one\n\n  file-key-two  \n");
      assert.deepEqual(
        staticKeysFromEnv({ CHAPKIT_API_KEYS: "env-a, env-b,,", CHAPKIT_API_KEY_FILE: file }),
        ["env-a", "env-b", "file-key-one", "file-key-two"],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("take the configured role and header", async () => {
    const service = await authService({
      auth: { staticKeys: undefined, env: { CHAPKIT_API_KEYS: "viewer-static-key-0123456789" }, staticKeyRole: "viewer", apiKeyHeader: "X-Service-Key" },
    });
    try {
      const headers = { "x-service-key": "viewer-static-key-0123456789" };
      assert.equal((await service.call("GET", "/api/v1/system", { headers })).status, 200);
      assert.equal((await service.call("GET", "/api/v1/auth/keys", { headers })).status, 403);
      assert.equal((await service.call("GET", "/api/v1/system", { key: "viewer-static-key-0123456789" })).status, 401);
    } finally {
      await service.close();
    }
  });
});
