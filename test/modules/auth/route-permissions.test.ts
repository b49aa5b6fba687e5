import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  AUTHENTICATED,
  conventionalPermission,
  PERMISSION_DETAIL_KEY,
  routeEntries,
  RoutePermissions,
  RouteTable,
  withPermission,
} from "../../../src/http/auth-guard-permissions.ts";
import { DEFAULT_PUBLIC_PATHS, isPublicPath } from "../../../src/http/auth-guard.ts";

describe("the route table", () => {
  const table = new RouteTable<string>();
  table.add("GET", "/api/v1/config/:entity_id", "by-id");
  table.add("GET", "/api/v1/config/$schema", "schema");
  table.add("ALL", "/api/v1/config/*", "any");
  table.add("POST", "/api/v1/config/:entity_id/$link-artifact", "link");

  it("prefers static segments over parameters", () => {
    assert.equal(table.match("GET", "/api/v1/config/$schema"), "schema");
    assert.equal(table.match("GET", "/api/v1/config/01K72P5N5KCRM6MD3BRE4P0999"), "by-id");
  });

  it("serves HEAD from GET entries and falls back to ALL", () => {
    assert.equal(table.match("HEAD", "/api/v1/config/$schema"), "schema");
    assert.equal(table.match("DELETE", "/api/v1/config/x"), "any");
  });

  it("matches operations under an entity and ignores trailing slashes", () => {
    assert.equal(table.match("POST", "/api/v1/config/abc/$link-artifact/"), "link");
  });

  it("matches nothing outside its patterns", () => {
    assert.equal(table.match("GET", "/api/v1/artifacts"), undefined);
  });
});

describe("conventional permissions", () => {
  it("maps reads and writes to the resource after /api/v1", () => {
    assert.equal(conventionalPermission("GET", "/api/v1/config/:id"), "config:read");
    assert.equal(conventionalPermission("HEAD", "/api/v1/artifacts"), "artifacts:read");
    assert.equal(conventionalPermission("POST", "/api/v1/config"), "config:write");
    assert.equal(conventionalPermission("PUT", "/api/v1/artifacts/:id"), "artifacts:write");
    assert.equal(conventionalPermission("DELETE", "/api/v1/config/:id"), "config:write");
  });

  it("maps the train, predict, execute and cancel operations to their own actions", () => {
    assert.equal(conventionalPermission("POST", "/api/v1/ml/$train"), "ml:train");
    assert.equal(conventionalPermission("POST", "/api/v1/ml/$predict"), "ml:predict");
    assert.equal(conventionalPermission("POST", "/api/v1/tasks/:id/$execute"), "tasks:execute");
    assert.equal(conventionalPermission("POST", "/api/v1/jobs/:id/$cancel"), "jobs:cancel");
  });

  it("needs only authentication outside the API prefix", () => {
    assert.equal(conventionalPermission("GET", "/custom"), AUTHENTICATED);
  });
});

describe("route permission resolution", () => {
  const routes = routeEntries([
    { method: "GET", path: "/api/v1/config", hooks: {} },
    { method: "POST", path: "/api/v1/reports/$build", hooks: { detail: withPermission({ summary: "x" }, "reports:build") } },
    { method: "DELETE", path: "/api/v1/jobs/:job_id" },
    { method: "ALL", path: "/*" },
  ]);
  const resolver = new RoutePermissions({
    routes: () => routes,
    defaults: { "DELETE /api/v1/jobs/:id": "jobs:cancel", "POST /api/v1/reports/$build": "ignored" },
    overrides: { "GET /api/v1/config": "public" },
  });

  it("reads a permission declared in the route detail", () => {
    assert.equal(routes[1]!.permission, "reports:build");
    assert.equal(withPermission({}, "a:b")[PERMISSION_DETAIL_KEY], "a:b");
    assert.equal(resolver.resolve("POST", "/api/v1/reports/$build"), "reports:build");
  });

  it("uses defaults only for routes that declare nothing", () => {
    assert.equal(resolver.resolve("DELETE", "/api/v1/jobs/01K72P5N5KCRM6MD3BRE4P0999"), "jobs:cancel");
  });

  it("lets overrides win", () => {
    assert.equal(resolver.resolve("GET", "/api/v1/config"), "public");
  });

  it("needs authentication for requests that hit no route", () => {
    assert.equal(resolver.resolve("GET", "/nowhere"), AUTHENTICATED);
  });
});

describe("public paths", () => {
  it("opens the landing page, docs, OpenAPI, health and info by default", () => {
    for (const path of ["/", "/docs", "/docs/", "/docs/scalar.js", "/openapi.json", "/api/v1/health", "/api/v1/info/"]) {
      assert.ok(isPublicPath(path, DEFAULT_PUBLIC_PATHS), path);
    }
  });

  it("keeps everything else closed", () => {
    for (const path of ["/api/v1/config", "/api/v1/health/extra", "/docsx", "/api/v1/system", "/openapi.json/x"]) {
      assert.ok(!isPublicPath(path, DEFAULT_PUBLIC_PATHS), path);
    }
  });
});
