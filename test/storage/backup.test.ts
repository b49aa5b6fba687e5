/**
 * backupStore and restoreStore as a library, across SQLite and PostgreSQL:
 * values converted by column type, trees linked whatever their row order,
 * sequences moved on, blobs moved between backends, failures undone, and
 * one snapshot while the store is written.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { gunzipSync, gzipSync } from "node:zlib";
import type { Driver } from "../../src/db/driver.ts";
import { migrate } from "../../src/db/migrate.ts";
import type { Migration } from "../../src/db/migration.ts";
import { openDatabase } from "../../src/db/open.ts";
import { backupStore, type BlobStoreOpener } from "../../src/storage/backup/backup.ts";
import { restoreStore } from "../../src/storage/backup/restore.ts";
import { DatabaseBlobStore } from "../../src/storage/database-blob-store.ts";
import { FileBlobStore } from "../../src/storage/file-blob-store.ts";
import { storageMigrations } from "../../src/storage/migrations.ts";
import { postgresStore } from "../_support/stores.ts";

const SCHEMA: Migration = {
  module: "sample",
  version: 1,
  name: "nodes, notes that refer to them, counters",
  up: {
    sqlite: `CREATE TABLE "nodes" ("id" TEXT PRIMARY KEY, "parent_id" TEXT REFERENCES "nodes"("id"), "flag" INTEGER NOT NULL, "doc" TEXT, "at" TEXT, "raw" BLOB, "size" INTEGER);
CREATE TABLE "alpha_notes" ("id" TEXT PRIMARY KEY, "node_id" TEXT NOT NULL REFERENCES "nodes"("id"), "body" TEXT);
CREATE TABLE "counters" ("seq" INTEGER PRIMARY KEY AUTOINCREMENT, "name" TEXT NOT NULL);`,
    postgres: `CREATE TABLE "nodes" ("id" TEXT PRIMARY KEY, "parent_id" TEXT REFERENCES "nodes"("id"), "flag" BOOLEAN NOT NULL, "doc" JSON, "at" TIMESTAMPTZ(3), "raw" BYTEA, "size" BIGINT);
CREATE TABLE "alpha_notes" ("id" TEXT PRIMARY KEY, "node_id" TEXT NOT NULL REFERENCES "nodes"("id"), "body" TEXT);
CREATE TABLE "counters" ("seq" BIGSERIAL PRIMARY KEY, "name" TEXT NOT NULL);`,
  },
};
const MIGRATIONS = [...storageMigrations, SCHEMA];
const RAW = new Uint8Array([0, 0xff, 0xc3, 0x28, 10, 0x80]);

async function sqliteStore(): Promise<Driver> {
  const db = await openDatabase("sqlite::memory:");
  await migrate(db, MIGRATIONS);
  return db;
}

/** A store with a tree whose first row's parent comes after it, notes on it and three counters. */
async function seeded(db: Driver): Promise<Driver> {
  const tx = db.dialect === "postgres";
  await db.exec(`INSERT INTO "nodes" ("id", "parent_id", "flag", "doc", "at", "raw", "size") VALUES ('b', NULL, ?, ?, ?, NULL, 9007199254740991)`, [tx ? false : 0, '{"k":[1,2]}', "2026-01-02T03:04:05.678Z"]);
  await db.exec(`INSERT INTO "nodes" ("id", "parent_id", "flag", "doc", "at", "raw", "size") VALUES ('c', 'b', ?, ?, NULL, ?, 0)`, [tx ? true : 1, '"just text"', RAW]);
  await db.exec(`INSERT INTO "nodes" ("id", "parent_id", "flag", "doc", "at", "raw", "size") VALUES ('a', 'c', ?, NULL, NULL, NULL, NULL)`, [tx ? true : 1]);
  await db.exec(`INSERT INTO "alpha_notes" ("id", "node_id", "body") VALUES ('n1', 'a', 'ünïcödé ✓'), ('n2', 'b', '')`);
  for (const name of ["x", "y", "z"]) await db.exec(`INSERT INTO "counters" ("name") VALUES (?)`, [name]);
  return db;
}

async function archiveOf(db: Driver, blobs?: BlobStoreOpener, onTable?: () => Promise<void>): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let first = true;
  await backupStore({
    db,
    out: new WritableStream({ write: (chunk) => void chunks.push(Buffer.from(chunk)) }),
    ...(blobs ? { blobs } : {}),
    onProgress: async () => {
      if (first && onTable) await onTable();
      first = false;
    },
  });
  return new Uint8Array(Buffer.concat(chunks));
}

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}

async function rows(db: Driver, table: string, order: string): Promise<Record<string, unknown>[]> {
  return await db.query(`SELECT * FROM "${table}" ORDER BY "${order}"`);
}

describe("backupStore and restoreStore", () => {
  const pg = postgresStore();
  const dirs: string[] = [];
  const dir = (): string => {
    const path = mkdtempSync(join(tmpdir(), "chapkit-backup-"));
    dirs.push(path);
    return path;
  };
  after(async () => {
    await pg.cleanup();
    for (const path of dirs) rmSync(path, { recursive: true, force: true });
  });

  it("converts values by the target's column types, SQLite to PostgreSQL and back, and links a tree whatever its row order", async () => {
    const source = await seeded(await sqliteStore());
    const target = await pg.open();
    const back = await sqliteStore();
    try {
      const report = await restoreStore({ db: target, archive: streamOf(await archiveOf(source)), migrations: MIGRATIONS });
      assert.equal(report.source, "sqlite");
      assert.deepEqual([report.tables.nodes, report.tables.alpha_notes, report.tables.counters], [3, 2, 3]);
      const nodes = await rows(target, "nodes", "id");
      assert.deepEqual(nodes.map((n) => [n.id, n.parent_id, n.flag]), [["a", "c", true], ["b", null, false], ["c", "b", true]]);
      assert.deepEqual(nodes[1]!.doc, { k: [1, 2] });
      assert.equal(nodes[2]!.doc, "just text");
      assert.equal((nodes[1]!.at as Date).toISOString(), "2026-01-02T03:04:05.678Z");
      assert.ok(Buffer.from(nodes[2]!.raw as Uint8Array).equals(Buffer.from(RAW)));

      await restoreStore({ db: back, archive: streamOf(await archiveOf(target)), migrations: MIGRATIONS });
      for (const [table, key] of [["nodes", "id"], ["alpha_notes", "id"], ["counters", "seq"]] as const) {
        assert.deepEqual(await rows(back, table, key), await rows(source, table, key), table);
      }
    } finally {
      await Promise.all([source.close(), target.close(), back.close()]);
    }
  });

  it("moves PostgreSQL serial sequences past the restored keys", async () => {
    const source = await seeded(await sqliteStore());
    const target = await pg.open();
    try {
      await restoreStore({ db: target, archive: streamOf(await archiveOf(source)), migrations: MIGRATIONS });
      const [row] = await target.query<{ seq: string }>(`INSERT INTO "counters" ("name") VALUES ('next') RETURNING "seq"`);
      assert.equal(Number(row!.seq), 4);
    } finally {
      await Promise.all([source.close(), target.close()]);
    }
  });

  it("puts blobs into the target's backend, which may differ from the source's, byte for byte", async () => {
    const source = await sqliteStore();
    const files = dir();
    const target = await sqliteStore();
    try {
      const blobs = new DatabaseBlobStore(source, { chunkSize: 1000 });
      const big = new Uint8Array(5000).map((_, i) => (i * 31) & 0xff);
      await blobs.put("sha256/aa/one", RAW);
      await blobs.put("sha256/bb/two", big);
      const report = await restoreStore({
        db: target,
        archive: streamOf(await archiveOf(source)),
        migrations: MIGRATIONS,
        blobs: () => new FileBlobStore(files),
      });
      assert.deepEqual([report.blobs, report.bytes], [2, RAW.byteLength + big.byteLength]);
      const restored = new FileBlobStore(files);
      assert.ok(Buffer.from((await restored.get("sha256/aa/one"))!).equals(Buffer.from(RAW)));
      assert.ok(Buffer.from((await restored.get("sha256/bb/two"))!).equals(Buffer.from(big)));
    } finally {
      await Promise.all([source.close(), target.close()]);
    }
  });

  it("rolls the rows back and removes the blobs it put when a blob does not match its SHA-256", async () => {
    const source = await seeded(await sqliteStore());
    const files = dir();
    const target = await sqliteStore();
    try {
      await new DatabaseBlobStore(source).put("sha256/aa/one", RAW);
      await new DatabaseBlobStore(source).put("sha256/cc/three", new Uint8Array([1, 2, 3]));
      const lines = gunzipSync(await archiveOf(source)).toString("utf8").split("\n");
      const last = lines.findLastIndex((line) => line.startsWith(`{"data":`));
      lines[last] = JSON.stringify({ data: Buffer.from([9, 9, 9]).toString("base64") });
      const tampered = new Uint8Array(gzipSync(lines.join("\n")));
      await assert.rejects(
        restoreStore({ db: target, archive: streamOf(tampered), blobs: () => new FileBlobStore(files) }),
        /blob sha256\/cc\/three does not match its SHA-256/,
      );
      assert.deepEqual(await target.query(`SELECT * FROM "nodes"`), []);
      const left: string[] = [];
      for await (const info of new FileBlobStore(files).list()) left.push(info.key);
      assert.deepEqual(left, []);
    } finally {
      await Promise.all([source.close(), target.close()]);
    }
  });

  for (const kind of ["sqlite", "postgres"] as const) {
    it(`reads one snapshot of a ${kind} store while another connection writes to it`, async () => {
      const file = join(dir(), "store.db");
      const source = kind === "sqlite" ? await openDatabase(`sqlite:${file}`) : await pg.open();
      const writer = kind === "sqlite" ? await openDatabase(`sqlite:${file}`) : await openDatabase(pg.url());
      const target = await sqliteStore();
      try {
        await migrate(source, MIGRATIONS);
        await seeded(source);
        // After the first table is written, a row lands in a table the archive has not reached yet.
        const archive = await archiveOf(source, undefined, async () => {
          await writer.exec(`INSERT INTO "counters" ("name") VALUES ('late')`);
        });
        assert.equal((await writer.query(`SELECT * FROM "counters"`)).length, 4);
        const report = await restoreStore({ db: target, archive: streamOf(archive) });
        assert.equal(report.tables.counters, 3);
      } finally {
        await Promise.all([source.close(), writer.close(), target.close()]);
      }
    });
  }
});
