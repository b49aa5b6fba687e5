import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { grants, isPermissionPattern, RoleRegistry } from "../../../src/modules/auth/roles.ts";

describe("permission patterns", () => {
  it("grants exact, resource-wildcard, action-wildcard and global patterns", () => {
    assert.ok(grants("config:read", "config:read"));
    assert.ok(grants("config:*", "config:write"));
    assert.ok(grants("*:read", "artifacts:read"));
    assert.ok(grants("*", "auth:admin"));
  });

  it("refuses patterns that name another resource or action", () => {
    assert.ok(!grants("config:read", "config:write"));
    assert.ok(!grants("config:*", "artifacts:read"));
    assert.ok(!grants("*:read", "ml:train"));
  });

  it("recognises well-formed patterns only", () => {
    for (const good of ["*", "config:read", "config:*", "*:read", "my-res:do_it"]) assert.ok(isPermissionPattern(good), good);
    for (const bad of ["config", "Config:read", "config:read:x", "", ":read", "config:"]) assert.ok(!isPermissionPattern(bad), bad);
  });
});

describe("the role registry", () => {
  const roles = new RoleRegistry({
    analyst: { inherits: ["viewer"], permissions: ["ml:predict"] },
    loop_a: { inherits: ["loop_b"], permissions: ["a:x"] },
    loop_b: { inherits: ["loop_a"], permissions: ["b:x"] },
  });

  it("lets viewers read but not write", () => {
    assert.ok(roles.allows("viewer", "config:read"));
    assert.ok(!roles.allows("viewer", "config:write"));
    assert.ok(!roles.allows("viewer", "ml:train"));
  });

  it("lets editors write, train, predict, cancel and execute, but not administer auth", () => {
    for (const permission of ["config:read", "config:write", "artifacts:write", "ml:train", "ml:predict", "jobs:cancel", "tasks:execute"]) {
      assert.ok(roles.allows("editor", permission), permission);
    }
    assert.ok(!roles.allows("editor", "auth:admin"));
  });

  it("lets admins do everything", () => {
    assert.ok(roles.allows("admin", "auth:admin"));
    assert.ok(roles.allows("admin", "anything:else"));
  });

  it("resolves inheritance of custom roles", () => {
    assert.ok(roles.allows("analyst", "config:read"));
    assert.ok(roles.allows("analyst", "ml:predict"));
    assert.ok(!roles.allows("analyst", "ml:train"));
  });

  it("cuts inheritance cycles", () => {
    assert.deepEqual(roles.permissionsOf("loop_a").sort(), ["a:x", "b:x"]);
  });

  it("grants nothing to unknown roles", () => {
    assert.ok(!roles.allows("ghost", "config:read"));
  });

  it("narrows a role by scopes", () => {
    assert.ok(roles.allows("admin", "config:read", ["config:read"]));
    assert.ok(!roles.allows("admin", "config:write", ["config:read"]));
    assert.ok(!roles.allows("viewer", "config:write", ["config:*"]), "scopes never widen a role");
    assert.ok(!roles.allows("admin", "config:read", []), "empty scopes allow nothing");
  });

  it("keeps the built-in roles when custom roles try to redefine them", () => {
    const shadow = new RoleRegistry({ viewer: { permissions: ["*"] } });
    assert.ok(!shadow.allows("viewer", "auth:admin"));
  });
});
