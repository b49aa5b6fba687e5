/** openDatabase: which store each URL opens. */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { openDatabase } from "../../src/db/open.ts";
import { DATABASE_URL } from "../_support/stores.ts";

describe("openDatabase", () => {
  it("opens in-memory SQLite by default and for sqlite::memory:", async () => {
    for (const db of [await openDatabase(), await openDatabase("sqlite::memory:"), await openDatabase("sqlite+aiosqlite:///:memory:")]) {
      assert.equal(db.dialect, "sqlite");
      await db.ping();
      await db.close();
    }
  });

  it("opens a SQLite file by relative-style, absolute and Python Chapkit URLs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "chapkit-open-"));
    try {
      for (const [i, url] of [`sqlite:${dir}/a.db`, `sqlite:///${dir}/b.db`, `sqlite+aiosqlite:///${dir}/c.db`].entries()) {
        const db = await openDatabase(url);
        await db.exec("CREATE TABLE t (x INTEGER)");
        await db.close();
        assert.ok(existsSync(join(dir, `${"abc"[i]}.db`)), url);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("opens a new SQLite file and an existing one in WAL mode with synchronous NORMAL", async () => {
    const dir = mkdtempSync(join(tmpdir(), "chapkit-open-"));
    try {
      for (const state of ["new", "existing"]) {
        const db = await openDatabase(`sqlite:${dir}/wal.db`);
        assert.equal((await db.query("PRAGMA journal_mode"))[0]?.journal_mode, "wal", state);
        assert.equal((await db.query("PRAGMA synchronous"))[0]?.synchronous, 1, state);
        if (state === "new") await db.exec("CREATE TABLE t (x INTEGER)");
        await db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a file that is not a SQLite database, saying so", async () => {
    const dir = mkdtempSync(join(tmpdir(), "chapkit-open-"));
    try {
      writeFileSync(join(dir, "notes.txt"), "x".repeat(4096));
      await assert.rejects(openDatabase(`sqlite:${dir}/notes.txt`), /not a database/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("opens PostgreSQL for postgres:// and postgresql:// URLs", async () => {
    for (const url of [DATABASE_URL, DATABASE_URL.replace(/^postgres:/, "postgresql:")]) {
      const db = await openDatabase(url);
      assert.equal(db.dialect, "postgres");
      await db.ping();
      await db.close();
    }
  });

  it("rejects an unsupported URL, naming the accepted forms", async () => {
    await assert.rejects(openDatabase("mysql://localhost/db"), /Unsupported database URL.*sqlite::memory:/);
  });

  it("rejects a PostgreSQL schema name that is not a plain identifier", async () => {
    await assert.rejects(openDatabase(DATABASE_URL, { postgres: { schema: 'x"; DROP SCHEMA public; --' } }), TypeError);
  });

  it("refuses a closed store's statements with UnavailableError", async () => {
    const db = await openDatabase("sqlite::memory:");
    await db.close();
    await assert.rejects(db.query("SELECT 1"), (e: Error) => e.name === "UnavailableError");
  });
});
