import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Elysia } from "elysia";
import type { Driver } from "../../src/db/driver.ts";
import { testStores } from "../_support/stores.ts";
import { call } from "../http/_notes.ts";
import { type ItemManager, itemsApp } from "./_app.ts";

const P = "/api/v1/items";
const UNICODE = "\u00dcn\u00efcode wEATHER";
const names = (items: { name: string }[]): string[] => items.map((item) => item.name);

for (const store of testStores()) {
  describe(`?q= full-text search over HTTP on ${store.name}`, () => {
    let db: Driver;
    let app: Elysia;
    let items: ItemManager;
    before(async () => {
      db = await store.open();
      ({ app, items } = await itemsApp(db));
    });
    after(async () => {
      await db.close();
      await store.cleanup();
    });

    it("answers the best matches first", async () => {
      const res = await call(app, "GET", `${P}?q=weather`);
      assert.equal(res.status, 200);
      assert.deepEqual(names(res.body), ["weather", "Weather Station", UNICODE]);
    });

    it("matches words case-insensitively and the last one as a prefix", async () => {
      assert.deepEqual(names((await call(app, "GET", `${P}?q=WEATHER%20sta`)).body), ["Weather Station"]);
      assert.deepEqual(names((await call(app, "GET", `${P}?q=${encodeURIComponent("ünïcode")}`)).body), [UNICODE]);
      assert.deepEqual(names((await call(app, "GET", `${P}?q=100`)).body), ["rain_100%"]);
    });

    it("combines q with field filters, filter expressions and fields", async () => {
      const res = await call(app, "GET", `${P}?q=weather&level=0&fields=name`);
      assert.deepEqual(res.body, [{ name: "weather" }, { name: UNICODE }]);
      const expr = encodeURIComponent('data.ml_type = "predictions"');
      assert.deepEqual(names((await call(app, "GET", `${P}?q=weather&filter=${expr}`)).body), ["Weather Station"]);
    });

    it("orders by sort instead of rank when sort is given", async () => {
      const res = await call(app, "GET", `${P}?q=weather&sort=-level`);
      assert.deepEqual(names(res.body), ["Weather Station", "weather", UNICODE]);
    });

    it("pages ranked results with cursors, best first, with and without count", async () => {
      const seen: string[] = [];
      let url = `${P}?q=weather&limit=2`;
      for (let i = 0; i < 5; i++) {
        const res = await call(app, "GET", url);
        assert.equal(res.status, 200);
        assert.equal(res.body.total, 3);
        seen.push(...names(res.body.items));
        if (res.body.next_cursor === null) break;
        url = `${P}?q=weather&limit=2&cursor=${res.body.next_cursor}`;
      }
      assert.deepEqual(seen, ["weather", "Weather Station", UNICODE]);
      const first = await call(app, "GET", `${P}?q=weather&limit=1&count=false`);
      assert.equal("total" in first.body, false);
      const bare = await call(app, "GET", `${P}?cursor=${first.body.next_cursor}`);
      assert.deepEqual(names(bare.body.items), ["Weather Station", UNICODE]);
    });

    it("pages sorted search results with keyset cursors", async () => {
      const first = await call(app, "GET", `${P}?q=weather&sort=name&limit=2&count=false`);
      assert.deepEqual(names(first.body.items), ["Weather Station", "weather"]);
      const next = await call(app, "GET", `${P}?q=weather&sort=name&limit=2&count=false&cursor=${first.body.next_cursor}`);
      assert.deepEqual(names(next.body.items), [UNICODE]);
      assert.equal(next.body.next_cursor, null);
    });

    it("refuses an altered cursor over ranked results", async () => {
      const res = await call(app, "GET", `${P}?q=weather&limit=1&cursor=${encodeURIComponent("e30.x")}`);
      assert.equal(res.status, 400);
      assert.equal(res.body.type, "urn:chapkit:error:invalid-query");
    });

    it("counts and pages search results in page mode", async () => {
      const res = await call(app, "GET", `${P}?q=weather&page=2&size=2`);
      assert.deepEqual(names(res.body.items), [UNICODE]);
      assert.equal(res.body.total, 3);
      assert.equal(res.body.pages, 2);
    });

    it("reflects created, updated and deleted rows", async () => {
      const created = await call(app, "POST", P, { name: "blizzard warning", active: false });
      assert.equal(created.status, 201);
      assert.deepEqual(names((await call(app, "GET", `${P}?q=blizzard`)).body), ["blizzard warning"]);
      await items.update(created.body.id, { name: "heatwave warning" } as never);
      assert.deepEqual((await call(app, "GET", `${P}?q=blizzard`)).body, []);
      assert.deepEqual(names((await call(app, "GET", `${P}?q=heatwave`)).body), ["heatwave warning"]);
      assert.equal((await call(app, "DELETE", `${P}/${created.body.id}`)).status, 204);
      assert.deepEqual((await call(app, "GET", `${P}?q=heatwave`)).body, []);
    });

    it("answers hostile search text with matches or nothing, never an error", async () => {
      const hostile = ['"', "'", "*", "NEAR(", "a OR", "%_%", "'; DROP TABLE items; --", "name:weather", "weather & !x", "\\", "🦀"];
      for (const text of hostile) {
        const res = await call(app, "GET", `${P}?q=${encodeURIComponent(text)}&limit=5`);
        assert.equal(res.status, 200, `${text}: ${JSON.stringify(res.body)}`);
      }
      assert.deepEqual(names((await call(app, "GET", `${P}?q=${encodeURIComponent('"weather"')}`)).body), ["weather", "Weather Station", UNICODE]);
      assert.equal((await call(app, "GET", `${P}?count=false&limit=10`)).body.items.length, 6);
    });
  });
}

describe("q on an entity without searchable fields", () => {
  it("is a 400 invalid-query", async () => {
    const { parseListQuery } = await import("../../src/core/query/list-query.ts");
    const { defineTable } = await import("../../src/core/entity.ts");
    const table = defineTable({ name: "plain", columns: { title: { type: "text" } } });
    assert.throws(() => parseListQuery(new URLSearchParams("q=x"), { table }), (error: { status?: number; type?: string }) =>
      error.status === 400 && error.type === "urn:chapkit:error:invalid-query");
  });
});

