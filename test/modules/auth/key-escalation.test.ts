import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { covers, RoleRegistry } from "../../../src/modules/auth/roles.ts";
import { ADMIN_KEY, authService, type AuthTestService } from "./_service.ts";

describe("key issuance cannot escalate", () => {
  let service: AuthTestService;
  let keymaster: string;
  let scopedAdmin: string;

  before(async () => {
    service = await authService({ auth: { roles: { keymaster: { permissions: ["auth:admin"] } } } });
    keymaster = (await service.auth.keys.issue({ name: "keymaster", role: "keymaster" })).key;
    scopedAdmin = (await service.auth.keys.issue({ name: "scoped", role: "admin", scopes: ["auth:admin", "config:read"] })).key;
  });
  after(() => service.close());

  const issue = (key: string, body: Record<string, unknown>): Promise<Response> =>
    service.call("POST", "/api/v1/auth/keys", { key, body: { name: "new", ...body } });

  test("a role holding only auth:admin cannot issue an admin or viewer key", async () => {
    for (const role of ["admin", "editor", "viewer"]) {
      const response = await issue(keymaster, { role });
      assert.equal(response.status, 403, `${role}: ${await response.clone().text()}`);
      assert.equal((await response.json()).type, "urn:chapkit:error:forbidden");
    }
    assert.equal((await issue(keymaster, { role: "keymaster" })).status, 201);
  });

  test("a scoped admin key cannot issue an unscoped key or a wider scope", async () => {
    assert.equal((await issue(scopedAdmin, { role: "admin" })).status, 403);
    assert.equal((await issue(scopedAdmin, { role: "viewer", scopes: ["config:*"] })).status, 403);
    assert.equal((await issue(scopedAdmin, { role: "viewer", scopes: ["config:read"] })).status, 201);
  });

  test("a caller cannot create a user with a role above its own", async () => {
    const response = await service.call("POST", "/api/v1/auth/users", {
      key: keymaster,
      body: { username: "mallory", password: "correct horse battery", role: "admin" },
    });
    assert.equal(response.status, 403);
    const list = await service.call("GET", "/api/v1/auth/users", { key: ADMIN_KEY });
    assert.ok(!(await list.text()).includes("mallory"));
  });

  test("the full admin still issues any key", async () => {
    assert.equal((await issue(ADMIN_KEY, { role: "admin" })).status, 201);
  });
});

describe("pattern coverage", () => {
  test("covers orders wildcards", () => {
    assert.ok(covers("*", "config:read") && covers("config:*", "config:read") && covers("*:read", "config:read"));
    assert.ok(!covers("config:read", "config:*") && !covers("*:read", "*") && !covers("config:*", "*:read"));
  });

  test("canGrant compares effective permissions", () => {
    const roles = new RoleRegistry();
    assert.ok(roles.canGrant({ role: "admin" }, "viewer"));
    assert.ok(!roles.canGrant({ role: "editor" }, "admin"));
    assert.ok(roles.canGrant({ role: "editor" }, "admin", ["config:read"]));
    assert.ok(!roles.canGrant({ role: "admin", scopes: ["config:read"] }, "viewer"));
  });
});
