/**
 * Migration safety: destructive statements refused unless the migration is
 * marked; on PostgreSQL lock and statement timeouts, and a migration lock
 * whose holder is named when another run waits for it.
 */
import assert from "node:assert/strict";
import { after, afterEach, beforeEach, describe, it } from "node:test";
import type { Driver } from "../../src/db/driver.ts";
import { isDestructive, migrate, MigrationError } from "../../src/db/migrate.ts";
import { narrows } from "../../src/db/migration-safety.ts";
import { openDatabase } from "../../src/db/open.ts";
import { DATABASE_URL, postgresStore, testStores } from "../_support/stores.ts";

const create = { module: "m", version: 1, name: "create", up: "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);\nINSERT INTO t VALUES (1, 'kept');" };

describe("destructive statements", () => {
  it("recognises drops, truncation, deletes, retyping and NOT NULL without default", () => {
    for (const statement of [
      "DROP TABLE t",
      "ALTER TABLE t DROP COLUMN name",
      "ALTER TABLE t ALTER COLUMN name TYPE varchar(3)",
      "ALTER TABLE t ALTER COLUMN name SET NOT NULL",
      "ALTER TABLE t ADD COLUMN n integer NOT NULL",
      "TRUNCATE t",
      "DELETE FROM t",
    ]) assert.ok(isDestructive(statement), statement);
    for (const statement of ["CREATE TABLE u (id INTEGER)", "ALTER TABLE t ADD COLUMN n integer NOT NULL DEFAULT 0", "DROP INDEX ix", "ALTER TABLE t ADD COLUMN note TEXT"]) {
      assert.ok(!isDestructive(statement), statement);
    }
  });
});

describe("type changes", () => {
  it("tells widening (safe) from narrowing (destructive) type changes", () => {
    for (const [from, to] of [["integer", "bigint"], ["smallint", "integer"], ["character varying(10)", "character varying(20)"], ["character varying(10)", "text"], ["text", "character varying"], ["numeric(8,2)", "numeric(10,2)"], ["numeric(8,2)", "numeric"], ["real", "double precision"], ["integer", "numeric"]]) {
      assert.equal(narrows(from!, to!), false, `${from} -> ${to}`);
    }
    for (const [from, to] of [["bigint", "integer"], ["text", "character varying(5)"], ["character varying(20)", "character varying(10)"], ["numeric(10,2)", "numeric(10,1)"], ["numeric", "numeric(10,2)"], ["double precision", "real"], ["text", "integer"], ["bigint", "double precision"]]) {
      assert.equal(narrows(from!, to!), true, `${from} -> ${to}`);
    }
  });
});

describe("destructive statements judged by the data on postgres", () => {
  const store = postgresStore();
  let db: Driver;
  beforeEach(async () => {
    db = await store.open();
    await migrate(db, [create, { module: "m", version: 2, name: "empty", up: "CREATE TABLE e (id INTEGER PRIMARY KEY, name TEXT)" }]);
  });
  afterEach(() => db.close());
  after(() => store.cleanup());
  const step = (up: string) => ({ module: "m", version: 3, name: "step", up });
  const refusal = (pattern: RegExp) => (error: unknown) => error instanceof MigrationError && pattern.test(error.message);

  it("refuses a NOT NULL column without a default on a table with rows, and adds it to an empty one", async () => {
    await assert.rejects(migrate(db, [step("ALTER TABLE t ADD COLUMN n integer NOT NULL")]), refusal(/m#3: ALTER TABLE t ADD COLUMN n integer NOT NULL \(adds a NOT NULL column without a default to a table that has rows\)/));
    assert.deepEqual((await migrate(db, [step("ALTER TABLE e ADD COLUMN n integer NOT NULL")])).applied, ["m#3"]);
  });

  it("refuses SET NOT NULL on a column holding NULLs and applies it to one without", async () => {
    await db.exec("INSERT INTO e (id, name) VALUES (1, NULL)");
    await assert.rejects(migrate(db, [step("ALTER TABLE e ALTER COLUMN name SET NOT NULL")]), refusal(/name holds NULLs/));
    assert.deepEqual((await migrate(db, [step("ALTER TABLE t ALTER COLUMN name SET NOT NULL")])).applied, ["m#3"]);
  });

  it("applies a widening type change unmarked and refuses a narrowing one, naming both types", async () => {
    await assert.rejects(migrate(db, [step("ALTER TABLE t ALTER COLUMN name TYPE varchar(3)")]), refusal(/narrows name from text to character varying\(3\)/));
    assert.deepEqual((await migrate(db, [step("ALTER TABLE t ALTER COLUMN id TYPE bigint;\nALTER TABLE t ALTER COLUMN name TYPE varchar")])).applied, ["m#3"]);
    const [row] = await db.query<{ type: string }>("SELECT data_type AS type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 't' AND column_name = 'id'");
    assert.equal(row?.type, "bigint");
  });

  it("still refuses drops whatever the data", async () => {
    await assert.rejects(migrate(db, [step("DROP TABLE e")]), refusal(/m#3: DROP TABLE e \(drops data\)/));
  });
});

for (const store of testStores()) {
  describe(`migration safety on ${store.name}`, () => {
    let db: Driver;
    beforeEach(async () => {
      db = await store.open();
      await migrate(db, [create]);
    });
    afterEach(() => db.close());
    after(() => store.cleanup());

    it("refuses an unmarked destructive migration, names the statement, and applies nothing", async () => {
      const drop = { module: "m", version: 2, name: "drop", up: "ALTER TABLE t ADD COLUMN note TEXT;\nALTER TABLE t DROP COLUMN name;" };
      await assert.rejects(migrate(db, [create, drop]), (error: unknown) => {
        assert.ok(error instanceof MigrationError);
        assert.match(error.message, /m#2: ALTER TABLE t DROP COLUMN name/);
        return true;
      });
      const rows = await db.query<{ name: string }>("SELECT name FROM t");
      assert.deepEqual(rows.map((row) => row.name), ["kept"]);
    });

    it("applies a destructive migration marked destructive", async () => {
      const report = await migrate(db, [create, { module: "m", version: 2, name: "drop", up: "DROP TABLE t;", destructive: true }]);
      assert.deepEqual(report.applied, ["m#2"]);
    });
  });
}

/** Runs `statement` in a transaction of `driver` and keeps that transaction (and its locks) open until the returned function is called. */
async function holdInTransaction(driver: Driver, statement: string): Promise<() => Promise<void>> {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const holder = driver.transaction(async (tx) => {
    await tx.query(statement);
    locked();
    await held;
  });
  await isLocked;
  return async () => {
    release();
    await holder;
  };
}

describe("migration locks on postgres", () => {
  const store = postgresStore();
  let db: Driver;
  let other: Driver;
  beforeEach(async () => {
    db = await store.open();
    await migrate(db, [create]);
    const schema = new URL(store.url()).searchParams.get("search_path")!;
    other = await openDatabase(DATABASE_URL, { postgres: { schema, max: 2 } });
  });
  afterEach(async () => {
    await other.close();
    await db.close();
  });
  after(() => store.cleanup());

  it("fails a statement that waits past lock_timeout, naming the session that holds the table", async () => {
    const release = await holdInTransaction(other, "LOCK TABLE t IN ACCESS SHARE MODE");
    try {
      const alter = { module: "m", version: 2, name: "add", up: "ALTER TABLE t ADD COLUMN note TEXT;" };
      await assert.rejects(migrate(db, [create, alter], { lockTimeoutMs: 50 }), (error: unknown) => {
        assert.ok(error instanceof MigrationError);
        assert.match(error.message, /lock_timeout/);
        assert.match(error.message, /pid \d+ \(chapkit.*LOCK TABLE t/);
        return true;
      });
    } finally {
      await release();
    }
  });

  it("starts on a migrated database while another run holds the migration lock, without waiting for it", async () => {
    const release = await holdInTransaction(other, "SELECT pg_advisory_xact_lock(7204119931) AS held");
    try {
      assert.deepEqual((await migrate(db, [create], { lockWaitMs: 100 })).applied, []);
    } finally {
      await release();
    }
  });

  it("names the holder of the migration lock when another run waits for it too long", async () => {
    const release = await holdInTransaction(other, "SELECT pg_advisory_xact_lock(7204119931) AS held");
    try {
      // A pending migration: a run with nothing to apply reads the history and never takes the lock.
      const alter = { module: "m", version: 2, name: "add", up: "ALTER TABLE t ADD COLUMN note TEXT;" };
      await assert.rejects(migrate(db, [create, alter], { lockWaitMs: 100 }), /Another migration run holds the migration lock.*pid \d+ \(chapkit/);
    } finally {
      await release();
    }
  });
});
