import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { InvalidQueryError } from "../../src/core/errors.ts";
import { parseListQuery } from "../../src/core/query/list-query.ts";
import { type CursorPage, runListRequest } from "../../src/core/query/list-result.ts";
import type { Driver } from "../../src/db/driver.ts";
import type { SqlRepository } from "../../src/db/repository.ts";
import { testStores } from "../_support/stores.ts";
import { type ItemRecord, ITEMS, itemsTable, seedItems } from "./_fixture.ts";
import { sortRows } from "./_eval.ts";

const JSON_COLUMNS = new Set(["data"]);

for (const store of testStores()) {
  describe(`cursor paging on ${store.name}`, () => {
    let db: Driver;
    let repo: SqlRepository<ItemRecord>;
    let rows: ItemRecord[];
    const source = () => ({ repository: repo, toOutput: async (row: ItemRecord) => row });
    const fetchPage = async (query: string): Promise<CursorPage<ItemRecord>> =>
      (await runListRequest(source(), parseListQuery(new URLSearchParams(query), { table: itemsTable }))) as CursorPage<ItemRecord>;

    before(async () => {
      db = await store.open();
      ({ repo, rows } = await seedItems(db));
    });
    after(async () => {
      await db.close();
      await store.cleanup();
    });

    for (const sort of ["", "-level", "data.min_samples", "data.min_samples:desc", "tag:desc,name", "seen_at,-score", "active,-id", "-data.nested.k"]) {
      it(`walks every row once in order with sort=${sort || "(none)"}`, async () => {
        const seen: string[] = [];
        let query = `limit=2${sort ? `&sort=${sort}` : ""}`;
        for (let pages = 0; pages < 10; pages++) {
          const page = await fetchPage(query);
          assert.equal(page.total, rows.length);
          seen.push(...page.items.map((row) => row.id));
          if (page.next_cursor === null) break;
          query = `limit=2${sort ? `&sort=${sort}` : ""}&cursor=${page.next_cursor}`;
        }
        const keys = sort ? parseListQuery(new URLSearchParams(`sort=${sort}`), { table: itemsTable }).query.sort! : [];
        assert.deepEqual(seen, sortRows(rows as never[], keys, JSON_COLUMNS).map((row: ItemRecord) => row.id));
      });
    }

    it("keeps pages correct while rows are inserted between requests", async () => {
      const first = await fetchPage("limit=3&sort=name");
      const before = first.items.map((row) => row.name);
      await repo.insertMany([
        { ...ITEMS[0]!, name: "AAA first" },
        { ...ITEMS[0]!, name: "zzz last" },
      ]);
      const rest: string[] = [];
      let cursor = first.next_cursor;
      while (cursor) {
        const page = await fetchPage(`limit=3&sort=name&cursor=${cursor}`);
        rest.push(...page.items.map((row) => row.name));
        cursor = page.next_cursor;
      }
      const all = [...before, ...rest];
      assert.equal(new Set(all).size, all.length, "no row twice");
      for (const row of rows) assert.ok(all.includes(row.name), `${row.name} not skipped`);
      assert.ok(rest.includes("zzz last"), "rows inserted after the cursor appear");
      assert.ok(!all.includes("AAA first"), "rows inserted before the cursor do not");
      await repo.deleteMany({ kind: "compare", field: "name", op: "in", value: ["AAA first", "zzz last"] });
    });

    it("leaves total out with count=false", async () => {
      const page = await fetchPage("limit=2&count=false");
      assert.equal("total" in page, false);
      assert.equal(page.items.length, 2);
    });

    it("continues the cursor's own filter and sort when given only the cursor", async () => {
      const first = await fetchPage("limit=1&level[gte]=0&sort=-level");
      assert.deepEqual(first.items.map((row) => row.level), [3]);
      const second = await fetchPage(`cursor=${first.next_cursor}`);
      assert.deepEqual(second.items.map((row) => row.level).slice(0, 3), [2, 1, 0]);
      assert.equal(second.total, 5);
    });

    it("refuses a cursor used with another filter", async () => {
      const first = await fetchPage("limit=1&level[gte]=0");
      await assert.rejects(fetchPage(`level[gte]=1&cursor=${first.next_cursor}`), (error: unknown) =>
        error instanceof InvalidQueryError && error.extensions.parameter === "cursor");
    });

    it("refuses an altered cursor", async () => {
      const first = await fetchPage("limit=1&sort=name");
      const token = first.next_cursor!;
      const altered = (token[0] === "A" ? "B" : "A") + token.slice(1);
      await assert.rejects(fetchPage(`sort=name&cursor=${altered}`), InvalidQueryError);
      await assert.rejects(fetchPage("cursor=not-a-cursor"), InvalidQueryError);
    });

    it("answers the page envelope with page and size", async () => {
      const page = await runListRequest(source(), parseListQuery(new URLSearchParams("page=2&size=4&sort=name"), { table: itemsTable }));
      const names = sortRows(rows as never[], [{ field: "name", direction: "asc" }], JSON_COLUMNS).map((row: ItemRecord) => row.name);
      assert.deepEqual(Object.keys(page), ["items", "total", "page", "size", "pages"]);
      assert.deepEqual((page as { items: ItemRecord[] }).items.map((row) => row.name), names.slice(4));
      assert.deepEqual({ ...(page as object), items: undefined }, { items: undefined, total: 6, page: 2, size: 4, pages: 2 });
    });

    it("selects fields and keeps the nesting of JSON paths", async () => {
      const items = await runListRequest(source(), parseListQuery(new URLSearchParams("fields=name,data.nested.k&level=0"), { table: itemsTable }));
      assert.deepEqual(items, [{ name: "weather", data: { nested: { k: "x" } } }, { name: "\u00dcn\u00efcode wEATHER" }]);
    });
  });
}
