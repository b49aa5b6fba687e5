/**
 * `chapkit backup` and `chapkit restore` as real subprocesses: a service's
 * SQLite store goes to PostgreSQL and back through two archives with every
 * row equal and every payload byte-identical; a store that holds rows, a
 * damaged archive and another schema version are refused and change nothing.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Driver } from "../../src/db/driver.ts";
import { openDatabase } from "../../src/db/open.ts";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { DatabaseBlobStore } from "../../src/storage/database-blob-store.ts";
import { backupTables } from "../../src/storage/backup/_tables.ts";
import { postgresStore } from "../_support/stores.ts";
import { ROOT, runBin, runCaptured } from "./_cli.ts";

const MAIN = `
import { Type } from "@sinclair/typebox";
import { defineEntity, ServiceBuilder } from "${ROOT}mod.ts";

export const Note = defineEntity({
  table: "notes",
  fields: {
    title: Type.String(),
    done: Type.Boolean(),
    score: Type.Number(),
    votes: Type.Integer(),
    meta: Type.Object({ tags: Type.Array(Type.String()), deep: Type.Object({ ok: Type.Boolean() }) }),
    due: Type.Optional(Type.String({ format: "date-time" })),
  },
  searchable: ["title"],
});

export function createService(databaseUrl = "sqlite::memory:") {
  return new ServiceBuilder({ info: { display_name: "backup test" }, databaseUrl })
    .withConfig(Type.Object({}, { additionalProperties: true }))
    .withArtifacts({ hierarchy: { name: "h", level_labels: { 0: "root", 1: "child", 2: "leaf" } }, enableConfigLinking: true })
    .withEntity(Note)
    .withTasks({ shell: { commands: ["echo backed-up"] } })
    .withJobs()
    .withSettings({ env: {} });
}
`;

/** The same service plus one more module: a schema version the archives were not written with. */
const NEWER = `
import { createService as base } from "./main.ts";
export function createService(databaseUrl) {
  return base(databaseUrl).module({ name: "extra", migrations: [{ module: "extra", version: 1, name: "extra", up: "CREATE TABLE extra (id TEXT PRIMARY KEY)" }] });
}
`;

// Every byte value, then bytes that are not UTF-8, and a payload of several MiB (more than one blob chunk and archive piece).
const SMALL = new Uint8Array([0, 1, 2, 0xc3, 0x28, 0xff, 0xfe, 0x80, 10, 13, ...Array.from({ length: 256 }, (_, i) => i)]);
const LARGE = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i * 7919 + (i >> 11)) & 0xff);

async function call(app: ServiceApp, method: string, path: string, body?: unknown, type = "application/json"): Promise<Record<string, unknown>> {
  const init: RequestInit = { method, headers: { "content-type": type } };
  if (body !== undefined) init.body = body instanceof Uint8Array ? (body as Uint8Array<ArrayBuffer>) : JSON.stringify(body);
  const response = await app.handle(new Request(`http://localhost${path}`, init));
  const text = await response.text();
  assert.ok(response.status < 300, `${method} ${path}: ${response.status} ${text}`);
  return (text ? JSON.parse(text) : {}) as Record<string, unknown>;
}

/** Every row of every table a backup copies, in key order, plus every blob's bytes. */
async function contents(db: Driver): Promise<{ tables: Record<string, unknown[]>; blobs: Record<string, Buffer> }> {
  const tables: Record<string, unknown[]> = {};
  for (const table of await backupTables(db)) {
    const order = table.primaryKey.length > 0 ? ` ORDER BY ${table.primaryKey.map((c) => `"${c}"`).join(", ")}` : "";
    tables[table.name] = await db.query(`SELECT ${table.columns.map((c) => `"${c.name}"`).join(", ")} FROM "${table.name}"${order}`);
  }
  const store = new DatabaseBlobStore(db);
  const blobs: Record<string, Buffer> = {};
  for await (const info of store.list()) blobs[info.key] = Buffer.from((await store.get(info.key))!);
  return { tables, blobs };
}

async function rowCounts(url: string): Promise<Record<string, number>> {
  const db = await openDatabase(url);
  try {
    const counts: Record<string, number> = {};
    for (const table of await backupTables(db)) {
      counts[table.name] = Number((await db.query<{ n: number }>(`SELECT count(*) AS n FROM "${table.name}"`))[0]!.n);
    }
    return counts;
  } finally {
    await db.close();
  }
}

describe("chapkit backup and chapkit restore", () => {
  mkdirSync(join(ROOT, ".tmp"), { recursive: true });
  const dir = mkdtempSync(join(ROOT, ".tmp", "cli-backup-"));
  writeFileSync(join(dir, "main.ts"), MAIN);
  writeFileSync(join(dir, "newer.ts"), NEWER);
  const pg = postgresStore();
  const source = `sqlite:${join(dir, "source.db")}`;
  const first = join(dir, "from-sqlite.ndjson.gz");
  const second = join(dir, "from-postgres.ndjson.gz");
  let artifactIds: { small: string; large: string };

  before(async () => {
    const { createService } = await import(join(dir, "main.ts")) as { createService(url: string): { build(): Promise<ServiceApp> } };
    const app = await createService(source).build();
    try {
      const config = await call(app, "POST", "/api/v1/config", { name: "weather", data: { min_samples: 3, label: "ünïcödé ✓" } });
      const root = await call(app, "POST", "/api/v1/artifacts", { data: { kind: "root", nested: { a: [1, 2, null] } } });
      const small = await call(app, "POST", `/api/v1/artifacts/$upload?parent_id=${root.id}`, SMALL, "application/octet-stream");
      const large = await call(app, "POST", `/api/v1/artifacts/$upload?parent_id=${root.id}`, LARGE, "application/x-model");
      await call(app, "POST", `/api/v1/config/${config.id}/$link-artifact`, { artifact_id: root.id });
      await call(app, "POST", "/api/v1/notes", { title: "first", done: true, score: 0.125, votes: 3, meta: { tags: ["x"], deep: { ok: false } }, due: "2026-01-02T03:04:05.678Z" });
      await call(app, "POST", "/api/v1/notes", { title: "second", done: false, score: -1e300, votes: 0, meta: { tags: [], deep: { ok: true } } });
      const task = await call(app, "POST", "/api/v1/tasks", { command: "echo backed-up" });
      const { job_id: jobId } = await call(app, "POST", `/api/v1/tasks/${task.id}/$execute`);
      for (let i = 0; i < 100; i++) {
        const job = await call(app, "GET", `/api/v1/jobs/${jobId}`);
        if (job.status !== "pending" && job.status !== "running") break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      artifactIds = { small: String(small.id), large: String(large.id) };
    } finally {
      await app.chapkit.close();
    }
  });
  after(async () => {
    await pg.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("moves a SQLite store to PostgreSQL, whose service serves every payload byte for byte", async () => {
    const backup = await runBin(["backup", "--out", first, "--database-url", source], { cwd: dir });
    assert.equal(backup.code, 0, backup.stderr);
    assert.equal(backup.stdout.trim(), first);
    assert.match(backup.stderr, /backed up \d+ row\(s\) of \d+ table\(s\) and 2 blob\(s\) .* from sqlite/);

    await (await pg.open()).close();
    const restore = await runBin(["restore", first, "--database-url", pg.url()], { cwd: dir });
    assert.equal(restore.code, 0, restore.stderr);
    assert.match(restore.stderr, /restored \d+ row\(s\) .* and 2 blob\(s\)/);

    // Backed up before a service starts on it (a started service updates its schedules); in-process from here.
    const back = await runCaptured(["backup", "--out", second, "--database-url", pg.url()], dir);
    assert.equal(back.code, 0, back.stderr);
    assert.match(back.stderr, /from postgres/);

    const { createService } = await import(join(dir, "main.ts")) as { createService(url: string): { build(): Promise<ServiceApp> } };
    const app = await createService(pg.url()).build();
    try {
      for (const [id, bytes] of [[artifactIds.small, SMALL], [artifactIds.large, LARGE]] as const) {
        const response = await app.handle(new Request(`http://localhost/api/v1/artifacts/${id}/$download`));
        assert.equal(response.status, 200);
        assert.ok(Buffer.from(await response.arrayBuffer()).equals(Buffer.from(bytes)), `payload of ${id}`);
      }
      const notes = await app.handle(new Request("http://localhost/api/v1/notes?q=second"));
      assert.equal(((await notes.json()) as unknown[]).length, 1, "the search index is rebuilt on the target");
    } finally {
      await app.chapkit.close();
    }
  });

  it("moves that PostgreSQL store back to a new SQLite store with every row and blob equal to the original's", async () => {
    const final = `sqlite:${join(dir, "final.db")}`;
    const again = await runCaptured(["restore", second, "--database-url", final], dir);
    assert.equal(again.code, 0, again.stderr);

    const before = await openDatabase(source);
    const afterwards = await openDatabase(final);
    try {
      const [a, b] = [await contents(before), await contents(afterwards)];
      assert.ok(Object.keys(a.tables).length > 5);
      assert.ok(a.tables.notes!.length === 2 && a.tables.artifacts!.length >= 3 && a.tables.jobs!.length === 1 && a.tables.tasks!.length === 1);
      assert.deepEqual(b.tables, a.tables);
      assert.deepEqual(Object.keys(b.blobs), Object.keys(a.blobs));
      for (const key of Object.keys(a.blobs)) assert.ok(b.blobs[key]!.equals(a.blobs[key]!), key);
    } finally {
      await before.close();
      await afterwards.close();
    }
  });

  it("refuses a target that holds rows, and leaves it as it was", async () => {
    const counts = await rowCounts(source);
    const run = await runCaptured(["restore", first, "--database-url", source], dir);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /The target store is not empty \(.*\): restore only into a new, empty store/);
    assert.deepEqual(await rowCounts(source), counts);
  });

  it("refuses a truncated archive before touching the target", async () => {
    const bytes = readFileSync(first);
    const cut = join(dir, "cut.ndjson.gz");
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const target = join(dir, "cut-target.db");
    const run = await runCaptured(["restore", cut, "--database-url", `sqlite:${target}`], dir);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /The backup archive is corrupt or truncated/);
    const db = await openDatabase(`sqlite:${target}`);
    try {
      assert.deepEqual(await db.query(`SELECT name FROM sqlite_master`), [], "not even migrated");
    } finally {
      await db.close();
    }
  });

  it("refuses an archive whose blob bytes do not match their SHA-256", async () => {
    const { gunzipSync, gzipSync } = await import("node:zlib");
    const lines = gunzipSync(readFileSync(first)).toString("utf8").split("\n");
    const at = lines.findIndex((line) => line.startsWith(`{"data":`));
    const data = JSON.parse(lines[at]!) as { data: string };
    lines[at] = JSON.stringify({ data: `${data.data[0] === "A" ? "B" : "A"}${data.data.slice(1)}` });
    const tampered = join(dir, "tampered.ndjson.gz");
    writeFileSync(tampered, gzipSync(lines.join("\n")));
    const run = await runCaptured(["restore", tampered, "--database-url", `sqlite:${join(dir, "tampered.db")}`], dir);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /blob sha256\/.* does not match its SHA-256/);
  });

  it("refuses to restore into a store of another schema version", async () => {
    const target = `sqlite:${join(dir, "newer.db")}`;
    const run = await runCaptured(["restore", first, "--entry", "newer.ts", "--database-url", target], dir);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /another schema version: the target has migrations the archive's store lacked \(extra#1\)/);
    assert.deepEqual(await rowCounts(target).then((counts) => Object.values(counts).filter((n) => n > 0)), []);
  });
});
