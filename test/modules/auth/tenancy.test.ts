/**
 * Multi-tenancy: rows, users and keys of one tenant are out of reach of
 * another through every route, and tenant admins manage only their own.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Type } from "@sinclair/typebox";
import { defineEntity } from "../../../src/core/entity-definition.ts";
import type { Driver } from "../../../src/db/driver.ts";
import { routeEntries } from "../../../src/http/auth-guard-permissions.ts";
import type { AuthManager } from "../../../src/modules/auth/manager.ts";
import { AUTH_KEY } from "../../../src/modules/auth/mod.ts";
import type { ServiceApp } from "../../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../../src/service/service-builder.ts";
import { call, json } from "../../_support/http.ts";
import postgres from "postgres";
import { openDatabase } from "../../../src/db/open.ts";
import { DATABASE_URL, memoryStore, postgresStore, type TestStore } from "../../_support/stores.ts";

const PLATFORM_KEY = "tenancy-platform-key-0123456789abcdef0123";
const Note = defineEntity({
  table: "notes",
  name: "Note",
  fields: {
    title: Type.String({ minLength: 1 }),
    tenant_id: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  },
});

const Plain = defineEntity({ table: "plain", name: "Plain", fields: { title: Type.String() } });

async function build(db: Driver, tables = ["notes"]): Promise<ServiceApp> {
  return await new ServiceBuilder({ info: { display_name: "Tenancy" } })
    .withSettings({ env: {} })
    .withDatabase(db)
    .withEntity(Note)
    .withEntity(Plain)
    .withAuth({ jwtSecret: "tenancy-jwt-secret-0123456789abcdef0123456", staticKeys: [PLATFORM_KEY], passwordCost: { ln: 10, r: 8, p: 1 }, env: {}, tenancy: { tables } })
    .build();
}

for (const store of [memoryStore(), postgresStore()] as TestStore[]) {
  describe(`tenancy on ${store.name}`, () => {
    let db: Driver;
    let app: ServiceApp;
    const platform = { "x-api-key": PLATFORM_KEY };
    const tenant = {
      a: { admin: {} as Record<string, string>, editor: {} as Record<string, string>, key: {} as Record<string, string>, ids: [] as string[] },
      b: { admin: {} as Record<string, string>, editor: {} as Record<string, string>, key: {} as Record<string, string>, ids: [] as string[] },
    };
    const login = async (username: string, password: string): Promise<Record<string, string>> => {
      const pair = await json<{ access_token: string }>(await call(app, "POST", "/api/v1/auth/login", { username, password }), 200);
      return { authorization: `Bearer ${pair.access_token}` };
    };

    before(async () => {
      db = await store.open();
      app = await build(db);
      for (const name of ["a", "b"] as const) {
        const t = tenant[name];
        const admin = await json<{ id: string }>(await call(app, "POST", "/api/v1/auth/users", { username: `admin-${name}`, password: "password-123", role: "admin", tenant_id: name }, platform), 201);
        t.ids.push(admin.id);
        t.admin = await login(`admin-${name}`, "password-123");
        // A tenant admin's user lands in its own tenant whatever the body says.
        const editor = await json<{ id: string; tenant_id: string }>(await call(app, "POST", "/api/v1/auth/users", { username: `editor-${name}`, password: "password-123", role: "editor", tenant_id: "elsewhere" }, t.admin), 201);
        assert.equal(editor.tenant_id, name);
        t.ids.push(editor.id);
        t.editor = await login(`editor-${name}`, "password-123");
        const key = await json<{ id: string; key: string; tenant_id: string }>(await call(app, "POST", "/api/v1/auth/keys", { name: `ci-${name}`, role: "editor" }, t.admin), 201);
        assert.equal(key.tenant_id, name);
        t.ids.push(key.id);
        t.key = { "x-api-key": key.key };
        const note = await json<{ id: string; tenant_id: string }>(await call(app, "POST", "/api/v1/notes", { title: `secret of ${name}`, tenant_id: name === "a" ? "b" : "a" }, t.editor), 201);
        assert.equal(note.tenant_id, name);
        t.ids.push(note.id);
      }
    });
    after(async () => {
      await app.chapkit.close();
      await db.close();
      await store.cleanup();
    });

    const snapshot = async (): Promise<string> => {
      const notes = await json<unknown[]>(await call(app, "GET", "/api/v1/notes", undefined, platform), 200);
      const users = await json<unknown[]>(await call(app, "GET", "/api/v1/auth/users", undefined, platform), 200);
      const keys = await json<unknown[]>(await call(app, "GET", "/api/v1/auth/keys", undefined, platform), 200);
      return JSON.stringify([notes, users, keys]);
    };

    it("shows each tenant only its own rows, users and keys; a platform key sees all", async () => {
      for (const [name, t] of Object.entries(tenant)) {
        const notes = await json<{ title: string }[]>(await call(app, "GET", "/api/v1/notes", undefined, t.key), 200);
        assert.deepEqual(notes.map((n) => n.title), [`secret of ${name}`]);
        const users = await json<{ username: string }[]>(await call(app, "GET", "/api/v1/auth/users", undefined, t.admin), 200);
        assert.deepEqual(users.map((u) => u.username).sort(), [`admin-${name}`, `editor-${name}`]);
        const keys = await json<{ name: string }[]>(await call(app, "GET", "/api/v1/auth/keys", undefined, t.admin), 200);
        assert.deepEqual(keys.map((k) => k.name), [`ci-${name}`]);
      }
      assert.equal((await json<unknown[]>(await call(app, "GET", "/api/v1/notes", undefined, platform), 200)).length, 2);
    });

    it("reaches nothing of tenant A through any route, as tenant B's admin, and changes nothing", async () => {
      const before = await snapshot();
      const routes = routeEntries(app.routes).filter((route) =>
        (route.path.startsWith("/api/v1/notes") || route.path.startsWith("/api/v1/auth")) && route.method !== "ALL" &&
        // Logging out would only end B's own session.
        route.path !== "/api/v1/auth/logout");
      assert.ok(routes.length >= 15, `only ${routes.length} routes`);
      // What B never sent: A's titles, usernames and key names (ids B sends may be echoed in a 404).
      const secrets = ["secret of a", "admin-a", "editor-a", "ci-a"];
      const tried: string[] = [];
      for (const route of routes) {
        for (const id of route.path.includes(":") ? tenant.a.ids : [""]) {
          const path = route.path.replace(/:[a-z_]+/g, id);
          const bodies: unknown[] = route.method === "GET" || route.method === "HEAD" || route.method === "DELETE"
            ? [undefined]
            : [{ title: "stolen", username: "stolen", name: "stolen", password: "password-123", ids: tenant.a.ids, filter: 'title ~ "secret"' }, tenant.a.ids.map((a) => ({ id: a, title: "stolen" }))];
          for (const body of bodies) {
            const res = await call(app, route.method, path, body, tenant.b.admin);
            const text = await res.text();
            tried.push(`${route.method} ${path} ${res.status}`);
            if (route.method === "GET" && route.path.endsWith(":entity_id")) assert.equal(res.status, 404, `${path}: ${text}`);
            for (const secret of secrets) assert.ok(!text.includes(secret), `${route.method} ${path} answered ${res.status} with ${secret}: ${text.slice(0, 200)}`);
          }
        }
      }
      // Side effects of B's own (a stolen note of B, a deleted B key) are fine; A's rows must be untouched.
      const after = JSON.parse(await snapshot()) as { id: string; tenant_id?: string }[][];
      const beforeRows = JSON.parse(before) as { id: string }[][];
      for (let i = 0; i < 3; i++) {
        const ofA = (rows: { id: string }[]) => JSON.stringify(rows.filter((row) => tenant.a.ids.includes(row.id)));
        assert.equal(ofA(after[i]!), ofA(beforeRows[i]!), `collection ${i} of tenant A changed`);
      }
      assert.ok(tried.length > 40);
    });

    it("keeps tenant admins away from what spans tenants (audit log, role changes)", async () => {
      assert.equal((await call(app, "GET", "/api/v1/auth/audit", undefined, tenant.a.admin)).status, 403);
      assert.equal((await call(app, "POST", "/api/v1/auth/roles", { name: "x", permissions: ["*"] }, tenant.a.admin)).status, 403);
      assert.equal((await call(app, "GET", "/api/v1/auth/audit", undefined, platform)).status, 200);
    });

    it("refuses a tenant table without a tenant_id column at start", async () => {
      const other = await store.open();
      await assert.rejects(build(other, ["notes", "plain"]), /plain is scoped by tenant but has no tenant_id column/);
      await other.close().catch(() => {});
    });
  });
}

describe("PostgreSQL row-level security as a second wall", () => {
  const role = `chapkit_rls_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
  const schema = `${role}_s`;
  let admin: ReturnType<typeof postgres>;
  let db: Driver;
  let app: ServiceApp;

  before(async () => {
    admin = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
    // An ordinary role that owns its schema: superusers would bypass row-level security.
    await admin.unsafe(`CREATE ROLE "${role}" LOGIN NOSUPERUSER NOBYPASSRLS`);
    await admin.unsafe(`CREATE SCHEMA "${schema}" AUTHORIZATION "${role}"`);
    const url = new URL(DATABASE_URL);
    await admin.unsafe(`GRANT CONNECT, CREATE ON DATABASE "${url.pathname.slice(1)}" TO "${role}"`);
    url.username = role;
    db = await openDatabase(url.toString(), { postgres: { schema, max: 2 } });
    app = await new ServiceBuilder({ info: { display_name: "RLS" } })
      .withSettings({ env: {} })
      .withDatabase(db)
      .withEntity(Note)
      .withAuth({ jwtSecret: "tenancy-jwt-secret-0123456789abcdef0123456", staticKeys: [PLATFORM_KEY], passwordCost: { ln: 10, r: 8, p: 1 }, env: {}, tenancy: { tables: ["notes"], postgresRowLevelSecurity: true } })
      .build();
    for (const name of ["a", "b"]) {
      await json(await call(app, "POST", "/api/v1/auth/keys", { name, role: "editor", tenant_id: name }, { "x-api-key": PLATFORM_KEY }), 201);
    }
  });
  after(async () => {
    await app?.chapkit.close();
    await db?.close();
    await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.unsafe(`DROP OWNED BY "${role}"`);
    await admin.unsafe(`DROP ROLE IF EXISTS "${role}"`);
    await admin.end({ timeout: 1 });
  });

  it("hides other tenants' rows from an unfiltered query once the tenant is set, even for the table's owner", async () => {
    const keys = await json<{ key?: string; name: string }[]>(await call(app, "GET", "/api/v1/auth/keys", undefined, { "x-api-key": PLATFORM_KEY }), 200);
    assert.equal(keys.length, 2);
    await db.exec(`INSERT INTO "notes" ("id", "created_at", "updated_at", "title", "tenant_id") VALUES ('01ARZ3NDEKTSV4RRFFQ69G5FA1', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'of a', 'a'), ('01ARZ3NDEKTSV4RRFFQ69G5FA2', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'of b', 'b')`);
    const seen = await db.transaction(async () => {
      await db.query(`SELECT set_config('chapkit.tenant_id', ?, true) AS t`, ["b"]);
      // The query an application bug would send: no tenant filter at all.
      return await db.query<{ title: string }>(`SELECT "title" FROM "notes"`);
    });
    assert.deepEqual(seen.map((row) => row.title), ["of b"]);
    const refused = db.transaction(async () => {
      await db.query(`SELECT set_config('chapkit.tenant_id', ?, true) AS t`, ["b"]);
      await db.exec(`INSERT INTO "notes" ("id", "created_at", "updated_at", "title", "tenant_id") VALUES ('01ARZ3NDEKTSV4RRFFQ69G5FA3', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'planted', 'a')`);
    });
    await assert.rejects(refused, /row-level security|policy/i);
  });

  it("serves each tenant its rows through the routes with the wall up", async () => {
    const issued = await json<{ key: string }>(await call(app, "POST", "/api/v1/auth/keys", { name: "b2", role: "editor", tenant_id: "b" }, { "x-api-key": PLATFORM_KEY }), 201);
    const b = { "x-api-key": issued.key };
    await json(await call(app, "POST", "/api/v1/notes", { title: "made by b" }, b), 201);
    const titles = (await json<{ title: string }[]>(await call(app, "GET", "/api/v1/notes", undefined, b), 200)).map((n) => n.title).sort();
    assert.deepEqual(titles, ["made by b", "of b"]);
    assert.equal((await call(app, "GET", "/api/v1/notes/01ARZ3NDEKTSV4RRFFQ69G5FA1", undefined, b)).status, 404);
  });
});
