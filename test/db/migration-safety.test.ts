/**
 * Migration safety: destructive statements refused unless the migration is
 * marked; on PostgreSQL lock and statement timeouts, and a migration lock
 * whose holder is named when another run waits for it.
 */
import assert from "node:assert/strict";
import { after, afterEach, beforeEach, describe, it } from "node:test";
import type { Driver } from "../../src/db/driver.ts";
import { isDestructive, migrate, MigrationError } from "../../src/db/migrate.ts";
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
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holder = other.transaction(async (tx) => {
      await tx.exec("LOCK TABLE t IN ACCESS SHARE MODE");
      locked();
      await held;
    });
    await isLocked;
    try {
      const alter = { module: "m", version: 2, name: "add", up: "ALTER TABLE t ADD COLUMN note TEXT;" };
      await assert.rejects(migrate(db, [create, alter], { lockTimeoutMs: 50 }), (error: unknown) => {
        assert.ok(error instanceof MigrationError);
        assert.match(error.message, /lock_timeout/);
        assert.match(error.message, /pid \d+ \(chapkit.*LOCK TABLE t/);
        return true;
      });
    } finally {
      release();
      await holder;
    }
  });

  it("names the holder of the migration lock when another run waits for it too long", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holder = other.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock(7204119931) AS held");
      locked();
      await held;
    });
    await isLocked;
    try {
      await assert.rejects(migrate(db, [create], { lockWaitMs: 100 }), /Another migration run holds the migration lock.*pid \d+ \(chapkit/);
    } finally {
      release();
      await holder;
    }
  });
});
