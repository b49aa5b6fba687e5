/**
 * The repository contract: every store of `testStores()` (SQLite in memory,
 * a SQLite file, PostgreSQL) behaves the same for every operation.
 */
import assert from "node:assert/strict";
import { after, afterEach, beforeEach, describe, it } from "node:test";
import { ConflictError } from "../../src/core/errors.ts";
import { isUlid, newUlid } from "../../src/core/ulid.ts";
import { testStores } from "../_support/stores.ts";
import { ISO_MS_Z, item, type ItemsStore, openItems } from "./_items.ts";

for (const store of testStores()) {
  describe(`repository contract on ${store.name}`, () => {
    let s: ItemsStore;
    beforeEach(async () => {
      s = await openItems(store);
    });
    afterEach(async () => {
      await s.db.close();
    });
    after(async () => {
      await store.cleanup();
    });

    describe("insert", () => {
      it("generates a ULID id and ISO millisecond timestamps ending in Z", async () => {
        const row = await s.repo.insert(item("a"));
        assert.ok(isUlid(row.id), row.id);
        assert.match(row.created_at, ISO_MS_Z);
        assert.match(row.updated_at, ISO_MS_Z);
        assert.equal(row.created_at, row.updated_at);
      });

      it("keeps a client-chosen id", async () => {
        const id = newUlid();
        const row = await s.repo.insert({ ...item("a"), id });
        assert.equal(row.id, id);
        assert.equal((await s.repo.findById(id))?.name, "a");
      });

      it("returns every column decoded: numbers, booleans, JSON and timestamps", async () => {
        const row = await s.repo.insert(item("a", {
          rank: 7,
          score: 2.5,
          active: true,
          data: { nested: { list: [1, "two", null, true] }, n: 1.25 },
          tag: "t",
          seen_at: "2026-01-02T03:04:05.678Z",
        }));
        const stored = await s.repo.findById(row.id);
        assert.deepEqual(stored, row);
        assert.equal(stored?.rank, 7);
        assert.equal(stored?.score, 2.5);
        assert.equal(stored?.active, true);
        assert.deepEqual(stored?.data, { nested: { list: [1, "two", null, true] }, n: 1.25 });
        assert.equal(stored?.seen_at, "2026-01-02T03:04:05.678Z");
      });

      it("stores absent optional values as null", async () => {
        const row = await s.repo.insert({ name: "bare", active: false } as never);
        assert.equal(row.rank, null);
        assert.equal(row.data, null);
        assert.equal(row.seen_at, null);
      });

      it("rejects a second row with a taken unique value as ConflictError", async () => {
        await s.repo.insert(item("taken"));
        await assert.rejects(s.repo.insert(item("taken")), ConflictError);
        assert.equal(await s.repo.count(), 1);
      });

      it("rejects a second row with a taken id as ConflictError", async () => {
        const row = await s.repo.insert(item("a"));
        await assert.rejects(s.repo.insert({ ...item("b"), id: row.id }), ConflictError);
      });
    });

    describe("insertMany", () => {
      it("inserts nothing for an empty list", async () => {
        assert.deepEqual(await s.repo.insertMany([]), []);
        assert.equal(await s.repo.count(), 0);
      });

      it("inserts more rows than one batch holds and returns them in input order", async () => {
        const values = Array.from({ length: 9000 }, (_, i) => item(`n${i}`, { rank: i }));
        const rows = await s.repo.insertMany(values);
        assert.equal(rows.length, 9000);
        assert.deepEqual(rows.map((row) => row.rank), values.map((value) => value.rank));
        assert.equal(await s.repo.count(), 9000);
        assert.equal(new Set(rows.map((row) => row.id)).size, 9000);
      });

      it("inserts none of the batches when a later batch violates a unique key", async () => {
        const values = Array.from({ length: 9000 }, (_, i) => item(`n${i}`));
        values.push(item("n0"));
        await assert.rejects(s.repo.insertMany(values), ConflictError);
        assert.equal(await s.repo.count(), 0);
      });
    });

    describe("findById and exists", () => {
      it("finds a stored row by id", async () => {
        const row = await s.repo.insert(item("a"));
        assert.deepEqual(await s.repo.findById(row.id), row);
      });

      it("answers null for an unknown id", async () => {
        assert.equal(await s.repo.findById(newUlid()), null);
      });

      it("says whether a row exists", async () => {
        const row = await s.repo.insert(item("a"));
        assert.equal(await s.repo.exists(row.id), true);
        assert.equal(await s.repo.exists(newUlid()), false);
      });
    });

    describe("findMany and count", () => {
      const seed = async (): Promise<void> => {
        // ids ascending in insertion order: a < b < c < d < e
        await s.repo.insertMany([
          item("a", { rank: 2 }),
          item("b", { rank: null }),
          item("c", { rank: 1 }),
          item("d", { rank: 2 }),
          item("e", { rank: null }),
        ]);
      };
      const names = (rows: { name: string }[]): string[] => rows.map((row) => row.name);

      it("lists rows in id order by default", async () => {
        await seed();
        assert.deepEqual(names(await s.repo.findMany()), ["a", "b", "c", "d", "e"]);
      });

      it("applies limit and offset", async () => {
        await seed();
        assert.deepEqual(names(await s.repo.findMany({ limit: 2, offset: 1 })), ["b", "c"]);
        assert.deepEqual(names(await s.repo.findMany({ offset: 3 })), ["d", "e"]);
        assert.deepEqual(names(await s.repo.findMany({ limit: 0 })), []);
        assert.deepEqual(names(await s.repo.findMany({ offset: 10 })), []);
      });

      it("sorts ascending with NULLs first and ties broken by id", async () => {
        await seed();
        const rows = await s.repo.findMany({ sort: [{ field: "rank", direction: "asc" }] });
        assert.deepEqual(names(rows), ["b", "e", "c", "a", "d"]);
      });

      it("sorts descending with NULLs last and ties broken by id ascending", async () => {
        await seed();
        const rows = await s.repo.findMany({ sort: [{ field: "rank", direction: "desc" }] });
        assert.deepEqual(names(rows), ["a", "d", "c", "b", "e"]);
      });

      it("sorts by several keys in order", async () => {
        await seed();
        const rows = await s.repo.findMany({
          sort: [{ field: "rank", direction: "desc" }, { field: "name", direction: "desc" }],
        });
        assert.deepEqual(names(rows), ["d", "a", "c", "e", "b"]);
      });

      it("sorts by id descending when asked", async () => {
        await seed();
        assert.deepEqual(names(await s.repo.findMany({ sort: [{ field: "id", direction: "desc" }] })), [
          "e",
          "d",
          "c",
          "b",
          "a",
        ]);
      });

      it("sorts numbers inside a JSON column numerically", async () => {
        await s.repo.insertMany([
          item("ten", { data: { n: 10 } }),
          item("nine", { data: { n: 9 } }),
          item("hundred", { data: { n: 100 } }),
          item("none", { data: {} }),
        ]);
        const rows = await s.repo.findMany({ sort: [{ field: "data.n", direction: "asc" }] });
        assert.deepEqual(names(rows), ["none", "nine", "ten", "hundred"]);
      });

      it("pages through sorted rows without gaps or repeats", async () => {
        await seed();
        const sort = [{ field: "rank", direction: "asc" as const }];
        const pages = [];
        for (let offset = 0; offset < 5; offset += 2) {
          pages.push(...names(await s.repo.findMany({ sort, limit: 2, offset })));
        }
        assert.deepEqual(pages, names(await s.repo.findMany({ sort })));
      });

      it("counts all rows, or those matching a filter", async () => {
        await seed();
        assert.equal(await s.repo.count(), 5);
        assert.equal(await s.repo.count({ filter: { kind: "compare", field: "rank", op: "eq", value: 2 } }), 2);
      });

      it("counts zero on an empty table", async () => {
        assert.equal(await s.repo.count(), 0);
      });

      it("finds rows by search words over the searchable columns, case-insensitively", async () => {
        await s.repo.insertMany([
          item("Blue Whale", { tag: "ocean" }),
          item("Red Fox", { tag: "forest" }),
          item("Sea Otter", { tag: "OCEAN coast" }),
        ]);
        assert.deepEqual(names(await s.repo.findMany({ search: "ocean" })), ["Blue Whale", "Sea Otter"]);
        assert.deepEqual(names(await s.repo.findMany({ search: "ocean otter" })), ["Sea Otter"]);
        assert.equal(await s.repo.count({ search: "fox" }), 1);
      });
    });

    describe("update", () => {
      it("changes the given columns and keeps the others", async () => {
        const row = await s.repo.insert(item("a", { rank: 1, tag: "keep" }));
        const updated = await s.repo.update(row.id, { rank: 2 });
        assert.equal(updated?.rank, 2);
        assert.equal(updated?.tag, "keep");
        assert.deepEqual(await s.repo.findById(row.id), updated);
      });

      it("moves updated_at forward and keeps created_at when a column changes", async () => {
        const row = await s.repo.insert(item("a", { rank: 1 }));
        const updated = await s.repo.update(row.id, { rank: 2 });
        assert.equal(updated?.created_at, row.created_at);
        assert.match(updated!.updated_at, ISO_MS_Z);
        assert.ok(updated!.updated_at > row.updated_at, `${updated!.updated_at} > ${row.updated_at}`);
      });

      it("leaves updated_at alone when no column changes", async () => {
        const row = await s.repo.insert(item("a", { rank: 1, data: { k: [1, 2] } }));
        const same = await s.repo.update(row.id, { rank: 1, data: { k: [1, 2] } });
        assert.deepEqual(same, row);
        assert.equal((await s.repo.findById(row.id))?.updated_at, row.updated_at);
      });

      it("clears a nullable column with null", async () => {
        const row = await s.repo.insert(item("a", { tag: "x", data: { a: 1 } }));
        const updated = await s.repo.update(row.id, { tag: null, data: null });
        assert.equal(updated?.tag, null);
        assert.equal(updated?.data, null);
      });

      it("answers null for an unknown id", async () => {
        assert.equal(await s.repo.update(newUlid(), { rank: 1 }), null);
      });

      it("rejects taking another row's unique value as ConflictError", async () => {
        await s.repo.insert(item("a"));
        const b = await s.repo.insert(item("b"));
        await assert.rejects(s.repo.update(b.id, { name: "a" }), ConflictError);
        assert.equal((await s.repo.findById(b.id))?.name, "b");
      });
    });

    describe("upsert", () => {
      it("inserts a row with a new id", async () => {
        const id = newUlid();
        const { record, created } = await s.repo.upsert({ ...item("a"), id });
        assert.equal(created, true);
        assert.equal(record.id, id);
      });

      it("updates the row with an existing id and keeps created_at", async () => {
        const row = await s.repo.insert(item("a", { rank: 1 }));
        const { record, created } = await s.repo.upsert({ ...item("a", { rank: 5 }), id: row.id });
        assert.equal(created, false);
        assert.equal(record.rank, 5);
        assert.equal(record.created_at, row.created_at);
        assert.equal(await s.repo.count(), 1);
      });
    });

    describe("delete and deleteMany", () => {
      it("deletes a row and says so", async () => {
        const row = await s.repo.insert(item("a"));
        assert.equal(await s.repo.delete(row.id), true);
        assert.equal(await s.repo.findById(row.id), null);
      });

      it("says false when deleting an unknown id", async () => {
        assert.equal(await s.repo.delete(newUlid()), false);
      });

      it("deletes the rows with the given ids and counts them", async () => {
        const rows = await s.repo.insertMany([item("a"), item("b"), item("c")]);
        assert.equal(await s.repo.deleteMany([rows[0]!.id, rows[2]!.id, newUlid()]), 2);
        assert.deepEqual((await s.repo.findMany()).map((row) => row.name), ["b"]);
      });

      it("deletes nothing for an empty id list", async () => {
        await s.repo.insert(item("a"));
        assert.equal(await s.repo.deleteMany([]), 0);
        assert.equal(await s.repo.count(), 1);
      });

      it("deletes the rows matching a filter and counts them", async () => {
        await s.repo.insertMany([item("a", { rank: 1 }), item("b", { rank: 5 }), item("c", { rank: 9 })]);
        assert.equal(await s.repo.deleteMany({ kind: "compare", field: "rank", op: "gte", value: 5 }), 2);
        assert.deepEqual((await s.repo.findMany()).map((row) => row.name), ["a"]);
      });
    });

    describe("transactions", () => {
      it("commits every write of a transaction that returns", async () => {
        const result = await s.repo.transaction(async (tx) => {
          await tx.insert(item("a"));
          await tx.insert(item("b"));
          return "done";
        });
        assert.equal(result, "done");
        assert.equal(await s.repo.count(), 2);
      });

      it("leaves nothing behind when the transaction throws", async () => {
        const before = await s.repo.insert(item("before", { rank: 1 }));
        await assert.rejects(
          s.repo.transaction(async (tx) => {
            await tx.insert(item("inside"));
            await tx.update(before.id, { rank: 2 });
            await tx.delete(before.id);
            throw new Error("abort");
          }),
          /abort/,
        );
        assert.deepEqual(await s.repo.findMany(), [before]);
      });

      it("rolls back earlier writes when a later one violates a unique key", async () => {
        await assert.rejects(
          s.repo.transaction(async (tx) => {
            await tx.insert(item("x"));
            await tx.insert(item("x"));
          }),
          ConflictError,
        );
        assert.equal(await s.repo.count(), 0);
      });

      it("sees its own uncommitted writes", async () => {
        await s.repo.transaction(async (tx) => {
          const row = await tx.insert(item("a"));
          assert.equal((await tx.findById(row.id))?.name, "a");
          assert.equal(await tx.count(), 1);
        });
      });

      it("runs concurrent transactions one after another without mixing their writes", async () => {
        const outcomes = await Promise.allSettled(Array.from({ length: 8 }, (_, i) =>
          s.repo.transaction(async (tx) => {
            await tx.insert(item(`t${i}-1`));
            await new Promise((resolve) => setTimeout(resolve, 2));
            await tx.insert(item(`t${i}-2`));
            if (i % 2 === 1) throw new Error(`abort ${i}`);
          })));
        assert.deepEqual(outcomes.map((o) => o.status), Array.from({ length: 8 }, (_, i) => i % 2 ? "rejected" : "fulfilled"));
        const stored = (await s.repo.findMany({ sort: [{ field: "name", direction: "asc" }] })).map((row) => row.name);
        assert.deepEqual(stored, ["t0-1", "t0-2", "t2-1", "t2-2", "t4-1", "t4-2", "t6-1", "t6-2"]);
      });

      it("keeps writes made outside a transaction that runs at the same time and fails", async () => {
        const failing = s.repo.transaction(async (tx) => {
          await tx.insert(item("inside"));
          await new Promise((resolve) => setTimeout(resolve, 5));
          throw new Error("abort");
        });
        const outside = s.repo.insert(item("outside"));
        await assert.rejects(failing, /abort/);
        await outside;
        assert.deepEqual((await s.repo.findMany()).map((row) => row.name), ["outside"]);
      });

      it("rolls back only the inner work of a nested transaction that throws and is caught", async () => {
        await s.repo.transaction(async (tx) => {
          await tx.insert(item("outer"));
          await assert.rejects(
            tx.transaction(async (inner) => {
              await inner.insert(item("inner"));
              throw new Error("inner abort");
            }),
            /inner abort/,
          );
          await tx.insert(item("after"));
        });
        assert.deepEqual((await s.repo.findMany()).map((row) => row.name), ["outer", "after"]);
      });

      it("recovers from a unique violation caught around a nested transaction", async () => {
        await s.repo.transaction(async (tx) => {
          await tx.insert(item("a"));
          await assert.rejects(tx.transaction((inner) => inner.insert(item("a"))), ConflictError);
          await tx.insert(item("b"));
        });
        assert.deepEqual((await s.repo.findMany()).map((row) => row.name), ["a", "b"]);
      });
    });
  });
}
