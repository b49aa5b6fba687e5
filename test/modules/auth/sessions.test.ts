import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Driver } from "../../../src/db/driver.ts";
import { testStores } from "../../_support/stores.ts";
import { ADMIN_KEY, authService, type AuthTestService } from "./_service.ts";

type Tokens = { access_token: string; refresh_token: string; session_id: string; token_type: string; expires_in: number };

for (const store of testStores()) {
  describe(`users and sessions on ${store.name}`, () => {
    let db: Driver;
    let service: AuthTestService;

    before(async () => {
      db = await store.open();
      service = await authService({ db, auth: { loginPolicy: { slowDownAfter: 100, lockAfter: 3, lockSeconds: 600 } } });
      for (const [username, role] of [["alice", "editor"], ["bob", "viewer"], ["carol", "viewer"], ["dave", "viewer"]]) {
        await service.auth.users.create({ username, password: `${username}-password`, role });
      }
    });
    after(async () => {
      await service.close();
      await db.close();
      await store.cleanup();
    });

    const login = (username: string, password = `${username}-password`): Promise<Response> =>
      service.call("POST", "/api/v1/auth/login", { body: { username, password } });
    const tokens = async (username: string): Promise<Tokens> => {
      const res = await login(username);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("cache-control"), "no-store");
      return await res.json();
    };
    const refresh = (token: string): Promise<Response> =>
      service.call("POST", "/api/v1/auth/refresh", { body: { refresh_token: token } });

    it("logs in with a password and authenticates with the access token", async () => {
      const pair = await tokens("alice");
      assert.equal(pair.token_type, "bearer");
      assert.equal(pair.expires_in, 900);
      const me = await (await service.call("GET", "/api/v1/auth/me", { token: pair.access_token })).json();
      assert.equal(me.name, "alice");
      assert.equal(me.role, "editor");
    });

    it("refuses a wrong password and an unknown user alike, and audits both", async () => {
      const wrong = await login("bob", "not-bobs-password");
      const unknown = await login("nobody", "whatever-password");
      assert.equal(wrong.status, 401);
      assert.equal(unknown.status, 401);
      assert.equal((await wrong.json()).detail, (await unknown.json()).detail);
      const audit = await service.auth.audit.page(1, 20, { event: "auth.login", outcome: "failure" });
      const reasons = audit.items.map((item) => item.details?.reason);
      assert.ok(reasons.includes("bad_password") && reasons.includes("unknown_user"));
    });

    it("rotates refresh tokens", async () => {
      const first = await tokens("alice");
      const res = await refresh(first.refresh_token);
      assert.equal(res.status, 200);
      const second: Tokens = await res.json();
      assert.notEqual(second.refresh_token, first.refresh_token);
      assert.equal(second.session_id, first.session_id);
      assert.equal((await service.call("GET", "/api/v1/auth/me", { token: second.access_token })).status, 200);
    });

    it("revokes the whole family when a rotated refresh token is reused", async () => {
      const first = await tokens("alice");
      const second: Tokens = await (await refresh(first.refresh_token)).json();
      const reuse = await refresh(first.refresh_token);
      assert.equal(reuse.status, 401);
      assert.equal((await refresh(second.refresh_token)).status, 401, "the newest token dies with its family");
      assert.equal((await service.call("GET", "/api/v1/auth/me", { token: second.access_token })).status, 401);
      const audit = await service.auth.audit.page(1, 20, { event: "auth.refresh.reuse" });
      assert.ok(audit.items.some((item) => item.target === first.session_id));
    });

    it("lets only one of two concurrent refreshes with the same token succeed", async () => {
      const pair = await tokens("alice");
      const statuses = (await Promise.all([refresh(pair.refresh_token), refresh(pair.refresh_token)])).map((res) => res.status);
      assert.deepEqual(statuses.sort(), [200, 401]);
    });

    it("ends the session on logout", async () => {
      const pair = await tokens("alice");
      assert.equal((await service.call("POST", "/api/v1/auth/logout", { token: pair.access_token })).status, 204);
      assert.equal((await service.call("GET", "/api/v1/auth/me", { token: pair.access_token })).status, 401);
      assert.equal((await refresh(pair.refresh_token)).status, 401);
    });

    it("lists a user's own sessions and lets them revoke one", async () => {
      const one = await tokens("bob");
      const two = await tokens("bob");
      const listed = await (await service.call("GET", "/api/v1/auth/sessions", { token: one.access_token })).json();
      assert.ok(listed.some((s: { id: string }) => s.id === two.session_id));
      assert.ok(listed.every((s: { user_id: string; active: boolean }) => typeof s.user_id === "string"));
      assert.equal((await service.call("DELETE", `/api/v1/auth/sessions/${two.session_id}`, { token: one.access_token })).status, 204);
      assert.equal((await service.call("GET", "/api/v1/auth/me", { token: two.access_token })).status, 401);
      assert.equal((await service.call("GET", "/api/v1/auth/me", { token: one.access_token })).status, 200);
    });

    it("refuses to revoke another user's session unless the caller administers auth", async () => {
      const bob = await tokens("bob");
      const alice = await tokens("alice");
      assert.equal((await service.call("DELETE", `/api/v1/auth/sessions/${bob.session_id}`, { token: alice.access_token })).status, 403);
      assert.equal((await service.call("GET", `/api/v1/auth/sessions?user_id=x`, { token: alice.access_token })).status, 403);
      assert.equal((await service.call("DELETE", `/api/v1/auth/sessions/${bob.session_id}`, { key: ADMIN_KEY })).status, 204);
    });

    it("locks an account after repeated failures, even for the right password", async () => {
      for (let i = 0; i < 3; i++) assert.equal((await login("carol", "wrong-password")).status, 401);
      const res = await login("carol");
      assert.equal(res.status, 429);
      assert.ok(Number(res.headers.get("retry-after")) > 500);
      const audit = await service.auth.audit.page(1, 50, { event: "auth.login.locked" });
      assert.ok(audit.items.some((item) => item.actor_name === "carol"));
      const user = await (await service.call("GET", "/api/v1/auth/users?size=10&page=1", { key: ADMIN_KEY })).json();
      assert.ok(user.items.find((u: { username: string }) => u.username === "carol").locked_until);
    });

    it("refuses disabled users, including their live tokens", async () => {
      const pair = await tokens("dave");
      const [row] = await service.auth.stores.users.findMany({ filter: { kind: "compare", field: "username", op: "eq", value: "dave" } });
      const res = await service.call("PUT", `/api/v1/auth/users/${row!.id}`, { key: ADMIN_KEY, body: { username: "dave", disabled: true } });
      assert.equal(res.status, 200);
      assert.equal((await service.call("GET", "/api/v1/auth/me", { token: pair.access_token })).status, 401);
      assert.equal((await login("dave")).status, 401);
    });

    it("manages users like any entity, never returning passwords", async () => {
      const res = await service.call("POST", "/api/v1/auth/users", { key: ADMIN_KEY, body: { username: "erin", password: "erin-password", role: "editor" } });
      assert.equal(res.status, 201);
      const text = await res.text();
      assert.ok(!text.includes("password"));
      assert.equal(JSON.parse(text).role, "editor");
      assert.equal((await login("erin")).status, 200);
      const missing = await service.call("POST", "/api/v1/auth/users", { key: ADMIN_KEY, body: { username: "frank" } });
      assert.equal(missing.status, 422);
      const viewer = await tokens("bob");
      assert.equal((await service.call("GET", "/api/v1/auth/users", { token: viewer.access_token })).status, 403);
    });

    it("lets administrators define custom roles that inherit", async () => {
      const saved = await service.call("POST", "/api/v1/auth/roles", { key: ADMIN_KEY, body: { name: "jobs_operator", inherits: ["viewer"], permissions: ["jobs:cancel"] } });
      assert.equal(saved.status, 200);
      await service.auth.users.create({ username: "gina", password: "gina-password", role: "jobs_operator" });
      const pair = await tokens("gina");
      const me = await (await service.call("GET", "/api/v1/auth/me", { token: pair.access_token })).json();
      assert.deepEqual(me.permissions.sort(), ["*:read", "jobs:cancel"]);
      const builtin = await service.call("POST", "/api/v1/auth/roles", { key: ADMIN_KEY, body: { name: "admin", permissions: [] } });
      assert.equal(builtin.status, 422);
    });

    it("pages the audit log newest first", async () => {
      const res = await service.call("GET", "/api/v1/auth/audit?page=1&size=2", { key: ADMIN_KEY });
      const page = await res.json();
      assert.equal(page.size, 2);
      assert.equal(page.items.length, 2);
      assert.ok(page.total >= 10);
      assert.equal(page.pages, Math.ceil(page.total / 2));
      assert.ok(page.items[0].id > page.items[1].id);
      assert.equal((await service.call("GET", "/api/v1/auth/audit?size=0", { key: ADMIN_KEY })).status, 422);
    });
  });
}

describe("login throttling", () => {
  it("makes repeated failures wait before the next attempt", async () => {
    const service = await authService({ auth: { loginPolicy: { slowDownAfter: 2, backoffSeconds: 60, lockAfter: 100 } } });
    try {
      await service.auth.users.create({ username: "hank", password: "hank-password" });
      const attempt = (password: string) => service.call("POST", "/api/v1/auth/login", { body: { username: "hank", password } });
      assert.equal((await attempt("wrong-1")).status, 401);
      assert.equal((await attempt("wrong-2")).status, 401);
      const res = await attempt("hank-password");
      assert.equal(res.status, 429);
      assert.equal((await res.json()).type, "urn:chapkit:error:rate-limited");
      assert.ok(Number(res.headers.get("retry-after")) >= 1);
    } finally {
      await service.close();
    }
  });
});
