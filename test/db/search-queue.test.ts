/**
 * The SQLite search index kept through a queue (searchQueueMigration): writes
 * queue their rows, a flush indexes them after commits and before every
 * search, and results are the same as with per-row triggers whatever the
 * flush boundaries.
 */
import assert from "node:assert/strict";
import { after, afterEach, beforeEach, describe, it } from "node:test";
import { defineTable, type TableDefinition } from "../../src/core/entity.ts";
import type { Driver } from "../../src/db/driver.ts";
import { migrate, migrateDown } from "../../src/db/migrate.ts";
import { openDatabase } from "../../src/db/open.ts";
import { createRepository, type SqlRepository } from "../../src/db/repository.ts";
import { searchQueueMigration, tableMigration } from "../../src/db/table-migration.ts";
import { testStores } from "../_support/stores.ts";
import { item, type Item, items } from "./_items.ts";

const queued = [tableMigration(items), searchQueueMigration(items, "entity:items", 2)];
const direct: TableDefinition = defineTable({ ...items, name: "items_direct" });

const QUERIES = ["river", "river bank", "ri", "bank", "second", "storm", "zzz", "tag"];

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

async function queueLength(db: Driver, table = "items"): Promise<number> {
  const [row] = await db.query<{ n: number }>(`SELECT COUNT(*) AS n FROM "${table}_fts_pending"`);
  return Number(row?.n);
}

/** FTS5's own check of an external-content index against its table: throws when they differ. */
async function assertIndexMatches(db: Driver, table = "items"): Promise<void> {
  await db.exec(`INSERT INTO "${table}_fts" ("${table}_fts", "rank") VALUES ('integrity-check', 1)`);
}

for (const store of testStores().filter((store) => store.kind === "sqlite")) {
  describe(`search queue on ${store.name}`, () => {
    let db: Driver;
    let repo: SqlRepository<Item>;
    beforeEach(async () => {
      db = await store.open();
      await migrate(db, [...queued, tableMigration(direct)]);
      repo = createRepository<Item>(db, items);
    });
    afterEach(async () => {
      await db.close();
    });

    it("gives the results of per-row triggers whatever the flush boundaries", async () => {
      const twin = createRepository<Item>(db, direct);
      const both = async (write: (r: SqlRepository<Item>) => Promise<unknown>): Promise<void> => {
        await write(repo);
        await write(twin);
      };
      const compare = async (label: string): Promise<void> => {
        for (const search of QUERIES) {
          const want = await twin.findMany({ search });
          assert.deepEqual((await repo.findMany({ search })).map((r) => r.id), want.map((r) => r.id), `${label}: ${search}`);
          assert.equal(await repo.count({ search }), want.length, `${label}: count ${search}`);
        }
      };
      const ids = Array.from({ length: 8 }, (_, i) => `01J0000000000000000000000${i}`);
      await both((r) => r.insertMany([item("river", { id: ids[0], tag: "river river" }), item("the river", { id: ids[1], tag: "bank" })]));
      await compare("queued inserts, no flush yet");
      await both((r) => r.insert(item("river two", { id: ids[2], tag: "bank" })));
      await repo.flushSearch();
      await compare("after an explicit flush");
      await both((r) => r.update(ids[1]!, { tag: "second" }));
      await both((r) => r.insert(item("storm", { id: ids[3], tag: "river" })));
      await compare("an indexed row updated and a new one queued");
      await tick();
      assert.equal(await queueLength(db), 0, "the flush after the writes' turn emptied the queue");
      await both((r) => r.insert(item("long story of a river and a storm", { id: ids[4] })));
      await both((r) => r.update(ids[4]!, { tag: "bank storm" }));
      await both((r) => r.delete(ids[0]!));
      await both((r) => r.update(ids[2]!, { rank: 3 }));
      await compare("queued row updated, indexed row deleted");
      await both((r) => r.deleteMany([ids[4]!, ids[3]!]));
      await compare("deleted after indexing");
      await assertIndexMatches(db);
    });

    it("updates and deletes queued and indexed rows without confusing the index", async () => {
      const indexed = await repo.insertMany([item("alpha", { tag: "one" }), item("beta", { tag: "two" })]);
      await repo.flushSearch();
      assert.equal(await queueLength(db), 0);
      // One transaction, so the flush that follows a commit cannot empty the queue between the steps.
      await repo.transaction(async (tx) => {
        const pending = await tx.insertMany([item("gamma", { tag: "three" }), item("delta", { tag: "four" })]);
        assert.equal(await queueLength(db), 2);
        // A queued row was never indexed: its update and delete must not issue an FTS 'delete'.
        await tx.update(pending[0]!.id, { tag: "thirty" });
        await tx.delete(pending[1]!.id);
        assert.equal(await queueLength(db), 1);
        // An indexed row leaves the index when it changes and is queued again.
        await tx.update(indexed[0]!.id, { tag: "uno" });
        await tx.delete(indexed[1]!.id);
        assert.equal(await queueLength(db), 2);
      });
      assert.deepEqual((await repo.findMany({ search: "thirty" })).map((r) => r.name), ["gamma"]);
      assert.equal(await queueLength(db), 0, "the search flushed the queue first");
      assert.equal(await repo.count({ search: "three" }), 0);
      assert.equal(await repo.count({ search: "delta" }), 0);
      assert.equal(await repo.count({ search: "one" }), 0);
      assert.deepEqual((await repo.findMany({ search: "uno" })).map((r) => r.name), ["alpha"]);
      assert.equal(await repo.count({ search: "beta" }), 0);
      await assertIndexMatches(db);
      // A change to a column outside the index queues nothing.
      await repo.update(indexed[0]!.id, { rank: 9 });
      assert.equal(await queueLength(db), 0);
    });

    it("rolls queued rows back with their transaction", async () => {
      await assert.rejects(repo.transaction(async (tx) => {
        await tx.insert(item("ghost"));
        throw new Error("abort");
      }), /abort/);
      assert.equal(await queueLength(db), 0);
      await repo.transaction(async (tx) => {
        await tx.insert(item("inside"));
        // A search inside the transaction sees its own write.
        assert.equal(await tx.count({ search: "inside" }), 1);
      });
      assert.equal(await repo.count({ search: "inside" }), 1);
      await assertIndexMatches(db);
    });

    it("lets another connection's search see this one's committed writes", async () => {
      if (store.name.includes("memory")) return;
      const other = await openDatabase(store.url());
      try {
        const theirs = createRepository<Item>(other, items);
        await repo.insert(item("shared across processes"));
        assert.deepEqual((await theirs.findMany({ search: "shared" })).map((r) => r.name), ["shared across processes"]);
        await theirs.insert(item("written by the other"));
        assert.equal(await repo.count({ search: "other" }), 1);
        await assertIndexMatches(db);
      } finally {
        await other.close();
      }
    });
  });

  describe(`upgrading a search index to the queue on ${store.name}`, () => {
    // Runs after the describe above, which shares the store.
    after(async () => {
      await store.cleanup();
    });

    it("keeps the rows indexed before and searches them with the new ones, and reverts cleanly", async () => {
      const db = await store.open();
      try {
        // A database created by the old migrations, rows indexed by the per-row triggers.
        await migrate(db, [tableMigration(items)]);
        const repo = createRepository<Item>(db, items);
        const old = await repo.insertMany([item("old river", { tag: "bank" }), item("old storm")]);
        const { applied } = await migrate(db, queued);
        assert.deepEqual(applied, ["entity:items#2"]);
        const upgraded = createRepository<Item>(db, items);
        await upgraded.insert(item("new river"));
        await upgraded.update(old[1]!.id, { tag: "river" });
        assert.deepEqual(new Set((await upgraded.findMany({ search: "river" })).map((r) => r.name)), new Set(["old river", "new river", "old storm"]));
        await upgraded.delete(old[0]!.id);
        assert.equal(await upgraded.count({ search: "bank" }), 0);
        await assertIndexMatches(db);
        // Reverting with rows still queued indexes them and restores the per-row triggers.
        await upgraded.insert(item("queued at revert"));
        await migrateDown(db, queued, { module: "entity:items", toVersion: 1 });
        const reverted = createRepository<Item>(db, items);
        assert.equal(await reverted.count({ search: "queued" }), 1);
        await reverted.insert(item("after revert"));
        assert.equal(await reverted.count({ search: "revert" }), 2);
        await assertIndexMatches(db);
      } finally {
        await db.close();
      }
    });
  });
}
