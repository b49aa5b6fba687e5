/**
 * SQLite faults a service meets on a real machine, each answered with a
 * clear problem and leaving the file intact (`PRAGMA integrity_check`): a
 * full disk (a size-limited tmpfs), a read-only file (immutable, so that even
 * root cannot write it), and a write lock another process holds past the busy
 * timeout.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { Type } from "@sinclair/typebox";
import type { Driver } from "../../src/db/driver.ts";
import { openDatabase } from "../../src/db/open.ts";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import { RUNTIME } from "../_support/stores.ts";
import { call } from "../http/_notes.ts";

const HOLDER = fileURLToPath(new URL("./_fixtures/sqlite-lock-holder.ts", import.meta.url).href);
const ROOT = fileURLToPath(new URL("../..", import.meta.url).href);
const Settings = Type.Object({ text: Type.String() }, { title: "FaultConfig" });

/** A service with configs on `db` (left open by the service). */
function serviceOn(db: Driver): Promise<ServiceApp> {
  return new ServiceBuilder({ info: { display_name: "SQLite faults" } }).withDatabase(db).withHealth().withConfig(Settings).build();
}

/** `PRAGMA integrity_check` of the file, from a fresh connection. */
async function integrity(path: string): Promise<string> {
  const db = await openDatabase(`sqlite:${path}`);
  try {
    const rows = await db.query<{ integrity_check: string }>("PRAGMA integrity_check");
    return rows.map((row) => row.integrity_check).join("; ");
  } finally {
    await db.close();
  }
}

/** Mounts a tmpfs of `size` on a fresh directory; null when this process may not mount (not root). */
function smallDisk(size: string): string | null {
  const dir = mkdtempSync(join(tmpdir(), "chapkit-full-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir], { stdio: "ignore" });
    return dir;
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
}

describe("SQLite on a full disk", () => {
  const dir = smallDisk("320k");
  const path = dir ? join(dir, "data.db") : "";
  let db: Driver;
  let app: ServiceApp;

  before(async () => {
    if (!dir) return;
    db = await openDatabase(`sqlite:${path}`);
    app = await serviceOn(db);
  });
  after(async () => {
    if (!dir) return;
    await app.chapkit.close();
    await db.close();
    // Lazy: the runtime may release the file a moment after close.
    execFileSync("umount", ["-l", dir]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers 507 insufficient-storage, keeps every acknowledged write, and leaves the file intact", { skip: dir ? false : "needs root to mount a small tmpfs" }, async () => {
    const acknowledged: string[] = [];
    let full: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < 400 && !full; i++) {
      const res = await call(app, "POST", "/api/v1/config", { name: `c${i}`, data: { text: "x".repeat(4000) } });
      if (res.status === 201) acknowledged.push(res.body.id);
      else full = res;
    }
    assert.ok(full, "the disk never filled");
    assert.equal(full.status, 507);
    assert.equal(full.headers.get("content-type"), "application/problem+json");
    assert.equal(full.body.type, "urn:chapkit:error:insufficient-storage");
    assert.match(full.body.detail, /storage is full/);
    assert.ok(acknowledged.length > 0);
    const list = await call(app, "GET", "/api/v1/config");
    assert.equal(list.status, 200);
    assert.deepEqual(new Set(list.body.map((c: { id: string }) => c.id)), new Set(acknowledged));
    assert.equal((await call(app, "GET", "/api/v1/health")).status, 200);
    assert.equal(await integrity(path), "ok");
  });
});

describe("SQLite on a read-only file", () => {
  const dir = mkdtempSync(join(tmpdir(), "chapkit-readonly-"));
  const path = join(dir, "data.db");
  let immutable = false;
  let db: Driver;
  let app: ServiceApp;
  let existing = "";

  before(async () => {
    const seed = await openDatabase(`sqlite:${path}`);
    const seeded = await serviceOn(seed);
    existing = (await call(seeded, "POST", "/api/v1/config", { name: "kept", data: { text: "before" } })).body.id;
    await seeded.chapkit.close();
    await seed.close();
    try {
      // chmod does not stop root; an immutable file stops everyone.
      execFileSync("chattr", ["+i", path], { stdio: "ignore" });
      immutable = true;
    } catch {
      execFileSync("chmod", ["0444", path]);
    }
    db = await openDatabase(`sqlite:${path}`);
    app = await serviceOn(db);
  });
  after(async () => {
    await app.chapkit.close();
    await db.close();
    if (immutable) execFileSync("chattr", ["-i", path]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers writes with a 503 read-only problem and still serves reads", async (t) => {
    const root = (process as { getuid?: () => number }).getuid?.() === 0;
    if (!immutable && root) return t.skip("root writes a chmod 0444 file and chattr +i is not available here");
    const write = await call(app, "POST", "/api/v1/config", { name: "new", data: { text: "after" } });
    assert.equal(write.status, 503);
    assert.equal(write.body.type, "urn:chapkit:error:unavailable");
    assert.match(write.body.detail, /read-only/);
    const update = await call(app, "PUT", `/api/v1/config/${existing}`, { name: "kept", data: { text: "changed" } });
    assert.equal(update.status, 503);
    const read = await call(app, "GET", `/api/v1/config/${existing}`);
    assert.equal(read.status, 200);
    assert.equal(read.body.data.text, "before");
    assert.equal(await integrity(path), "ok");
  });
});

describe("SQLite locked by another process past the busy timeout", () => {
  const dir = mkdtempSync(join(tmpdir(), "chapkit-locked-"));
  const path = join(dir, "data.db");
  let db: Driver;
  let app: ServiceApp;

  before(async () => {
    mkdirSync(dir, { recursive: true });
    db = await openDatabase(`sqlite:${path}`, { sqlite: { busyTimeoutMs: 150 } });
    app = await serviceOn(db);
  });
  after(async () => {
    await app.chapkit.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers 503 with Retry-After while the lock is held, then writes again once it is released", async () => {
    const before = await call(app, "POST", "/api/v1/config", { name: "first", data: { text: "a" } });
    assert.equal(before.status, 201);
    const command = RUNTIME === "deno" ? ["run", "-A", HOLDER, path] : [HOLDER, path];
    const holder = spawn(process.execPath, command, { cwd: ROOT, stdio: ["pipe", "pipe", "inherit"] });
    const exited = new Promise<number | null>((resolve) => holder.on("close", resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout!.on("data", (chunk: Uint8Array) => {
          if (new TextDecoder().decode(chunk).includes("locked")) resolve();
        });
        holder.on("error", reject);
        holder.on("close", () => reject(new Error("the lock holder exited early")));
      });
      const blocked = await call(app, "POST", "/api/v1/config", { name: "second", data: { text: "b" } });
      assert.equal(blocked.status, 503);
      assert.equal(blocked.body.type, "urn:chapkit:error:unavailable");
      assert.match(blocked.body.detail, /busy/);
      assert.equal(blocked.headers.get("retry-after"), "1");
      assert.equal((await call(app, "GET", "/api/v1/config")).status, 200, "reads go on while a writer holds the lock");
    } finally {
      holder.stdin!.end();
      assert.equal(await exited, 0);
    }
    const after = await call(app, "POST", "/api/v1/config", { name: "second", data: { text: "b" } });
    assert.equal(after.status, 201);
    const names = (await call(app, "GET", "/api/v1/config")).body.map((c: { name: string }) => c.name).sort();
    assert.deepEqual(names, ["first", "second"]);
    assert.equal(await integrity(path), "ok");
  });
});
