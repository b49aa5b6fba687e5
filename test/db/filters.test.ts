/**
 * The filter model on every store: each operator, boolean combinations, and
 * typed comparisons inside JSON columns.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { InvalidQueryError } from "../../src/core/errors.ts";
import type { Filter, FilterOperator, FilterValue } from "../../src/core/query/model.ts";
import { testStores } from "../_support/stores.ts";
import { item, type ItemsStore, openItems } from "./_items.ts";

const cmp = (field: string, op: FilterOperator, value: FilterValue | FilterValue[]): Filter => ({
  kind: "compare",
  field,
  op,
  value,
});

for (const store of testStores()) {
  describe(`filters on ${store.name}`, () => {
    let s: ItemsStore;
    const names = async (filter: Filter): Promise<string[]> =>
      (await s.repo.findMany({ filter, sort: [{ field: "name", direction: "asc" }] })).map((row) => row.name);

    before(async () => {
      s = await openItems(store);
      await s.repo.insertMany([
        item("alpha", {
          rank: 1,
          score: 1.5,
          active: true,
          tag: "red",
          seen_at: "2026-01-01T00:00:00.000Z",
          data: { n: 5, s: "5", flag: true, label: "Alpha", deep: { x: 1 } },
        }),
        item("beta", {
          rank: 2,
          active: false,
          tag: "blue",
          seen_at: "2026-02-01T00:00:00.000Z",
          data: { n: "5", s: 5, flag: false, label: "beta" },
        }),
        item("gamma", { score: 3, active: true, data: { n: 10, flag: 1, label: null } }),
        item("delta", { rank: 3, active: false, tag: "Red" }),
      ]);
    });
    after(async () => {
      await s.db.close();
      await store.cleanup();
    });
    afterEach(async () => {
      assert.equal(await s.repo.count(), 4, "filters never change rows");
    });

    describe("on plain columns", () => {
      it("eq matches equal values, case-sensitively", async () => {
        assert.deepEqual(await names(cmp("tag", "eq", "red")), ["alpha"]);
        assert.deepEqual(await names(cmp("rank", "eq", 2)), ["beta"]);
      });

      it("eq null matches null values", async () => {
        assert.deepEqual(await names(cmp("tag", "eq", null)), ["gamma"]);
      });

      it("eq on a boolean column matches true and false", async () => {
        assert.deepEqual(await names(cmp("active", "eq", true)), ["alpha", "gamma"]);
        assert.deepEqual(await names(cmp("active", "eq", false)), ["beta", "delta"]);
      });

      it("ne matches every row eq does not, including nulls", async () => {
        assert.deepEqual(await names(cmp("tag", "ne", "red")), ["beta", "delta", "gamma"]);
        assert.deepEqual(await names(cmp("rank", "ne", 2)), ["alpha", "delta", "gamma"]);
      });

      it("ne null matches non-null values", async () => {
        assert.deepEqual(await names(cmp("rank", "ne", null)), ["alpha", "beta", "delta"]);
      });

      it("gt, gte, lt and lte order numbers and skip nulls", async () => {
        assert.deepEqual(await names(cmp("rank", "gt", 1)), ["beta", "delta"]);
        assert.deepEqual(await names(cmp("rank", "gte", 2)), ["beta", "delta"]);
        assert.deepEqual(await names(cmp("rank", "lt", 2)), ["alpha"]);
        assert.deepEqual(await names(cmp("rank", "lte", 2)), ["alpha", "beta"]);
        assert.deepEqual(await names(cmp("score", "gt", 1.5)), ["gamma"]);
      });

      it("gt and lt order timestamps", async () => {
        assert.deepEqual(await names(cmp("seen_at", "gt", "2026-01-15T00:00:00.000Z")), ["beta"]);
        assert.deepEqual(await names(cmp("seen_at", "lt", "2026-01-15T00:00:00.000Z")), ["alpha"]);
      });

      it("in matches any listed value, null included when listed", async () => {
        assert.deepEqual(await names(cmp("rank", "in", [1, 3])), ["alpha", "delta"]);
        assert.deepEqual(await names(cmp("tag", "in", ["blue", null])), ["beta", "gamma"]);
      });

      it("in with an empty list matches nothing; nin with one matches everything", async () => {
        assert.deepEqual(await names(cmp("rank", "in", [])), []);
        assert.deepEqual(await names(cmp("rank", "nin", [])), ["alpha", "beta", "delta", "gamma"]);
      });

      it("nin matches every row in does not, including nulls", async () => {
        assert.deepEqual(await names(cmp("rank", "nin", [1, 3])), ["beta", "gamma"]);
      });

      it("contains, startswith and endswith are case-sensitive", async () => {
        assert.deepEqual(await names(cmp("name", "contains", "mm")), ["gamma"]);
        assert.deepEqual(await names(cmp("tag", "contains", "Re")), ["delta"]);
        assert.deepEqual(await names(cmp("name", "startswith", "al")), ["alpha"]);
        assert.deepEqual(await names(cmp("name", "startswith", "AL")), []);
        assert.deepEqual(await names(cmp("name", "endswith", "ta")), ["beta", "delta"]);
      });

      it("icontains ignores case", async () => {
        assert.deepEqual(await names(cmp("tag", "icontains", "RE")), ["alpha", "delta"]);
      });

      it("contains works on a non-text column through its text form", async () => {
        assert.deepEqual(await names(cmp("rank", "contains", "3")), ["delta"]);
      });

      it("isnull true and false select null and non-null values", async () => {
        assert.deepEqual(await names(cmp("tag", "isnull", true)), ["gamma"]);
        assert.deepEqual(await names(cmp("tag", "isnull", false)), ["alpha", "beta", "delta"]);
      });

      it("filters by id", async () => {
        const [first] = await s.repo.findMany({ limit: 1 });
        assert.equal((await s.repo.findMany({ filter: cmp("id", "eq", first!.id) })).length, 1);
      });
    });

    describe("combinations", () => {
      it("and requires every item", async () => {
        assert.deepEqual(await names({ kind: "and", items: [cmp("active", "eq", true), cmp("rank", "isnull", false)] }), [
          "alpha",
        ]);
      });

      it("or accepts any item", async () => {
        assert.deepEqual(await names({ kind: "or", items: [cmp("rank", "eq", 3), cmp("tag", "eq", "blue")] }), [
          "beta",
          "delta",
        ]);
      });

      it("not matches exactly the rows its item does not, including unknowns", async () => {
        assert.deepEqual(await names({ kind: "not", item: cmp("rank", "gt", 1) }), ["alpha", "gamma"]);
      });

      it("an empty and matches everything; an empty or matches nothing", async () => {
        assert.equal((await names({ kind: "and", items: [] })).length, 4);
        assert.deepEqual(await names({ kind: "or", items: [] }), []);
      });

      it("nests", async () => {
        const filter: Filter = {
          kind: "and",
          items: [
            { kind: "or", items: [cmp("tag", "icontains", "red"), cmp("tag", "isnull", true)] },
            { kind: "not", item: cmp("name", "eq", "delta") },
          ],
        };
        assert.deepEqual(await names(filter), ["alpha", "gamma"]);
      });
    });

    describe("inside a JSON column", () => {
      it("a number never equals a string", async () => {
        assert.deepEqual(await names(cmp("data.n", "eq", 5)), ["alpha"]);
        assert.deepEqual(await names(cmp("data.n", "eq", "5")), ["beta"]);
        assert.deepEqual(await names(cmp("data.s", "eq", 5)), ["beta"]);
        assert.deepEqual(await names(cmp("data.s", "eq", "5")), ["alpha"]);
      });

      it("a boolean never equals a number", async () => {
        assert.deepEqual(await names(cmp("data.flag", "eq", true)), ["alpha"]);
        assert.deepEqual(await names(cmp("data.flag", "eq", false)), ["beta"]);
        assert.deepEqual(await names(cmp("data.flag", "eq", 1)), ["gamma"]);
      });

      it("orders numbers numerically and ignores values of other types", async () => {
        assert.deepEqual(await names(cmp("data.n", "gt", 6)), ["gamma"]);
        assert.deepEqual(await names(cmp("data.n", "gte", 5)), ["alpha", "gamma"]);
        assert.deepEqual(await names(cmp("data.n", "lt", 100)), ["alpha", "gamma"]);
      });

      it("orders strings and ignores numbers", async () => {
        assert.deepEqual(await names(cmp("data.n", "gte", "0")), ["beta"]);
      });

      it("in compares each value with its own type", async () => {
        assert.deepEqual(await names(cmp("data.n", "in", [10, "5"])), ["beta", "gamma"]);
      });

      it("ne matches rows with another value, another type, or no value", async () => {
        assert.deepEqual(await names(cmp("data.n", "ne", 5)), ["beta", "delta", "gamma"]);
      });

      it("reads nested paths", async () => {
        assert.deepEqual(await names(cmp("data.deep.x", "eq", 1)), ["alpha"]);
      });

      it("treats a JSON null and a missing key alike for isnull", async () => {
        assert.deepEqual(await names(cmp("data.label", "isnull", true)), ["delta", "gamma"]);
        assert.deepEqual(await names(cmp("data.label", "eq", null)), ["delta", "gamma"]);
      });

      it("matches text with contains and icontains", async () => {
        assert.deepEqual(await names(cmp("data.label", "contains", "lph")), ["alpha"]);
        assert.deepEqual(await names(cmp("data.label", "icontains", "ALPHA")), ["alpha"]);
        assert.deepEqual(await names(cmp("data.label", "startswith", "b")), ["beta"]);
      });
    });

    describe("invalid filters", () => {
      it("rejects an unknown field with InvalidQueryError", async () => {
        await assert.rejects(names(cmp("nope", "eq", 1)), InvalidQueryError);
      });

      it("rejects a path into a column that is not JSON", async () => {
        await assert.rejects(names(cmp("tag.x", "eq", 1)), InvalidQueryError);
      });

      it("rejects a path segment that is not a plain name", async () => {
        await assert.rejects(names(cmp("data.a'b", "eq", 1)), InvalidQueryError);
        await assert.rejects(names(cmp("data.a-b", "eq", 1)), InvalidQueryError);
      });

      it("rejects a list for a one-value operator and a non-string for contains", async () => {
        await assert.rejects(names(cmp("rank", "eq", [1, 2])), InvalidQueryError);
        await assert.rejects(names(cmp("name", "contains", 1)), InvalidQueryError);
      });

      it("rejects isnull without a boolean and ordering against null", async () => {
        await assert.rejects(names(cmp("rank", "isnull", "yes")), InvalidQueryError);
        await assert.rejects(names(cmp("rank", "gt", null)), InvalidQueryError);
      });

      it("rejects an unknown operator", async () => {
        await assert.rejects(names(cmp("rank", "like" as FilterOperator, "x")), InvalidQueryError);
      });

      it("rejects sorting by an unknown field", async () => {
        await assert.rejects(s.repo.findMany({ sort: [{ field: "nope", direction: "asc" }] }), InvalidQueryError);
      });

      it("rejects search words on a table without searchable columns", async () => {
        const { createRepository } = await import("../../src/db/repository.ts");
        const { defineTable } = await import("../../src/core/entity.ts");
        const plain = createRepository(s.db, defineTable({ name: "items", columns: {} }));
        await assert.rejects(plain.findMany({ search: "x" }), InvalidQueryError);
      });
    });
  });
}
