/**
 * Several writers on one SQLite file (connections in this process, and real
 * processes of this runtime) never see SQLITE_BUSY and lose no row.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import type { Driver } from "../../src/db/driver.ts";
import { UnavailableError } from "../../src/core/errors.ts";
import { openDatabase } from "../../src/db/open.ts";
import { createRepository } from "../../src/db/repository.ts";
import { RUNTIME, sqliteFileStore } from "../_support/stores.ts";
import { type Item, item, items, openItems } from "./_items.ts";

const WRITER = fileURLToPath(new URL("./_fixtures/sqlite-writer.ts", import.meta.url).href);
const ROOT = fileURLToPath(new URL("../..", import.meta.url).href);

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runWriter(args: string[]): Promise<Exit> {
  const command = RUNTIME === "deno" ? ["run", "-A", WRITER, ...args] : [WRITER, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, command, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Uint8Array) => (stdout += new TextDecoder().decode(chunk)));
    child.stderr.on("data", (chunk: Uint8Array) => (stderr += new TextDecoder().decode(chunk)));
    child.on("error", reject);
    child.on("close", (code: number | null) => resolve({ code, stdout, stderr }));
  });
}

describe("concurrent writers on one SQLite file", () => {
  const store = sqliteFileStore();
  let url = "";
  let db: Driver;

  before(async () => {
    const opened = await openItems(store);
    db = opened.db;
    url = store.url();
  });
  after(async () => {
    await db.close();
    await store.cleanup();
  });

  it("loses no row when several connections of one process write at once", async () => {
    const connections = await Promise.all(Array.from({ length: 4 }, () => openDatabase(url)));
    try {
      await Promise.all(connections.map(async (connection, c) => {
        const repo = createRepository<Item>(connection, items);
        for (let i = 0; i < 50; i++) {
          if (i % 2 === 0) await repo.insert(item(`conn${c}-${i}`));
          else await repo.transaction(async (tx) => void await tx.insert(item(`conn${c}-${i}`)));
        }
      }));
    } finally {
      await Promise.all(connections.map((connection) => connection.close()));
    }
    const repo = createRepository<Item>(db, items);
    assert.equal(await repo.count({ filter: { kind: "compare", field: "name", op: "startswith", value: "conn" } }), 200);
  });

  it("loses no row and leaks no SQLITE_BUSY when several processes write at once", async () => {
    const writers = 4;
    const rows = 150;
    const startAt = String(Date.now() + 1500);
    const exits = await Promise.all(
      Array.from({ length: writers }, (_, w) => runWriter([url, `proc${w}`, String(rows), startAt])),
    );
    for (const [w, exit] of exits.entries()) {
      assert.equal(exit.code, 0, `writer ${w} failed:\n${exit.stderr}`);
      assert.doesNotMatch(exit.stderr, /SQLITE_BUSY|database is locked/i);
      assert.match(exit.stdout, new RegExp(`done proc${w} ${rows}`));
    }
    const repo = createRepository<Item>(db, items);
    for (let w = 0; w < writers; w++) {
      const mine = await repo.findMany({
        filter: { kind: "compare", field: "name", op: "startswith", value: `proc${w}-` },
        sort: [{ field: "rank", direction: "asc" }],
      });
      assert.deepEqual(mine.map((row) => row.rank), Array.from({ length: rows }, (_, i) => i));
    }
  });

  it("fails with UnavailableError, not SQLITE_BUSY, when the lock is held past the busy timeout", async () => {
    const holder = await openDatabase(url);
    const waiter = await openDatabase(url, { sqlite: { busyTimeoutMs: 50 } });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    try {
      let locked!: () => void;
      const lockTaken = new Promise<void>((resolve) => (locked = resolve));
      const holding = holder.transaction(async (tx) => {
        await tx.exec("INSERT INTO items (id, created_at, updated_at, name, active) VALUES ('H', 'x', 'x', 'held', 0)");
        locked();
        await held;
      });
      await lockTaken;
      const error = await createRepository<Item>(waiter, items).insert(item("waiting")).catch((e: unknown) => e);
      assert.ok(error instanceof UnavailableError, String(error));
      assert.match(error.message, /busy/);
      release();
      await holding;
      assert.equal((await createRepository<Item>(waiter, items).insert(item("after"))).name, "after");
    } finally {
      release();
      await holder.close();
      await waiter.close();
    }
  });
});
