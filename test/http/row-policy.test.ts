/**
 * Row policies: every route of an entity sees and changes only the rows the
 * caller's role allows; a denied row answers exactly like a missing one.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Type } from "@sinclair/typebox";
import { defineEntity } from "../../src/core/entity-definition.ts";
import { bindVariables, matchesRow, MATCH_NONE } from "../../src/core/query/filter-variables.ts";
import { parseFilter } from "../../src/core/query/filter-parse.ts";
import { FILTER_VARIABLES } from "../../src/core/query/filter-variables.ts";
import type { Driver } from "../../src/db/driver.ts";
import { ROW_ACCESS_KEY, type RowAccess, type RowPolicies, subjectOf } from "../../src/http/row-policy.ts";
import type { AuthManager } from "../../src/modules/auth/manager.ts";
import { AUTH_KEY } from "../../src/modules/auth/mod.ts";
import { entityManagerOf } from "../../src/modules/entity/mod.ts";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import { call, json } from "../_support/http.ts";
import { memoryStore, postgresStore, type TestStore } from "../_support/stores.ts";

const ADMIN_KEY = "row-policy-admin-key-0123456789abcdef0123";
const Note = defineEntity({
  table: "notes",
  name: "Note",
  fields: {
    title: Type.String({ minLength: 1 }),
    owner_id: Type.String(),
    shared: Type.Boolean({ default: false }),
  },
});
const Secret = defineEntity({ table: "secrets", name: "Secret", fields: { text: Type.String() } });
const POLICIES: RowPolicies = {
  notes: {
    admin: {},
    "*": { read: "owner_id = $user.id || shared = true", write: "owner_id = $user.id" },
  },
  secrets: { admin: {} },
};

async function build(db: Driver, rowPolicies: RowPolicies = POLICIES): Promise<ServiceApp> {
  return await new ServiceBuilder({ info: { display_name: "Row policies" } })
    .withSettings({ env: {} })
    .withDatabase(db)
    .withEntity(Note)
    .withEntity(Secret)
    .withAuth({ jwtSecret: "row-policy-jwt-secret-0123456789abcdef01234", staticKeys: [ADMIN_KEY], passwordCost: { ln: 10, r: 8, p: 1 }, env: {}, rowPolicies })
    .build();
}

for (const store of [memoryStore(), postgresStore()] as TestStore[]) {
  describe(`row policies on ${store.name}`, () => {
    let db: Driver;
    let app: ServiceApp;
    const ids = { anaPrivate: "", benPrivate: "", benShared: "" };
    const users = { ana: { id: "", auth: {} as Record<string, string> }, ben: { id: "", auth: {} as Record<string, string> } };
    const admin = { "x-api-key": ADMIN_KEY };

    before(async () => {
      db = await store.open();
      app = await build(db);
      const auth = app.chapkit.context.get<AuthManager>(AUTH_KEY);
      for (const name of ["ana", "ben"] as const) {
        const user = await auth.users.create({ username: name, password: `${name}-password-123`, role: "editor" });
        const pair = await auth.login(name, `${name}-password-123`);
        users[name] = { id: (user as { id: string }).id, auth: { authorization: `Bearer ${pair.access_token}` } };
      }
      const create = async (body: Record<string, unknown>) => (await json<{ id: string }>(await call(app, "POST", "/api/v1/notes", body, admin), 201)).id;
      ids.anaPrivate = await create({ title: "ana private", owner_id: users.ana.id });
      ids.benPrivate = await create({ title: "ben private", owner_id: users.ben.id });
      ids.benShared = await create({ title: "ben shared", owner_id: users.ben.id, shared: true });
      await json(await call(app, "POST", "/api/v1/secrets", { text: "launch codes" }, admin), 201);
    });
    after(async () => {
      await app.chapkit.close();
      await db.close();
      await store.cleanup();
    });

    const titles = async (headers: Record<string, string>, query = ""): Promise<string[]> => {
      const body = await json<{ items: { title: string }[] } | { title: string }[]>(await call(app, "GET", `/api/v1/notes${query}`, undefined, headers), 200);
      return (Array.isArray(body) ? body : body.items).map((note) => note.title).sort();
    };

    it("lists only the rows the caller's role may read, with a matching total", async () => {
      assert.deepEqual(await titles(users.ana.auth), ["ana private", "ben shared"]);
      assert.deepEqual(await titles(users.ben.auth), ["ben private", "ben shared"]);
      assert.deepEqual(await titles(admin), ["ana private", "ben private", "ben shared"]);
      const page = await json<{ total: number }>(await call(app, "GET", "/api/v1/notes?page=1&size=10", undefined, users.ana.auth), 200);
      assert.equal(page.total, 2);
      assert.deepEqual(await titles(users.ana.auth, `?filter=${encodeURIComponent('title ~ "ben"')}`), ["ben shared"]);
    });

    it("answers a hidden row's get exactly like an unknown id (404, no existence leak)", async () => {
      const hidden = await call(app, "GET", `/api/v1/notes/${ids.benPrivate}`, undefined, users.ana.auth);
      const unknown = await call(app, "GET", "/api/v1/notes/01ARZ3NDEKTSV4RRFFQ69G5FAV", undefined, users.ana.auth);
      assert.equal(hidden.status, 404);
      assert.equal(unknown.status, 404);
      const [a, b] = [await hidden.json(), await unknown.json()];
      assert.equal(a.type, b.type);
      assert.equal(a.title, b.title);
      await json(await call(app, "GET", `/api/v1/notes/${ids.benShared}`, undefined, users.ana.auth), 200);
    });

    it("refuses updates and deletes of rows the caller may read but not write, as 404, and keeps them", async () => {
      const put = await call(app, "PUT", `/api/v1/notes/${ids.benShared}`, { title: "taken", owner_id: users.ana.id, shared: true }, users.ana.auth);
      assert.equal(put.status, 404);
      const patch = await call(app, "PATCH", `/api/v1/notes/${ids.benShared}`, { title: "taken" }, users.ana.auth);
      assert.equal(patch.status, 404);
      assert.equal((await call(app, "DELETE", `/api/v1/notes/${ids.benShared}`, undefined, users.ana.auth)).status, 404);
      assert.equal((await call(app, "DELETE", `/api/v1/notes/${ids.benPrivate}`, undefined, users.ana.auth)).status, 404);
      const kept = await json<{ title: string; owner_id: string }>(await call(app, "GET", `/api/v1/notes/${ids.benShared}`, undefined, admin), 200);
      assert.deepEqual([kept.title, kept.owner_id], ["ben shared", users.ben.id]);
      await json(await call(app, "GET", `/api/v1/notes/${ids.benPrivate}`, undefined, admin), 200);
    });

    it("refuses an upsert onto another owner's id instead of overwriting it", async () => {
      const res = await call(app, "POST", "/api/v1/notes", { id: ids.benPrivate, title: "mine now", owner_id: users.ana.id }, users.ana.auth);
      assert.equal(res.status, 404);
      const kept = await json<{ title: string }>(await call(app, "GET", `/api/v1/notes/${ids.benPrivate}`, undefined, admin), 200);
      assert.equal(kept.title, "ben private");
    });

    it("refuses to create or change a row into one the caller could not write (403), storing nothing", async () => {
      const forged = await call(app, "POST", "/api/v1/notes", { title: "forged", owner_id: users.ben.id }, users.ana.auth);
      assert.equal(forged.status, 403);
      const giveAway = await call(app, "PATCH", `/api/v1/notes/${ids.anaPrivate}`, { owner_id: users.ben.id }, users.ana.auth);
      assert.equal(giveAway.status, 403);
      const kept = await json<{ owner_id: string }>(await call(app, "GET", `/api/v1/notes/${ids.anaPrivate}`, undefined, admin), 200);
      assert.equal(kept.owner_id, users.ana.id);
      assert.ok(!(await titles(admin)).includes("forged"));
      await json(await call(app, "POST", "/api/v1/notes", { title: "ana draft", owner_id: users.ana.id }, users.ana.auth), 201);
    });

    it("applies to bulk operations: hidden or read-only ids are 404, all or nothing", async () => {
      const bulkUpdate = await call(app, "PATCH", "/api/v1/notes/$bulk-update", [{ id: ids.benShared, title: "bulk taken" }], users.ana.auth);
      assert.equal(bulkUpdate.status, 404);
      const bulkHidden = await call(app, "POST", "/api/v1/notes/$bulk-delete", { ids: [ids.benPrivate] }, users.ana.auth);
      assert.equal(bulkHidden.status, 404);
      const bulkCreate = await call(app, "POST", "/api/v1/notes/$bulk-create", [{ title: "ok", owner_id: users.ana.id }, { title: "forged 2", owner_id: users.ben.id }], users.ana.auth);
      assert.equal(bulkCreate.status, 403);
      assert.ok(!(await titles(admin)).includes("ok"));
      // All or nothing: a filter that reaches a row the caller may only read refuses the whole delete.
      const reaching = await call(app, "POST", "/api/v1/notes/$bulk-delete", { filter: 'title ~ "draft" || title ~ "ben"' }, users.ana.auth);
      assert.equal(reaching.status, 404);
      assert.ok((await titles(admin)).includes("ana draft"));
      const byFilter = await json<{ deleted: number }>(await call(app, "POST", "/api/v1/notes/$bulk-delete", { filter: 'title ~ "draft" || title ~ "private"' }, users.ana.auth), 200);
      assert.equal(byFilter.deleted, 2);
      assert.deepEqual(await titles(admin), ["ben private", "ben shared"]);
      await json(await call(app, "POST", "/api/v1/notes", { id: ids.anaPrivate, title: "ana private", owner_id: users.ana.id }, admin), 201);
    });

    it("denies every row of a table to a role the table does not list (deny by default)", async () => {
      const list = await json<unknown[]>(await call(app, "GET", "/api/v1/secrets", undefined, users.ana.auth), 200);
      assert.deepEqual(list, []);
      assert.equal((await json<unknown[]>(await call(app, "GET", "/api/v1/secrets", undefined, admin), 200)).length, 1);
    });

    it("leaves direct manager calls outside a request unrestricted", async () => {
      await call(app, "GET", "/api/v1/notes", undefined, users.ana.auth);
      const all = await entityManagerOf(app.chapkit.context, Note).list();
      assert.equal(all.length, 3);
    });

    it("gives other consumers (subscriptions, GraphQL) the same decision as a SQL filter and per row", async () => {
      const access = app.chapkit.context.get<RowAccess>(ROW_ACCESS_KEY);
      const ana = subjectOf({ kind: "user", id: users.ana.id, name: "ana", role: "editor" });
      const rows = await entityManagerOf(app.chapkit.context, Note).repository.findMany({ filter: access.filterFor("notes", "read", ana)! });
      assert.deepEqual(rows.map((row) => row.title).sort(), ["ana private", "ben shared"]);
      const benPrivate = rows.length ? await entityManagerOf(app.chapkit.context, Note).repository.findById(ids.benPrivate) : null;
      assert.equal(access.canRead("notes", benPrivate!, ana), false);
      assert.equal(access.canRead("notes", rows[0]!, ana), true);
      assert.equal(access.canWrite("notes", { owner_id: users.ben.id, shared: true }, ana), false);
      assert.equal(access.filterFor("notes", "read", subjectOf({ kind: "static_key", id: "k", name: "k", role: "admin" })), undefined);
    });
  });
}

describe("row policy configuration", () => {
  it("refuses a policy that does not parse or names an unknown column, naming it", async () => {
    const store = memoryStore();
    for (const [policies, pattern] of [
      [{ notes: { "*": { read: "owner_id = " } } }, /rowPolicies\.notes\.\*\.read/],
      [{ notes: { "*": { write: "ownr = $user.id" } } }, /rowPolicies\.notes\.\*\.write/],
      [{ notes: { "*": { read: "owner_id = $user.password" } } }, /unknown variable/],
    ] as [RowPolicies, RegExp][]) {
      const db = await store.open();
      await assert.rejects(build(db, policies), pattern);
      await db.close();
    }
    await store.cleanup();
  });

  it("binds variables to the caller and folds constants", () => {
    const policy = parseFilter('$user.role = "auditor" || owner_id = $user.id', { variables: FILTER_VARIABLES });
    assert.deepEqual(bindVariables(policy, { user: { id: "u1", role: "viewer" } }), { kind: "compare", field: "owner_id", op: "eq", value: "u1" });
    assert.deepEqual(bindVariables(policy, { user: { id: "u1", role: "auditor" } }), { kind: "and", items: [] });
    assert.deepEqual(bindVariables(policy, { user: null }), MATCH_NONE);
    const header = parseFilter("team = $request.header.x-team", { variables: FILTER_VARIABLES });
    const bound = bindVariables(header, { request: new Request("http://x/", { headers: { "x-team": "blue" } }) });
    assert.ok(matchesRow(bound, { team: "blue" }));
    assert.ok(!matchesRow(bound, { team: "red" }));
  });
});
