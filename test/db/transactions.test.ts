/**
 * Transactions: isolation levels on PostgreSQL (SQLite is serializable
 * always), automatic runs again after serialization failures (40001) and
 * deadlocks (40P01), and nested transactions as savepoints.
 */
import assert from "node:assert/strict";
import { after, afterEach, beforeEach, describe, it } from "node:test";
import { ConflictError } from "../../src/core/errors.ts";
import type { Driver } from "../../src/db/driver.ts";
import { postgresStore, testStores } from "../_support/stores.ts";

/** Resolves once `n` callers have arrived. */
function barrier(n: number): () => Promise<void> {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return () => {
    if (++arrived === n) open();
    return opened;
  };
}

describe("transactions on postgres", () => {
  const store = postgresStore();
  let db: Driver;
  beforeEach(async () => {
    db = await store.open();
    await db.exec(`CREATE TABLE doctors (id integer PRIMARY KEY, on_call boolean NOT NULL)`);
    await db.exec(`INSERT INTO doctors VALUES (1, true), (2, true)`);
  });
  afterEach(() => db.close());
  after(() => store.cleanup());

  for (const isolation of ["serializable", "repeatable read", "read committed"] as const) {
    it(`runs at ${isolation}`, async () => {
      const level = await db.transaction(async (tx) => (await tx.query<{ level: string }>("SELECT current_setting('transaction_isolation') AS level"))[0]!.level, { isolation });
      assert.equal(level, isolation);
    });
  }

  it("refuses writes in a read-only transaction", async () => {
    await assert.rejects(db.transaction((tx) => tx.exec("UPDATE doctors SET on_call = false"), { readOnly: true }), /read-only/);
  });

  /** Write skew: each transaction takes a doctor off call if another is still on call. */
  function offCall(id: number, meet: () => Promise<void>, runs: number[]) {
    return db.transaction(async (tx) => {
      runs.push(id);
      const [{ n }] = await tx.query<{ n: string }>("SELECT count(*) AS n FROM doctors WHERE on_call") as [{ n: string }];
      if (runs.length <= 2) await meet();
      if (Number(n) >= 2) await tx.exec("UPDATE doctors SET on_call = false WHERE id = ?", [id]);
    }, { isolation: "serializable" });
  }

  it("runs a transaction again after a serialization failure, so both keep the invariant", async () => {
    const runs: number[] = [];
    const meet = barrier(2);
    await Promise.all([offCall(1, meet, runs), offCall(2, meet, runs)]);
    assert.ok(runs.length >= 3, `one of the two ran again (${runs.length} runs)`);
    const rows = await db.query<{ n: string }>("SELECT count(*) AS n FROM doctors WHERE on_call");
    assert.equal(Number(rows[0]!.n), 1, "exactly one doctor stays on call");
  });

  it("answers a conflict once the retries are spent", async () => {
    const runs: number[] = [];
    const meet = barrier(2);
    const results = await Promise.allSettled([
      db.transaction(async (tx) => {
        runs.push(1);
        await tx.query("SELECT count(*) AS n FROM doctors WHERE on_call");
        await meet();
        await tx.exec("UPDATE doctors SET on_call = false WHERE id = 1");
      }, { isolation: "serializable", retries: 0 }),
      db.transaction(async (tx) => {
        runs.push(2);
        await tx.query("SELECT count(*) AS n FROM doctors WHERE on_call");
        await meet();
        await tx.exec("UPDATE doctors SET on_call = false WHERE id = 2");
      }, { isolation: "serializable", retries: 0 }),
    ]);
    const failed = results.filter((result) => result.status === "rejected");
    assert.equal(failed.length, 1);
    assert.ok((failed[0] as PromiseRejectedResult).reason instanceof ConflictError);
    assert.match(String((failed[0] as PromiseRejectedResult).reason.message), /40001/);
    assert.equal(runs.length, 2);
  });

  it("runs a transaction again after a deadlock", async () => {
    const runs: number[] = [];
    const meet = barrier(2);
    const lock = (first: number, second: number) =>
      db.transaction(async (tx) => {
        runs.push(first);
        await tx.exec("SET LOCAL deadlock_timeout = '20ms'");
        await tx.exec("UPDATE doctors SET on_call = NOT on_call WHERE id = ?", [first]);
        if (runs.length <= 2) await meet();
        await tx.exec("UPDATE doctors SET on_call = NOT on_call WHERE id = ?", [second]);
      });
    await Promise.all([lock(1, 2), lock(2, 1)]);
    assert.ok(runs.length >= 3, `the deadlock victim ran again (${runs.length} runs)`);
  });

  it("keeps a nested transaction a savepoint: its failure undoes only its own work", async () => {
    await db.transaction(async (tx) => {
      await tx.exec("UPDATE doctors SET on_call = false WHERE id = 1");
      await assert.rejects(db.transaction(async (inner) => {
        await inner.exec("UPDATE doctors SET on_call = false WHERE id = 2");
        throw new Error("undo me");
      }));
    }, { isolation: "repeatable read" });
    const rows = await db.query<{ id: number; on_call: boolean }>("SELECT id, on_call FROM doctors ORDER BY id");
    assert.deepEqual(rows.map((row) => row.on_call), [false, true]);
  });

  async function onCall(): Promise<boolean[]> {
    return (await db.query<{ on_call: boolean }>("SELECT on_call FROM doctors ORDER BY id")).map((row) => row.on_call);
  }

  it("commits a pipelined statement with its transaction", async () => {
    await db.transaction(async () => {
      assert.ok(db.pipeline!("UPDATE doctors SET on_call = false WHERE id = ?", [1]));
    });
    assert.deepEqual(await onCall(), [false, true]);
  });

  it("rolls the whole transaction back when a pipelined statement fails, and says why", async () => {
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.exec("UPDATE doctors SET on_call = false WHERE id = 2");
        void db.pipeline!("INSERT INTO doctors VALUES (?, true)", [1]);
      }),
      ConflictError,
    );
    assert.deepEqual(await onCall(), [true, true]);
    await db.transaction((tx) => tx.exec("UPDATE doctors SET on_call = false WHERE id = 2"));
    assert.deepEqual(await onCall(), [true, false], "the pool serves transactions after the failed one");
  });

  it("rolls back only the savepoint whose pipelined statement failed", async () => {
    await db.transaction(async (tx) => {
      await tx.exec("UPDATE doctors SET on_call = false WHERE id = 1");
      await assert.rejects(db.transaction(async () => {
        void db.pipeline!("UPDATE doctors SET on_call = false WHERE id = 2");
        void db.pipeline!("INSERT INTO doctors VALUES (?, true)", [1]);
      }), ConflictError);
    });
    assert.deepEqual(await onCall(), [false, true]);
  });

  it("pipelines nothing outside a transaction", async () => {
    assert.equal(db.pipeline!("UPDATE doctors SET on_call = false WHERE id = 1"), undefined);
    assert.deepEqual(await onCall(), [true, true]);
  });
});

for (const store of testStores().filter((one) => one.kind === "sqlite")) {
  describe(`transactions on ${store.name}`, () => {
    let db: Driver;
    beforeEach(async () => {
      db = await store.open();
    });
    afterEach(() => db.close());
    after(() => store.cleanup());

    it("accepts every isolation level and runs serializably: one writer at a time", async () => {
      await db.exec("CREATE TABLE counter (n integer)");
      await db.exec("INSERT INTO counter VALUES (0)");
      const bump = () =>
        db.transaction(async (tx) => {
          const [{ n }] = await tx.query<{ n: number }>("SELECT n FROM counter") as [{ n: number }];
          await new Promise((resolve) => setTimeout(resolve, 1));
          await tx.exec("UPDATE counter SET n = ?", [n + 1]);
        }, { isolation: "read committed" });
      await Promise.all([bump(), bump(), bump()]);
      assert.equal((await db.query<{ n: number }>("SELECT n FROM counter"))[0]!.n, 3);
    });
  });
}
