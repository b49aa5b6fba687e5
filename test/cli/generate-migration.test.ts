import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { splitStatements } from "../../src/db/migrate.ts";
import { openDatabase } from "../../src/db/open.ts";
import { postgresStore, sqliteFileStore } from "../_support/stores.ts";
import { ROOT, runCaptured } from "./_cli.ts";

/** A project whose `shop` module declares `tables` as its one migration. */
const project = (tables: string): string => `
import { ServiceBuilder } from "${ROOT}mod.ts";
export function createService(databaseUrl = "sqlite::memory:") {
  return new ServiceBuilder({ info: { display_name: "migration test" }, databaseUrl })
    .module({ name: "shop", migrations: [{ module: "shop", version: 1, name: "shop", up: ${JSON.stringify(tables)} }] });
}
`;

const OLD = "CREATE TABLE widgets (id TEXT PRIMARY KEY, name TEXT NOT NULL, legacy TEXT);\nCREATE TABLE old_stuff (id TEXT PRIMARY KEY);";
const NEW = [
  "CREATE TABLE widgets (id TEXT PRIMARY KEY, name TEXT NOT NULL, color TEXT DEFAULT 'red');",
  "CREATE INDEX widgets_name_idx ON widgets (name);",
  "CREATE TABLE orders (id TEXT PRIMARY KEY, widget_id TEXT NOT NULL REFERENCES widgets(id), qty INTEGER NOT NULL DEFAULT 1);",
].join("\n");

/** Runs the live statements of a migration file (commented-out ones stay out). */
async function apply(url: string, file: string): Promise<void> {
  const db = await openDatabase(url);
  try {
    const live = readFileSync(file, "utf8").split("\n").filter((line) => !line.startsWith("--")).join("\n");
    for (const statement of splitStatements(live)) await db.exec(statement);
  } finally {
    await db.close();
  }
}

describe("chapkit generate migration", () => {
  mkdirSync(join(ROOT, ".tmp"), { recursive: true });
  const dir = mkdtempSync(join(ROOT, ".tmp", "cli-migration-"));
  writeFileSync(join(dir, "old.ts"), project(OLD));
  writeFileSync(join(dir, "main.ts"), project(NEW));
  const stores = [sqliteFileStore(), postgresStore()];
  after(async () => {
    for (const store of stores) await store.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const store of stores) {
    it(`${store.kind}: previews, writes and applies the SQL from the live schema to the declared one`, async () => {
      await (await store.open()).close();
      const url = store.url();
      const gen = (...args: string[]) => runCaptured(["generate", "migration", ...args, "--database-url", url], dir);
      const old = await runCaptured(["db", "migrate", "--entry", "old.ts", "--database-url", url], dir);
      assert.equal(old.code, 0, old.stderr);

      const preview = await gen("grow_shop", "--preview");
      assert.equal(preview.code, 0, preview.stderr);
      assert.match(preview.stdout, /^CREATE TABLE "?orders"? \(/m);
      assert.match(preview.stdout, /^ALTER TABLE "widgets" ADD COLUMN "color" text DEFAULT 'red'::text;$|^ALTER TABLE "widgets" ADD COLUMN "color" TEXT DEFAULT 'red';$/m);
      assert.match(preview.stdout, /^CREATE INDEX widgets_name_idx ON "?widgets"? .*\(name\);$/m);
      assert.match(preview.stdout, /-- DESTRUCTIVE.*\n-- ALTER TABLE "widgets" DROP COLUMN "legacy";/);
      assert.match(preview.stdout, /-- DESTRUCTIVE.*\n-- DROP TABLE "old_stuff";/);
      assert.match(preview.stderr, /5 statement\(s\), 2 destructive \(commented out\)/);
      assert.equal(existsSync(join(dir, "migrations")), false, "--preview writes nothing");

      const wrote = await gen("grow_shop", "--dir", `m-${store.kind}`);
      assert.equal(wrote.code, 0, wrote.stderr);
      const [file] = readdirSync(join(dir, `m-${store.kind}`));
      assert.match(file!, /^\d{14}_grow_shop\.sql$/);
      await apply(url, join(dir, `m-${store.kind}`, file!));

      // The additive part is applied; only the commented-out drops remain.
      const rest = await gen("drop_old", "--preview");
      assert.match(rest.stderr, /2 statement\(s\), 2 destructive/);
      assert.doesNotMatch(rest.stdout, /CREATE/);

      const drops = await gen("drop_old", "--dir", `d-${store.kind}`, "--allow-destructive");
      assert.equal(drops.code, 0, drops.stderr);
      const [dropFile] = readdirSync(join(dir, `d-${store.kind}`));
      assert.match(readFileSync(join(dir, `d-${store.kind}`, dropFile!), "utf8"), /^DROP TABLE "old_stuff";$/m);
      await apply(url, join(dir, `d-${store.kind}`, dropFile!));
      const done = await gen("nothing", "--preview");
      assert.match(done.stdout, /nothing to do/);
    });
  }

  it("refuses a bad name and a missing database URL with a clear message", async () => {
    const bad = await runCaptured(["generate", "migration", "9lives", "--database-url", "sqlite::memory:"], dir);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /must start with a letter/);
    const env = { ...process.env, DATABASE_URL: undefined };
    const none = await runCaptured(["generate", "migration", "x"], dir, env);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /set DATABASE_URL/);
  });
});
