import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Elysia } from "elysia";
import type { Driver } from "../../src/db/driver.ts";
import { testStores } from "../_support/stores.ts";
import { call } from "../http/_notes.ts";
import type { ItemRecord } from "./_fixture.ts";
import { type ItemManager, itemsApp } from "./_app.ts";

const P = "/api/v1/items";

for (const store of testStores()) {
  describe(`list queries, ETags, PATCH and bulk over HTTP on ${store.name}`, () => {
    let db: Driver;
    let app: Elysia;
    let items: ItemManager;
    let rows: ItemRecord[];
    before(async () => {
      db = await store.open();
      ({ app, items, rows } = await itemsApp(db));
    });
    after(async () => {
      await db.close();
      await store.cleanup();
    });

    it("filters, sorts and selects fields", async () => {
      const res = await call(app, "GET", `${P}?level[gte]=1&sort=-level&fields=name,data.ml_type`);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, [
        { name: rows[5]!.name, data: { ml_type: "TRAINED_MODEL" } },
        { name: "rain_100%" },
        { name: "Weather Station", data: { ml_type: "predictions" } },
      ]);
    });

    it("answers a filter expression", async () => {
      const filter = encodeURIComponent('(level = 0 && data.ml_type = "trained_model") || name ~ "station"');
      const res = await call(app, "GET", `${P}?filter=${filter}`);
      assert.deepEqual(res.body.map((item: ItemRecord) => item.name), ["weather", "Weather Station", rows[4]!.name]);
    });

    it("answers 400 invalid-query naming an unknown parameter, and ignores _ parameters", async () => {
      const res = await call(app, "GET", `${P}?colour=red&_=1`);
      assert.equal(res.status, 400);
      assert.equal(res.headers.get("content-type"), "application/problem+json");
      assert.equal(res.body.type, "urn:chapkit:error:invalid-query");
      assert.equal(res.body.parameter, "colour");
      assert.match(res.body.detail, /colour/);
      assert.equal((await call(app, "GET", `${P}?_=1`)).status, 200);
    });

    it("names the position of a malformed expression", async () => {
      const res = await call(app, "GET", `${P}?filter=${encodeURIComponent("level = 0 &&")}`);
      assert.equal(res.status, 400);
      assert.equal(res.body.position, 13);
      assert.match(res.body.detail, /filter at position 13/);
    });

    it("pages with a cursor", async () => {
      const first = await call(app, "GET", `${P}?limit=4&sort=name`);
      assert.deepEqual(Object.keys(first.body), ["items", "next_cursor", "total"]);
      assert.equal(first.body.items.length, 4);
      const second = await call(app, "GET", `${P}?limit=4&sort=name&cursor=${first.body.next_cursor}`);
      assert.equal(second.body.items.length, 2);
      assert.equal(second.body.next_cursor, null);
      const bad = await call(app, "GET", `${P}?limit=4&sort=name&cursor=${first.body.next_cursor}x`);
      assert.equal(bad.status, 400);
      assert.equal(bad.body.parameter, "cursor");
    });

    it("sends a strong ETag on get and answers 304 on If-None-Match", async () => {
      const res = await call(app, "GET", `${P}/${rows[0]!.id}`);
      const etag = res.headers.get("etag")!;
      assert.match(etag, /^"[A-Za-z0-9_-]+"$/);
      const again = await call(app, "GET", `${P}/${rows[0]!.id}`, undefined, { "if-none-match": etag });
      assert.equal(again.status, 304);
      assert.equal(again.text, "");
      const list = await call(app, "GET", `${P}?level=0`);
      const cached = await call(app, "GET", `${P}?level=0`, undefined, { "if-none-match": `W/${list.headers.get("etag")}` });
      assert.equal(cached.status, 304);
    });

    it("refuses a PUT, PATCH or DELETE with a stale If-Match with 412 and accepts the current one", async () => {
      const created = await call(app, "POST", P, { name: "etag me", active: true });
      const path = `${P}/${created.body.id}`;
      const etag = (await call(app, "GET", path)).headers.get("etag")!;
      const stale = { "if-match": '"stale"' };
      for (const [method, body] of [["PUT", { name: "x", active: true }], ["PATCH", { name: "y" }], ["DELETE", undefined]] as const) {
        const res = await call(app, method, path, body, stale);
        assert.equal(res.status, 412, method);
        assert.equal(res.body.type, "urn:chapkit:error:precondition-failed");
      }
      const ok = await call(app, "PUT", path, { name: "renamed", active: true }, { "if-match": etag });
      assert.equal(ok.status, 200);
      assert.equal((await call(app, "DELETE", path, undefined, { "if-match": etag })).status, 412);
      assert.equal((await call(app, "DELETE", path, undefined, { "if-match": "*" })).status, 204);
    });

    it("applies a JSON Merge Patch", async () => {
      const created = await call(app, "POST", P, { name: "patch me", active: true, tag: "t", data: { a: 1, b: { c: 2, d: 3 } } });
      const res = await call(app, "PATCH", `${P}/${created.body.id}`, { tag: null, data: { b: { c: null, e: 4 }, f: [1] } }, {
        "content-type": "application/merge-patch+json",
      });
      assert.equal(res.status, 200);
      assert.equal(res.body.name, "patch me");
      assert.equal(res.body.tag, null);
      assert.deepEqual(res.body.data, { a: 1, b: { d: 3, e: 4 }, f: [1] });
      assert.equal((await call(app, "PATCH", `${P}/${created.body.id}`, { name: null })).status, 422);
      assert.equal((await call(app, "PATCH", `${P}/01K72P5N5KCRM6MD3BRE4P0999`, { name: "x" })).status, 404);
    });

    it("bulk-creates in one transaction", async () => {
      const res = await call(app, "POST", `${P}/$bulk-create`, [{ name: "b1" }, { name: "b2", level: 7 }]);
      assert.equal(res.status, 201);
      assert.deepEqual(res.body.map((item: ItemRecord) => [item.name, item.level, item.active]), [["b1", null, false], ["b2", 7, false]]);
    });

    it("bulk-creates nothing when one item is invalid, listing the failing item", async () => {
      const before = await items.repository.count();
      const res = await call(app, "POST", `${P}/$bulk-create`, [{ name: "ok" }, { level: "x" }]);
      assert.equal(res.status, 422);
      assert.ok(res.body.errors.every((error: { loc: unknown[] }) => error.loc[0] === "body" && error.loc[1] === 1));
      assert.equal(await items.repository.count(), before);
    });

    it("rolls a bulk create back when the store refuses an item", async () => {
      const before = await items.repository.count();
      const id = "01K72P5N5KCRM6MD3BRE4P0AAA";
      const res = await call(app, "POST", `${P}/$bulk-create`, [{ name: "first" }, { id, name: "dup" }, { id, name: "dup again" }]);
      assert.equal(res.status, 409);
      assert.equal(await items.repository.count(), before);
    });

    it("bulk-creates 10,000 rows", { timeout: 60_000 }, async () => {
      const body = Array.from({ length: 10_000 }, (_, i) => ({ name: `bulk ${i}`, level: i % 7, active: i % 2 === 0 }));
      const res = await call(app, "POST", `${P}/$bulk-create`, body);
      assert.equal(res.status, 201);
      assert.equal(res.body.length, 10_000);
      const deleted = await call(app, "POST", `${P}/$bulk-delete`, { filter: 'name ~ "bulk "' });
      assert.deepEqual(deleted.body, { deleted: 10_000 });
    });

    it("bulk-updates with merge patches, and changes nothing when an id is unknown", async () => {
      const [a, b] = (await call(app, "POST", `${P}/$bulk-create`, [{ name: "u1", data: { k: 1 } }, { name: "u2" }])).body;
      const res = await call(app, "PATCH", `${P}/$bulk-update`, [{ id: a.id, data: { j: 2 } }, { id: b.id, level: 3 }]);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.map((item: ItemRecord) => [item.data, item.level]), [[{ k: 1, j: 2 }, null], [null, 3]]);
      const failed = await call(app, "PATCH", `${P}/$bulk-update`, [{ id: a.id, name: "changed" }, { id: "01K72P5N5KCRM6MD3BRE4P0999", name: "x" }, { id: "bad" }]);
      assert.equal(failed.status, 404);
      assert.deepEqual(failed.body.errors.map((error: { loc: unknown[] }) => error.loc), [["body", 1], ["body", 2, "id"]]);
      assert.equal((await items.get(a.id)).name, "u1");
    });

    it("bulk-deletes by ids, all or nothing", async () => {
      const [a, b] = (await call(app, "POST", `${P}/$bulk-create`, [{ name: "d1" }, { name: "d2" }])).body;
      const missing = await call(app, "POST", `${P}/$bulk-delete`, { ids: [a.id, "01K72P5N5KCRM6MD3BRE4P0999"] });
      assert.equal(missing.status, 404);
      assert.deepEqual(missing.body.errors.map((error: { loc: unknown[] }) => error.loc), [["body", "ids", 1]]);
      assert.ok(await items.repository.exists(a.id));
      const res = await call(app, "POST", `${P}/$bulk-delete`, { ids: [a.id, b.id] });
      assert.deepEqual(res.body, { deleted: 2 });
      assert.equal(await items.repository.exists(b.id), false);
    });

    it("rejects a bulk delete with a malformed filter as invalid-query", async () => {
      const res = await call(app, "POST", `${P}/$bulk-delete`, { filter: "level >" });
      assert.equal(res.status, 400);
      assert.equal(res.body.type, "urn:chapkit:error:invalid-query");
    });
  });
}
