/** Migrations on every store: applied once, recorded with checksums, guarded against edits, reversible. */
import assert from "node:assert/strict";
import { after, afterEach, beforeEach, describe, it } from "node:test";
import { createHash } from "node:crypto";
import type { Driver } from "../../src/db/driver.ts";
import { migrate, migrateDown, MigrationError, MIGRATIONS_TABLE } from "../../src/db/migrate.ts";
import type { Migration } from "../../src/db/migration.ts";
import { tableMigration } from "../../src/db/table-migration.ts";
import { testStores } from "../_support/stores.ts";
import { items } from "./_items.ts";

const notesV1: Migration = {
  module: "notes",
  version: 1,
  name: "create notes",
  up: "CREATE TABLE notes (id TEXT PRIMARY KEY, title TEXT NOT NULL);\nCREATE INDEX ix_notes_title ON notes (title);",
  down: "DROP TABLE notes;",
};
const notesV2: Migration = {
  module: "notes",
  version: 2,
  name: "add body",
  up: { sqlite: "ALTER TABLE notes ADD COLUMN body TEXT", postgres: "ALTER TABLE notes ADD COLUMN body TEXT DEFAULT NULL" },
  down: { sqlite: "ALTER TABLE notes DROP COLUMN body", postgres: "ALTER TABLE notes DROP COLUMN body" },
};
const tagsV1: Migration = {
  module: "tags",
  version: 1,
  name: "create tags",
  up: "CREATE TABLE tags (id TEXT PRIMARY KEY, label TEXT NOT NULL)",
};

async function tableExists(db: Driver, table: string): Promise<boolean> {
  return db.query(`SELECT COUNT(*) AS n FROM ${table}`).then(() => true, () => false);
}

/** `db` with a log of the statements and transactions called through it. */
function watched(db: Driver): { driver: Driver; calls: string[] } {
  const calls: string[] = [];
  const driver = new Proxy(db, {
    get(target, key) {
      const value = Reflect.get(target, key, target) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (key === "transaction") calls.push("transaction");
        else if (key === "query" || key === "exec") calls.push(`${key} ${String(args[0])}`);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { driver, calls };
}

interface Recorded extends Record<string, unknown> {
  module: string;
  version: number;
  name: string;
  checksum: string;
  applied_at: unknown;
}

for (const store of testStores()) {
  describe(`migrations on ${store.name}`, () => {
    let db: Driver;
    beforeEach(async () => {
      db = await store.open();
    });
    afterEach(async () => {
      await db.close();
    });
    after(async () => {
      await store.cleanup();
    });

    const recorded = (): Promise<Recorded[]> =>
      db.query<Recorded>(`SELECT module, version, name, checksum, applied_at FROM ${MIGRATIONS_TABLE} ORDER BY module, version`);

    it("applies pending migrations and says which", async () => {
      const report = await migrate(db, [notesV1, notesV2, tagsV1]);
      assert.deepEqual(report.applied, ["notes#1", "notes#2", "tags#1"]);
      await db.exec("INSERT INTO notes (id, title, body) VALUES (?, ?, ?)", ["1", "t", "b"]);
      assert.equal(await tableExists(db, "tags"), true);
    });

    it("records each applied migration with the SHA-256 of its SQL for this dialect", async () => {
      await migrate(db, [notesV1, notesV2]);
      const rows = await recorded();
      const sha = (sql: string): string => createHash("sha256").update(sql).digest("hex");
      assert.deepEqual(rows.map((r) => [r.module, Number(r.version), r.name, r.checksum]), [
        ["notes", 1, "create notes", sha(notesV1.up as string)],
        ["notes", 2, "add body", sha((notesV2.up as Record<string, string>)[db.dialect]!)],
      ]);
      assert.ok(rows.every((r) => r.applied_at !== null));
    });

    it("does nothing when run again", async () => {
      await migrate(db, [notesV1, notesV2]);
      const again = await migrate(db, [notesV1, notesV2]);
      assert.deepEqual(again.applied, []);
      assert.equal((await recorded()).length, 2);
    });

    it("recognises a migrated database with one read of the history: no lock, no transaction", async () => {
      await migrate(db, [notesV1, notesV2, tagsV1]);
      const { driver, calls } = watched(db);
      assert.deepEqual((await migrate(driver, [tagsV1, notesV1, notesV2])).applied, []);
      assert.equal(calls.includes("transaction"), false);
      assert.deepEqual(calls.filter((call) => call.startsWith("query")), [`query SELECT module, version, checksum FROM ${MIGRATIONS_TABLE}`]);
      assert.deepEqual(calls.filter((call) => call.startsWith("exec")).map((call) => call.split("(")[0]), [`exec CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} `]);
    });

    it("runs the locked check again when the history lacks a listed migration", async () => {
      await migrate(db, [notesV1]);
      const { driver, calls } = watched(db);
      assert.deepEqual((await migrate(driver, [notesV1, notesV2])).applied, ["notes#2"]);
      assert.ok(calls.includes("transaction"));
      assert.deepEqual((await recorded()).map((r) => [r.module, Number(r.version)]), [["notes", 1], ["notes", 2]]);
    });

    it("migrates a fresh database in one transaction, recording every migration in one statement", async () => {
      const { driver, calls } = watched(db);
      assert.deepEqual((await migrate(driver, [notesV1, notesV2, tagsV1])).applied, ["notes#1", "notes#2", "tags#1"]);
      assert.equal(calls.filter((call) => call === "transaction").length, 1);
      assert.equal(calls.filter((call) => call.startsWith(`exec INSERT INTO ${MIGRATIONS_TABLE}`)).length, 1);
      assert.equal((await recorded()).length, 3);
    });

    it("applies only the migrations added since the last run", async () => {
      await migrate(db, [notesV1]);
      assert.deepEqual((await migrate(db, [notesV1, notesV2, tagsV1])).applied, ["notes#2", "tags#1"]);
    });

    it("applies a module's versions in order whatever order they are listed in", async () => {
      assert.deepEqual((await migrate(db, [notesV2, notesV1])).applied, ["notes#1", "notes#2"]);
    });

    it("refuses to start when an applied migration was edited, naming it, and applies nothing", async () => {
      await migrate(db, [notesV1]);
      const edited = { ...notesV1, up: "CREATE TABLE notes (id TEXT PRIMARY KEY, title TEXT)" };
      const error = await migrate(db, [edited, notesV2]).catch((e: unknown) => e);
      assert.ok(error instanceof MigrationError);
      assert.match(error.message, /notes#1/);
      assert.match(error.message, /create notes/);
      assert.match(error.message, /edited/);
      assert.equal((await recorded()).length, 1);
    });

    it("rolls back every migration of a run when one fails", async () => {
      const broken: Migration = { module: "tags", version: 1, name: "broken", up: "CREATE TABLE tags (id TEXT PRIMARY KEY);\nNOT SQL AT ALL;" };
      await assert.rejects(migrate(db, [notesV1, notesV2, broken]));
      assert.equal(await tableExists(db, "notes"), false);
      assert.equal(await tableExists(db, "tags"), false);
      assert.equal((await recorded()).length, 0);
      assert.deepEqual((await migrate(db, [notesV1])).applied, ["notes#1"]);
    });

    it("rejects a migration declared twice or with a version below 1", async () => {
      await assert.rejects(migrate(db, [notesV1, { ...notesV1 }]), /declared twice/);
      await assert.rejects(migrate(db, [{ ...notesV1, version: 0 }]), /invalid version/);
    });

    it("migrateDown reverts a module's migrations newest first and forgets them", async () => {
      await migrate(db, [notesV1, notesV2, tagsV1]);
      const report = await migrateDown(db, [notesV1, notesV2, tagsV1], { module: "notes" });
      assert.deepEqual(report.applied, ["notes#2", "notes#1"]);
      assert.equal(await tableExists(db, "notes"), false);
      assert.deepEqual((await recorded()).map((r) => r.module), ["tags"]);
    });

    it("migrateDown stops at the given version", async () => {
      await migrate(db, [notesV1, notesV2]);
      assert.deepEqual((await migrateDown(db, [notesV1, notesV2], { module: "notes", toVersion: 1 })).applied, ["notes#2"]);
      await db.exec("INSERT INTO notes (id, title) VALUES (?, ?)", ["1", "t"]);
      await assert.rejects(db.exec("INSERT INTO notes (id, title, body) VALUES (?, ?, ?)", ["2", "t", "b"]));
      assert.deepEqual((await migrate(db, [notesV1, notesV2])).applied, ["notes#2"]);
    });

    it("migrateDown refuses a migration without down SQL and reverts nothing", async () => {
      await migrate(db, [tagsV1]);
      await assert.rejects(migrateDown(db, [tagsV1], { module: "tags" }), MigrationError);
      assert.equal(await tableExists(db, "tags"), true);
    });

    it("creates an entity table with its unique and plain indexes from its definition", async () => {
      await migrate(db, [tableMigration(items)]);
      const insert = "INSERT INTO items (id, created_at, updated_at, name, active) VALUES (?, ?, ?, ?, ?)";
      const now = new Date().toISOString();
      await db.exec(insert, ["A", now, now, "n", true]);
      await assert.rejects(db.exec(insert, ["B", now, now, "n", false]), /Unique constraint failed/);
      assert.deepEqual((await migrateDown(db, [tableMigration(items)], { module: "entity:items" })).applied, [
        "entity:items#1",
      ]);
      assert.equal(await tableExists(db, "items"), false);
    });
  });
}
