/**
 * Full-text search on every store: words over the searchable columns, best
 * match first, kept in step with writes by the search index the migration
 * builds.
 */
import assert from "node:assert/strict";
import { after, afterEach, beforeEach, describe, it } from "node:test";
import { defineTable } from "../../src/core/entity.ts";
import { InvalidQueryError } from "../../src/core/errors.ts";
import { migrate, migrateDown } from "../../src/db/migrate.ts";
import { searchWords } from "../../src/db/search-sql.ts";
import { searchQueueMigration, tableMigration } from "../../src/db/table-migration.ts";
import { testStores } from "../_support/stores.ts";
import { item, type ItemsStore, items, openItems } from "./_items.ts";

const names = (rows: { name: string }[]): string[] => rows.map((row) => row.name);

describe("search words", () => {
  it("splits at everything but letters, digits and marks", () => {
    assert.deepEqual(searchWords(`a_b "c" 100% d-e f:g*`), ["a", "b", "c", "100", "d", "e", "f", "g"]);
    assert.deepEqual(searchWords("naïve Ünïcode 日本語 مرحبا"), ["naïve", "Ünïcode", "日本語", "مرحبا"]);
    assert.deepEqual(searchWords(`%_*"'\\;--`), []);
  });
});

// "per-row triggers": the index as tableMigration builds it; "queued": after searchQueueMigration.
for (const [mode, store] of [...testStores().map((store) => ["per-row triggers", store] as const), ...testStores().map((store) => ["queued", store] as const)]) {
  const migrations = mode === "queued" ? [tableMigration(items), searchQueueMigration(items, "entity:items", 2)] : [tableMigration(items)];
  describe(`full-text search on ${store.name} (${mode})`, () => {
    let s: ItemsStore;
    beforeEach(async () => {
      s = await openItems(store);
      await migrate(s.db, migrations);
    });
    afterEach(async () => {
      await s.db.close();
    });
    after(async () => {
      await store.cleanup();
    });

    it("puts the best match first, then breaks ties by id", async () => {
      await s.repo.insertMany([
        item("a long story about many things and also a river somewhere far away from here"),
        item("river", { tag: "river river" }),
        item("the river", { tag: "bank" }),
        item("no match here"),
        item("river two", { tag: "bank" }),
      ]);
      const found = names(await s.repo.findMany({ search: "river" }));
      assert.equal(found[0], "river");
      assert.equal(found[found.length - 1], "a long story about many things and also a river somewhere far away from here");
      assert.deepEqual(new Set(found), new Set(["river", "the river", "river two", found[found.length - 1]]));
      const ties = found.filter((name) => name === "the river" || name === "river two");
      assert.deepEqual(ties, ["the river", "river two"]);
    });

    it("orders by the sort instead of the rank when one is given", async () => {
      await s.repo.insertMany([item("river c", { rank: 3 }), item("river river river a", { rank: 1 }), item("river b", { rank: 2 })]);
      const rows = await s.repo.findMany({ search: "river", sort: [{ field: "rank", direction: "desc" }] });
      assert.deepEqual(names(rows), ["river c", "river b", "river river river a"]);
    });

    it("requires every word and matches the last one as a prefix", async () => {
      await s.repo.insertMany([item("model training", { tag: "weekly" }), item("model serving"), item("modest proposal")]);
      assert.deepEqual(names(await s.repo.findMany({ search: "model train" })), ["model training"]);
      assert.deepEqual(new Set(names(await s.repo.findMany({ search: "mod" }))), new Set(["model training", "model serving", "modest proposal"]));
      assert.deepEqual(await s.repo.findMany({ search: "mod serving" }), []);
      assert.deepEqual(names(await s.repo.findMany({ search: "TRAINING weekly" })), ["model training"]);
    });

    it("reflects inserts, updates and deletes", async () => {
      const row = await s.repo.insert(item("alpha", { tag: "first" }));
      assert.equal(await s.repo.count({ search: "first" }), 1);
      await s.repo.update(row.id, { tag: "second" });
      assert.equal(await s.repo.count({ search: "first" }), 0);
      assert.deepEqual(names(await s.repo.findMany({ search: "second" })), ["alpha"]);
      await s.repo.update(row.id, { rank: 5 });
      assert.deepEqual(names(await s.repo.findMany({ search: "alpha second" })), ["alpha"]);
      await s.repo.delete(row.id);
      assert.equal(await s.repo.count({ search: "alpha" }), 0);
      const many = await s.repo.insertMany([item("beta one"), item("beta two"), item("gamma")]);
      await s.repo.deleteMany([many[0]!.id]);
      assert.deepEqual(names(await s.repo.findMany({ search: "beta" })), ["beta two"]);
      await s.repo.deleteMany({ kind: "compare", field: "name", op: "eq", value: "beta two" });
      assert.equal(await s.repo.count({ search: "beta" }), 0);
    });

    it("finds unicode words, whole", async () => {
      await s.repo.insertMany([item("naïve bayes"), item("日本語 テキスト"), item("مرحبا بالعالم"), item("café crème")]);
      assert.deepEqual(names(await s.repo.findMany({ search: "naïve" })), ["naïve bayes"]);
      assert.deepEqual(names(await s.repo.findMany({ search: "NAÏVE" })), ["naïve bayes"]);
      assert.deepEqual(names(await s.repo.findMany({ search: "日本語" })), ["日本語 テキスト"]);
      assert.deepEqual(names(await s.repo.findMany({ search: "مرحبا" })), ["مرحبا بالعالم"]);
      assert.deepEqual(names(await s.repo.findMany({ search: "café crè" })), ["café crème"]);
      assert.deepEqual(await s.repo.findMany({ search: "cafe" }), []);
    });

    it("combines search with filters, limits and offsets, and counts the same rows", async () => {
      await s.repo.insertMany(Array.from({ length: 6 }, (_, i) => item(`storm ${i}`, { rank: i % 2 })));
      await s.repo.insert(item("calm", { rank: 1 }));
      const filter = { kind: "compare", field: "rank", op: "eq", value: 1 } as const;
      const all = await s.repo.findMany({ search: "storm", filter });
      assert.deepEqual(new Set(names(all)), new Set(["storm 1", "storm 3", "storm 5"]));
      assert.equal(await s.repo.count({ search: "storm", filter }), 3);
      const first = await s.repo.findMany({ search: "storm", filter, limit: 2 });
      const rest = await s.repo.findMany({ search: "storm", filter, limit: 2, offset: 2 });
      assert.deepEqual([...names(first), ...names(rest)], names(all));
    });

    it("continues sorted search results after a row, and refuses to for ranked ones", async () => {
      const rows = await s.repo.insertMany([item("wind a", { rank: 1 }), item("wind b", { rank: 2 }), item("wind c", { rank: 3 })]);
      const sort = [{ field: "rank", direction: "asc" as const }];
      const next = await s.repo.findMany({ search: "wind", sort, after: { values: [1], id: rows[0]!.id } });
      assert.deepEqual(names(next), ["wind b", "wind c"]);
      await assert.rejects(s.repo.findMany({ search: "wind", after: { values: [], id: rows[0]!.id } }), InvalidQueryError);
    });

    it("matches nothing when the text has no words", async () => {
      await s.repo.insert(item("something"));
      for (const text of ["%", "_", "***", '""', "--", "' = ; --"]) {
        assert.deepEqual(await s.repo.findMany({ search: text }), [], text);
      }
      assert.equal(await s.repo.count({ search: "%%" }), 0);
    });

    it("refuses search on a table with no searchable columns", async () => {
      const plain = defineTable({ name: "plain_notes", columns: { title: { type: "text" } } });
      await migrate(s.db, [tableMigration(plain)]);
      const { createRepository } = await import("../../src/db/repository.ts");
      await assert.rejects(createRepository(s.db, plain).count({ search: "x" }), InvalidQueryError);
    });

    it("searches the text of JSON columns too", async () => {
      const notes = defineTable({
        name: "json_notes",
        columns: { title: { type: "text" }, meta: { type: "json", nullable: true } },
        searchable: ["title", "meta"],
      });
      await migrate(s.db, [tableMigration(notes)]);
      const { createRepository } = await import("../../src/db/repository.ts");
      const repo = createRepository<{ id: string; created_at: string; updated_at: string; title: string; meta: unknown }>(s.db, notes);
      await repo.insertMany([{ title: "first", meta: { labels: ["malaria", "district"] } }, { title: "second", meta: null }]);
      assert.deepEqual((await repo.findMany({ search: "malaria" })).map((row) => row.title), ["first"]);
      assert.deepEqual((await repo.findMany({ search: "second" })).map((row) => row.title), ["second"]);
    });

    it("drops the search index with the table", async () => {
      await migrateDown(s.db, migrations, { module: "entity:items" });
      await migrate(s.db, migrations);
      await s.repo.insert(item("again"));
      assert.deepEqual(names(await s.repo.findMany({ search: "again" })), ["again"]);
    });
  });
}

describe("searchable declarations", () => {
  it("accept text and json columns only", () => {
    assert.throws(() => defineTable({ name: "t", columns: { n: { type: "integer" } }, searchable: ["n"] }), TypeError);
    assert.throws(() => defineTable({ name: "t", columns: { a: { type: "text" } }, searchable: ["b"] }), TypeError);
    assert.throws(() => defineTable({ name: "t", columns: { rank: { type: "text" } }, searchable: ["rank"] }), TypeError);
    assert.ok(defineTable({ name: "t", columns: { a: { type: "text" }, d: { type: "json" } }, searchable: ["a", "d"] }));
  });
});
