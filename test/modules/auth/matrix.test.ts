import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ADMIN_KEY, authService, type AuthTestService } from "./_service.ts";

// Every route the test service mounts, checked for every kind of caller. The
// expectations are written out here, independently of the resolver.
const service: AuthTestService = await authService();
const ULID = "01K72P5N5KCRM6MD3BRE4P0999";
const PUBLIC = new Set(["/", "/docs", "/docs/scalar.js", "/docs/openapi-page.js", "/openapi.json", "/api/v1/health", "/health/live", "/health/ready", "/api/v1/info", "/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/auth/mfa/$verify", "/api/v1/auth/mfa/totp/$enroll", "/api/v1/auth/mfa/totp/$confirm"]);
const SELF_SERVICE = new Set(["/api/v1/auth/me", "/api/v1/auth/logout", "/api/v1/auth/sessions", "/api/v1/auth/sessions/:session_id"]);
const READS = new Set(["GET", "HEAD"]);

const all = service.app.routes.filter((route) => route.method !== "ALL" && !route.path.includes("*"));
const hidden = (route: (typeof all)[number]): boolean => (route.hooks as { detail?: { hide?: boolean } }).detail?.hide === true;
const documented = new Set(all.filter((route) => !hidden(route)).map((route) => route.path));
const routes = [...new Map(all.map((route) => [`${route.method} ${route.path}`, {
  method: route.method,
  path: route.path,
  // The answers of missing methods on documented paths (405).
  missingMethod: hidden(route) && documented.has(route.path),
}])).values()];

const concrete = (path: string): string => path.replace(/:name\b/, "ghost").replace(/:[A-Za-z_]+/g, ULID);
const isPublic = (path: string): boolean => PUBLIC.has(path);
const DRAIN = "/api/v1/system/$drain";
const isAuthAdmin = (path: string): boolean =>
  (path.startsWith("/api/v1/auth/") && !isPublic(path) && !SELF_SERVICE.has(path)) || path === DRAIN;
// The matrix writes `{}`, which for tasks means a shell task: that needs `tasks:shell`, which editors lack.
const isShellTaskWrite = (method: string, path: string): boolean =>
  !READS.has(method) && method !== "DELETE" && path.startsWith("/api/v1/tasks") && !/\$(execute|bulk-delete)$/.test(path);

describe("the permission matrix over every route", () => {
  const keys: Record<string, string> = {};

  before(async () => {
    keys.viewer = (await service.auth.keys.issue({ name: "viewer", role: "viewer" })).key;
    keys.editor = (await service.auth.keys.issue({ name: "editor", role: "editor" })).key;
    keys.admin = ADMIN_KEY;
  });
  after(() => service.close());

  const send = (method: string, path: string, key?: string): Promise<Response> =>
    service.call(method, concrete(path), {
      ...(key ? { key } : {}),
      ...(READS.has(method) || method === "DELETE" ? {} : { body: {} }),
    });

  it("covers the core, module and auth routes", () => {
    const paths = new Set(routes.map((route) => route.path));
    for (const path of ["/api/v1/health", "/api/v1/system", "/api/v1/info", "/api/v1/jobs", "/api/v1/auth/keys", "/api/v1/auth/users/:entity_id"]) {
      assert.ok(paths.has(path), path);
    }
  });

  it("cannot be bypassed by spelling a path differently", async () => {
    for (const path of ["/api/v1//config", "//api/v1/config", "/api/v1/config/", "/api/v1/./config", "/api/v1/x/../config", "/api/v1/%63onfig", "/api/v1/config%2F", "/api/v1/health/..%2Fconfig", "/docs/..%2F..%2Fapi/v1/config"]) {
      const res = await service.call("POST", path, { key: keys.viewer, body: { name: "sneaky", data: {} } });
      assert.ok([403, 404].includes(res.status), `${path}: ${res.status}`);
      await res.body?.cancel();
    }
  });

  for (const { method, path, missingMethod } of routes) {
    const label = `${method} ${path}`;
    const write = !READS.has(method);

    if (missingMethod) {
      it(`${label}: 405 to any authenticated caller${isPublic(path) ? ", and to anonymous ones on open paths" : ", 401 without credentials"}`, async () => {
        assert.equal((await send(method, path)).status, isPublic(path) ? 405 : 401);
        for (const key of Object.values(keys)) assert.equal((await send(method, path, key)).status, 405);
      });
      continue;
    }

    if (isPublic(path)) {
      it(`${label}: open without credentials`, async () => {
        const res = await send(method, path);
        assert.ok(![401, 403].includes(res.status) && res.status < 500, `got ${res.status}`);
        await res.body?.cancel();
      });
      continue;
    }

    it(`${label}: 401 without credentials`, async () => {
      const res = await send(method, path);
      assert.equal(res.status, 401);
      assert.equal((await res.json()).type, "urn:chapkit:error:unauthorized");
      assert.ok(res.headers.get("www-authenticate"));
    });

    const viewerDenied = isAuthAdmin(path) || (write && !SELF_SERVICE.has(path));
    it(`${label}: viewer ${viewerDenied ? "403" : "allowed"}`, async () => {
      const res = await send(method, path, keys.viewer);
      if (viewerDenied) {
        assert.equal(res.status, 403);
        assert.equal((await res.json()).type, "urn:chapkit:error:forbidden");
      } else {
        assert.ok(![401, 403].includes(res.status) && res.status < 500, `got ${res.status}`);
        await res.body?.cancel();
      }
    });

    const editorDenied = isAuthAdmin(path) || isShellTaskWrite(method, path);
    it(`${label}: editor ${editorDenied ? "403" : "allowed"}`, async () => {
      const res = await send(method, path, keys.editor);
      if (editorDenied) assert.equal(res.status, 403);
      else assert.ok(![401, 403].includes(res.status) && res.status < 500, `got ${res.status}`);
      await res.body?.cancel();
    });

    // Draining the shared service would turn its health checks to 503; test/service/deploy.test.ts drains one of its own.
    if (path === DRAIN) continue;
    it(`${label}: admin allowed`, async () => {
      const res = await send(method, path, keys.admin);
      assert.ok(![401, 403].includes(res.status) && res.status < 500, `got ${res.status}`);
      await res.body?.cancel();
    });
  }
});
