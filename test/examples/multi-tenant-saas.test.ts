/**
 * examples/multi_tenant_saas.ts: two organisations on one service and one
 * store; each admin manages only its own organisation, and nothing of one
 * organisation is visible or changeable by the other.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { createSaas } from "../../examples/multi_tenant_saas.ts";
import { call, json } from "../_support/http.ts";
import { postgresStore, sqliteFileStore } from "../_support/stores.ts";

const PLATFORM = { "x-api-key": "platform-key-for-the-saas-example-0001" };

for (const store of [sqliteFileStore(), postgresStore()]) {
  describe(`the multi-tenant SaaS example on ${store.name}`, () => {
    let app: ServiceApp;
    const admin: Record<string, Record<string, string>> = {};

    before(async () => {
      await (await store.open()).close();
      app = await createSaas({ databaseUrl: store.url(), platformKeys: [PLATFORM["x-api-key"]], jwtSecret: "saas-example-jwt-secret-0123456789abcdef" })
        .withSettings({ env: {} }).build();
      for (const org of ["acme", "globex"]) {
        await json(await call(app, "POST", "/api/v1/auth/users", { username: `${org}-admin`, password: "a-long-password", role: "admin", tenant_id: org }, PLATFORM), 201);
        const tokens = await json<{ access_token: string }>(await call(app, "POST", "/api/v1/auth/login", { username: `${org}-admin`, password: "a-long-password" }), 200);
        admin[org] = { authorization: `Bearer ${tokens.access_token}` };
      }
    });
    after(async () => {
      await app.chapkit.close();
      await store.cleanup();
    });

    it("scopes every project to the caller's organisation, whatever the body says", async () => {
      const acme = await json<{ id: string; tenant_id: string }>(await call(app, "POST", "/api/v1/projects", { name: "rocket", tenant_id: "globex" }, admin.acme), 201);
      assert.equal(acme.tenant_id, "acme");
      await json(await call(app, "POST", "/api/v1/projects", { name: "widgets" }, admin.globex), 201);
      assert.deepEqual((await json<{ name: string }[]>(await call(app, "GET", "/api/v1/projects", undefined, admin.acme), 200)).map((p) => p.name), ["rocket"]);
      assert.deepEqual((await json<{ name: string }[]>(await call(app, "GET", "/api/v1/projects?q=rocket", undefined, admin.globex), 200)), []);
      assert.equal((await json<unknown[]>(await call(app, "GET", "/api/v1/projects", undefined, PLATFORM), 200)).length, 2);

      // Another organisation's id answers 404 on every route, and nothing changes.
      await json(await call(app, "GET", `/api/v1/projects/${acme.id}`, undefined, admin.globex), 404);
      await json(await call(app, "PUT", `/api/v1/projects/${acme.id}`, { name: "stolen" }, admin.globex), 404);
      await json(await call(app, "DELETE", `/api/v1/projects/${acme.id}`, undefined, admin.globex), 404);
      const still = await json<{ name: string }>(await call(app, "GET", `/api/v1/projects/${acme.id}`, undefined, admin.acme), 200);
      assert.equal(still.name, "rocket");
    });

    it("lets each admin manage only its own organisation's users and keys", async () => {
      const key = await json<{ key: string; tenant_id: string }>(await call(app, "POST", "/api/v1/auth/keys", { name: "ci", role: "editor" }, admin.acme), 201);
      assert.equal(key.tenant_id, "acme");
      const users = await json<{ username: string }[]>(await call(app, "GET", "/api/v1/auth/users", undefined, admin.globex), 200);
      assert.deepEqual(users.map((user) => user.username), ["globex-admin"]);
      const viaKey = await json<{ name: string }[]>(await call(app, "GET", "/api/v1/projects", undefined, { "x-api-key": key.key }), 200);
      assert.deepEqual(viaKey.map((project) => project.name), ["rocket"]);
      await json(await call(app, "GET", "/api/v1/projects", undefined, {}), 401);
    });
  });
}
