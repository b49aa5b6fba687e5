/**
 * A PostgreSQL transaction whose statements were all pipelined reaches the
 * server as one message when it ends: all or nothing, in one transaction,
 * values sent as literals that read back unchanged. Awaiting a pipelined
 * statement, or any statement that needs an answer, opens the transaction
 * first.
 */
import assert from "node:assert/strict";
import { after, afterEach, beforeEach, describe, it } from "node:test";
import { ConflictError } from "../../src/core/errors.ts";
import type { Driver } from "../../src/db/driver.ts";
import { inlineParameters, sqlLiteral } from "../../src/db/_pg-batch.ts";
import { postgresStore } from "../_support/stores.ts";

describe("pipelined transactions on postgres", () => {
  const store = postgresStore();
  let db: Driver;
  beforeEach(async () => {
    db = await store.open();
    await db.exec(`CREATE TABLE notes (id text PRIMARY KEY, body text, n integer, x double precision, ok boolean, doc json, raw bytea, big bigint)`);
  });
  afterEach(() => db.close());
  after(() => store.cleanup());

  it("runs every statement in one transaction and answers each its own rows, with or without RETURNING", async () => {
    let ids: Promise<{ id: string }[]> | undefined;
    let update: Promise<unknown[]> | undefined;
    let xids: Promise<{ xid: string }[]>[] = [];
    await db.transaction(async () => {
      xids.push(db.pipeline!<{ xid: string }>("SELECT txid_current()::text AS xid")!);
      ids = db.pipeline!<{ id: string }>("INSERT INTO notes (id, body) VALUES (?, ?), (?, ?) RETURNING id", ["a", "one", "b", "two"]);
      update = db.pipeline!("UPDATE notes SET n = 1 WHERE id IN (?, ?)", ["a", "b"]);
      xids.push(db.pipeline!<{ xid: string }>("SELECT txid_current()::text AS xid")!);
    });
    assert.deepEqual((await ids!).map((row) => row.id), ["a", "b"]);
    assert.deepEqual([...await update!], []);
    const [first, second] = await Promise.all(xids);
    assert.equal(first![0]!.xid, second![0]!.xid, "one transaction");
    assert.equal((await db.query("SELECT id FROM notes WHERE n = 1")).length, 2);
    xids = [];
  });

  it("writes nothing when a statement fails, rejecting with the error its mapError gives", async () => {
    await db.exec("INSERT INTO notes (id) VALUES ('taken')");
    const mine = new ConflictError("the note exists");
    await assert.rejects(
      db.transaction(async () => {
        void db.pipeline!("INSERT INTO notes (id) VALUES (?)", ["fresh"]);
        void db.pipeline!("INSERT INTO notes (id) VALUES (?)", ["taken"], {
          mapError: (error) => (error as { code?: string }).code === "23505" ? mine : error,
        });
        void db.pipeline!("INSERT INTO notes (id) VALUES (?)", ["later"]);
      }),
      (error) => error === mine,
    );
    assert.deepEqual((await db.query<{ id: string }>("SELECT id FROM notes ORDER BY id")).map((row) => row.id), ["taken"]);
  });

  it("rejects with a pipelined statement's mapped error in a transaction opened by an earlier query, writing nothing", async () => {
    await db.exec("INSERT INTO notes (id) VALUES ('taken')");
    const mine = new ConflictError("the note exists");
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.query("SELECT id FROM notes");
        void db.pipeline!("INSERT INTO notes (id) VALUES (?)", ["fresh"]);
        void db.pipeline!("INSERT INTO notes (id) VALUES (?)", ["taken"], {
          mapError: (error) => (error as { code?: string }).code === "23505" ? mine : error,
        });
      }),
      (error) => error === mine,
    );
    assert.deepEqual((await db.query<{ id: string }>("SELECT id FROM notes ORDER BY id")).map((row) => row.id), ["taken"]);
  });

  it("opens the transaction when a pipelined statement is awaited inside it, keeping the order of statements", async () => {
    const seen = await db.transaction(async (tx) => {
      void db.pipeline!("INSERT INTO notes (id, n) VALUES (?, ?)", ["a", 1]);
      const [row] = await db.pipeline!<{ n: number }>("UPDATE notes SET n = n + 1 WHERE id = ? RETURNING n", ["a"])!;
      const [again] = await tx.query<{ n: number }>("SELECT n FROM notes WHERE id = ?", ["a"]);
      void db.pipeline!("UPDATE notes SET n = n + 10 WHERE id = ?", ["a"]);
      return [row!.n, again!.n];
    });
    assert.deepEqual(seen, [2, 2]);
    assert.equal((await db.query<{ n: number }>("SELECT n FROM notes WHERE id = 'a'"))[0]!.n, 12);
  });

  it("rolls back what was queued when the transaction's function throws, sending nothing", async () => {
    await assert.rejects(
      db.transaction(async () => {
        void db.pipeline!("INSERT INTO notes (id) VALUES (?)", ["never"]);
        throw new Error("changed my mind");
      }),
      /changed my mind/,
    );
    assert.equal((await db.query("SELECT id FROM notes")).length, 0);
  });

  it("sends values as literals that read back unchanged", async () => {
    const doc = { quote: "it's", slash: "a\\b", nested: [1, true, null, "ü ✓ 𝄞"], empty: "" };
    const raw = new Uint8Array([0, 1, 127, 128, 255]);
    const body = "line\nbreak 'single' \"double\" \\back\\ $1 ? E'x' $$dollar$$ -- not a comment";
    let rows: Promise<Record<string, unknown>[]> | undefined;
    await db.transaction(async () => {
      void db.pipeline!("INSERT INTO notes (id) VALUES (?)", ["first"]);
      rows = db.pipeline!(
        "INSERT INTO notes (id, body, n, x, ok, doc, raw, big) SELECT ?, ?, ?, ?, ?, ?, ?, ? RETURNING body, n, x, ok, doc, raw, big::text AS big",
        ["v", body, -2147483648, 0.1 + 0.2, false, { toJSON: () => doc } as never, raw, 9007199254740993n],
      );
    });
    const [row] = await rows!;
    assert.equal(row!.body, body);
    assert.equal(row!.n, -2147483648);
    assert.equal(row!.x, 0.1 + 0.2);
    assert.equal(row!.ok, false);
    assert.deepEqual(row!.doc, doc);
    assert.deepEqual(new Uint8Array(row!.raw as Uint8Array), raw);
    assert.equal(row!.big, "9007199254740993");
  });
});

describe("statement literals", () => {
  it("quotes every value as an escape string and leaves quoted text and identifiers alone", () => {
    assert.equal(sqlLiteral(null), "NULL");
    assert.equal(sqlLiteral("it's \\ fine"), "E'it''s \\\\ fine'");
    assert.equal(sqlLiteral(true), "E'true'");
    assert.equal(sqlLiteral(new Uint8Array([1, 171])), "E'\\\\x01ab'");
    assert.equal(
      inlineParameters(`SELECT '?' AS "q?", ? AS v WHERE ? IS NOT NULL`, ["a", 1]),
      `SELECT '?' AS "q?", E'a' AS v WHERE E'1' IS NOT NULL`,
    );
    assert.throws(() => inlineParameters("SELECT ?, ?", ["only one"]), TypeError);
  });
});
