/**
 * The PostgreSQL driver hands its pool at most `max` statements and transactions at once; the rest
 * wait their turn in arrival order (postgres.js would otherwise stack them on busy connections,
 * and its queue of busy connections then grows with every statement while the pool stays busy).
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import postgres from "postgres";
import type { Driver } from "../../src/db/driver.ts";
import type { PooledDriver } from "../../src/db/instrumented-driver.ts";
import { openDatabase } from "../../src/db/open.ts";
import { DATABASE_URL } from "../_support/stores.ts";
import { databaseUrlAt, postgresProxy } from "./_tcp-proxy.ts";

const schemas: string[] = [];
after(async () => {
  const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    for (const schema of schemas) await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await sql.end({ timeout: 1 });
  }
});

async function open(max: number, url = DATABASE_URL): Promise<Driver & PooledDriver> {
  const schema = `chapkit_turns_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  schemas.push(schema);
  return await openDatabase(url, { postgres: { schema, max } }) as Driver & PooledDriver;
}

// The client's Execute of the unnamed portal, and the server's CommandComplete of a one-row SELECT.
const EXECUTE = [0x45, 0, 0, 0, 9, 0, 0, 0, 0, 0];
const COMPLETE = [0x43, 0, 0, 0, 13, ..."SELECT 1".split("").map((c) => c.charCodeAt(0)), 0];

function count(chunk: Uint8Array, pattern: number[]): number {
  let found = 0;
  for (let i = 0; i + pattern.length <= chunk.length; i++) {
    let j = 0;
    while (j < pattern.length && chunk[i + j] === pattern[j]) j++;
    if (j === pattern.length) found++;
  }
  return found;
}

/**
 * A proxy to the PostgreSQL server that counts, per connection, the statements sent before the
 * answer to the one before (Executes not yet answered by CommandComplete).
 */
async function statementCountingProxy(): Promise<{ url: string; reset(): void; mostOutstanding(): number; close(): Promise<void> }> {
  let most = 0;
  const outstanding = new Map<object, number>();
  const proxy = postgresProxy(0, (connection, toServer, chunk) => {
    const now = (outstanding.get(connection) ?? 0) + (toServer ? count(chunk, EXECUTE) : -count(chunk, COMPLETE));
    outstanding.set(connection, now);
    most = Math.max(most, now);
  });
  await proxy.listen();
  return {
    url: databaseUrlAt(proxy.port),
    // Opening the pool runs statements of other shapes: counting starts from a quiet pool.
    reset: () => {
      most = 0;
      for (const connection of outstanding.keys()) outstanding.set(connection, 0);
    },
    mostOutstanding: () => most,
    close: () => proxy.cut(),
  };
}

function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe("PostgreSQL pool turns", () => {
  test("hands the pool at most max statements at once; the others wait and run in arrival order", async () => {
    const db = await open(2);
    try {
      const finished: number[] = [];
      const runs = Array.from({ length: 8 }, (_, n) =>
        db.query<{ n: number }>("SELECT ?::int AS n, pg_sleep(0.03) IS NULL AS slept", [n]).then((rows) => {
          finished.push(n);
          return rows[0]!.n;
        }));
      assert.deepEqual(db.poolStats(), { max: 2, active: 2, waiting: 6 });
      assert.deepEqual(await Promise.all(runs), [0, 1, 2, 3, 4, 5, 6, 7]);
      // Two at a time, oldest first: each pair ends before the next pair starts.
      assert.deepEqual(finished.slice(0, 2).sort(), [0, 1]);
      assert.deepEqual(finished.slice(2, 4).sort(), [2, 3]);
      assert.deepEqual(finished.slice(6).sort(), [6, 7]);
      assert.deepEqual(db.poolStats(), { max: 2, active: 0, waiting: 0 });
    } finally {
      await db.close();
    }
  });

  test("never sends a connection a statement before the previous one is answered", async () => {
    const proxy = await statementCountingProxy();
    const db = await open(2, proxy.url);
    try {
      proxy.reset();
      const runs = Array.from({ length: 12 }, (_, n) => db.query<{ n: number }>("SELECT ?::int AS n, pg_sleep(0.02) IS NULL AS slept", [n]));
      assert.deepEqual((await Promise.all(runs)).map((rows) => rows[0]!.n), Array.from({ length: 12 }, (_, n) => n));
      assert.equal(proxy.mostOutstanding(), 1);
    } finally {
      await db.close();
      await proxy.close();
    }
  });

  test("a transaction holds its turn until it ends", async () => {
    const db = await open(1);
    try {
      const hold = gate();
      const inside = gate();
      const transaction = db.transaction(async (tx) => {
        await tx.query("SELECT 1 AS one");
        inside.open();
        await hold.promise;
        return (await tx.query<{ two: number }>("SELECT 2 AS two"))[0]!.two;
      });
      await inside.promise;
      let answered = false;
      const outside = db.query<{ three: number }>("SELECT 3 AS three").then((rows) => (answered = true, rows[0]!.three));
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(answered, false, "the statement waits while the transaction holds the only connection");
      assert.deepEqual(db.poolStats(), { max: 1, active: 1, waiting: 1 });
      hold.open();
      assert.equal(await transaction, 2);
      assert.equal(await outside, 3);
      assert.deepEqual(db.poolStats(), { max: 1, active: 0, waiting: 0 });
    } finally {
      await db.close();
    }
  });

  test("a failed statement, a rolled-back transaction and a stream left early give their turn back", async () => {
    const db = await open(1);
    try {
      await assert.rejects(db.query("SELECT * FROM no_such_table"));
      await assert.rejects(db.transaction(async (tx) => {
        await tx.query("SELECT 1 AS one");
        throw new Error("roll back");
      }), /roll back/);
      for await (const rows of db.stream!<{ n: number }>("SELECT generate_series(1, 100) AS n", [], 10)) {
        assert.equal(rows.length, 10);
        break;
      }
      assert.deepEqual(db.poolStats(), { max: 1, active: 0, waiting: 0 });
      const rows = await db.query<{ ok: number }>("SELECT 1 AS ok");
      assert.equal(rows[0]!.ok, 1);
    } finally {
      await db.close();
    }
  });
});
