/**
 * Group commit on SQLite: transactions that queue up together share one
 * commit, each still succeeds or fails on its own, and no caller hears of
 * success before its rows are committed.
 */
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import type { Driver } from "../../src/db/driver.ts";
import { openDatabase } from "../../src/db/open.ts";
import { createRepository, type SqlRepository } from "../../src/db/repository.ts";
import { sqliteFileStore } from "../_support/stores.ts";
import { type Item, item, items, openItems } from "./_items.ts";

describe("group commit on a SQLite file", () => {
  const store = sqliteFileStore();
  let db: Driver;
  let repo: SqlRepository<Item>;
  let path = "";

  before(async () => {
    const opened = await openItems(store);
    db = opened.db;
    repo = createRepository<Item>(db, items);
    path = store.url().replace(/^sqlite:/, "");
  });
  after(async () => {
    await db.close();
    await store.cleanup();
  });

  const names = async (prefix: string): Promise<string[]> =>
    (await repo.findMany({ filter: { kind: "compare", field: "name", op: "startswith", value: prefix }, sort: [{ field: "name", direction: "asc" }] }))
      .map((row) => row.name);

  it("writes fewer WAL frames for a burst of transactions than one commit each would", async () => {
    await db.exec("PRAGMA wal_autocheckpoint = 0");
    await db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    await repo.insert(item("burst-warm"));
    const before = statSync(`${path}-wal`).size;
    const burst = 40;
    await Promise.all(Array.from({ length: burst }, (_, i) => repo.transaction((tx) => tx.insert(item(`burst-${String(i).padStart(2, "0")}`)))));
    const frames = (statSync(`${path}-wal`).size - before) / (4096 + 24);
    assert.equal((await names("burst-")).length, burst + 1);
    // Each commit appends at least the table's leaf page and the unique index's: 40 commits would add >= 80 frames.
    assert.ok(frames < burst, `expected fewer than ${burst} WAL frames, found ${frames}`);
    await db.exec("PRAGMA wal_autocheckpoint = 1000");
  });

  it("rolls back only the transaction that throws; the others of its group commit", async () => {
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) =>
      repo.transaction(async (tx) => {
        await tx.insert(item(`alone-${i}`));
        if (i === 4) throw new Error("member four gives up");
        return i;
      })
    ));
    assert.deepEqual(results.map((result) => result.status), results.map((_, i) => i === 4 ? "rejected" : "fulfilled"));
    assert.match(String((results[4] as PromiseRejectedResult).reason), /member four gives up/);
    assert.deepEqual(await names("alone-"), ["alone-0", "alone-1", "alone-2", "alone-3", "alone-5", "alone-6", "alone-7", "alone-8", "alone-9"]);
  });

  it("fails a transaction that breaks a unique key with a conflict and keeps its neighbours' rows", async () => {
    await repo.insert(item("taken"));
    const results = await Promise.allSettled([
      repo.transaction((tx) => tx.insert(item("neighbour-a"))),
      repo.transaction(async (tx) => {
        await tx.insert(item("neighbour-lost"));
        return await tx.insert(item("taken"));
      }),
      repo.transaction((tx) => tx.insert(item("neighbour-b"))),
    ]);
    assert.deepEqual(results.map((result) => result.status), ["fulfilled", "rejected", "fulfilled"]);
    assert.equal(((results[1] as PromiseRejectedResult).reason as { status?: number }).status, 409);
    assert.deepEqual(await names("neighbour-"), ["neighbour-a", "neighbour-b"]);
    assert.deepEqual(await names("taken"), ["taken"]);
  });

  it("answers a caller only once its rows are committed: another connection already sees them", async () => {
    const other = await openDatabase(store.url());
    try {
      const otherRepo = createRepository<Item>(other, items);
      const seen = await Promise.all(Array.from({ length: 8 }, async (_, i) => {
        const row = await repo.transaction((tx) => tx.insert(item(`visible-${i}`)));
        return (await otherRepo.findById(row.id))?.name;
      }));
      assert.deepEqual(seen, Array.from({ length: 8 }, (_, i) => `visible-${i}`));
    } finally {
      await other.close();
    }
  });

  it("runs after-commit work only for the transactions that committed", async () => {
    const ran: number[] = [];
    await Promise.allSettled(Array.from({ length: 6 }, (_, i) =>
      db.transaction(async (tx) => {
        await tx.exec(`INSERT INTO "items" ("id", "created_at", "updated_at", "name", "active") VALUES (?, ?, ?, ?, ?)`, [
          `hook-${i}`,
          new Date().toISOString(),
          new Date().toISOString(),
          `hook-${i}`,
          false,
        ]);
        void db.afterTransaction!(() => ran.push(i));
        if (i % 2 === 1) throw new Error("odd ones roll back");
      })
    ));
    assert.deepEqual(ran.sort(), [0, 2, 4]);
    assert.deepEqual(await names("hook-"), ["hook-0", "hook-2", "hook-4"]);
  });

  it("keeps a nested transaction a savepoint inside a grouped one", async () => {
    await Promise.all(Array.from({ length: 5 }, (_, i) =>
      repo.transaction(async (tx) => {
        await tx.insert(item(`outer-${i}`));
        await tx.transaction(async (inner) => {
          await inner.insert(item(`inner-${i}`));
          throw new Error("inner gives up");
        }).catch(() => {});
      })
    ));
    assert.equal((await names("outer-")).length, 5);
    assert.deepEqual(await names("inner-"), []);
  });
});
