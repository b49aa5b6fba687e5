/** openDatabase: which store each URL opens. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
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
