import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Type } from "@sinclair/typebox";
import { isDestructive } from "../../src/cli/commands/db.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import { defineEntity } from "../../src/core/entity-definition.ts";
import { explainStatement } from "../../src/db/instrumented-driver.ts";
import { testClient } from "chapkit/testing";
import { postgresStore } from "../_support/stores.ts";
import { ROOT, runCaptured } from "./_cli.ts";

/** A project whose service has configs, artifacts, an entity and a module with a destructive second migration. */
const MAIN = `
import { Type } from "@sinclair/typebox";
import { defineEntity, ServiceBuilder } from "${ROOT}mod.ts";

export const Note = defineEntity({ table: "notes", fields: { title: Type.String() } });

export function createService(databaseUrl = "sqlite::memory:") {
  return new ServiceBuilder({ info: { display_name: "db test" }, databaseUrl })
    .withConfig(Type.Object({}, { additionalProperties: true }))
    .withArtifacts({ hierarchy: { name: "h", level_labels: { 0: "root" } }, enableConfigLinking: true })
    .withEntity(Note)
    .module({
      name: "ledger",
      migrations: [
        { module: "ledger", version: 1, name: "create ledger", up: "CREATE TABLE ledger (id TEXT PRIMARY KEY, note_id TEXT REFERENCES notes(id), memo TEXT)", down: "DROP TABLE ledger" },
        { module: "ledger", version: 2, name: "drop memo", up: "ALTER TABLE ledger DROP COLUMN memo", destructive: true },
      ],
    });
}
`;

describe("chapkit db and chapkit schema", () => {
  // Inside the repository, so the project's bare imports resolve through its manifests.
  mkdirSync(join(ROOT, ".tmp"), { recursive: true });
  const dir = mkdtempSync(join(ROOT, ".tmp", "cli-db-"));
  writeFileSync(join(dir, "main.ts"), MAIN);
  const pg = postgresStore();
  after(async () => {
    await pg.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  const db = (url: string, ...args: string[]) => runCaptured(["db", ...args, "--database-url", url], dir);

  it("status lists every migration as pending, migrate applies them once, status then shows them applied", async () => {
    const url = `sqlite:${join(dir, "a.db")}`;
    const before = await db(url, "status");
    assert.equal(before.code, 0, before.stderr);
    assert.match(before.stdout, /pending\s+config#1\s+create configs/);
    assert.match(before.stdout, /pending\s+ledger#2\s+drop memo/);
    assert.match(before.stderr, /0 applied, \d+ pending/);
    const first = await db(url, "migrate");
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /applied entity:notes#1/);
    assert.match(first.stdout, /applied ledger#2/);
    const second = await db(url, "migrate");
    assert.match(second.stdout, /nothing to apply/);
    const afterwards = await db(url, "status");
    assert.doesNotMatch(afterwards.stdout, /pending/);
  });

  it("preview prints the pending SQL and marks the destructive statement", async () => {
    const url = `sqlite:${join(dir, "b.db")}`;
    const run = await db(url, "preview");
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /-- ledger#1: create ledger\nCREATE TABLE ledger/);
    assert.match(run.stdout, /-- DESTRUCTIVE: drops data \(.*\)\nALTER TABLE ledger DROP COLUMN memo;/);
    assert.match(run.stderr, /1 destructive statement/);
  });

  it("rollback reverts the newest migration; one without down SQL is refused and nothing changes", async () => {
    const url = `sqlite:${join(dir, "c.db")}`;
    await db(url, "migrate");
    const refused = await db(url, "rollback");
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /ledger#2 cannot be reverted: it has no down SQL/);
    assert.doesNotMatch((await db(url, "status")).stdout, /pending/);
  });

  it("rollback N reverts the last N in reverse order of application", async () => {
    const url = `sqlite:${join(dir, "d.db")}`;
    writeFileSync(join(dir, "two.ts"), MAIN.replace(/\n\s*\{ module: "ledger", version: 2[^\n]*/, ""));
    await runCaptured(["db", "migrate", "--entry", "two.ts", "--database-url", url], dir);
    const run = await runCaptured(["db", "rollback", "2", "--entry", "two.ts", "--database-url", url], dir);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.stdout.trim().split("\n"), ["reverted ledger#1", "reverted entity:notes#2"]);
  });

  it("runs against PostgreSQL (its own schema)", async () => {
    await (await pg.open()).close();
    const url = pg.url();
    const applied = await db(url, "migrate");
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /applied ledger#2/);
    const status = await db(url, "status");
    assert.doesNotMatch(status.stdout, /pending/);
    const live = await runCaptured(["schema", "--database-url", url], dir);
    assert.match(live.stdout, /notes \|\|--o\{ ledger : "note_id"/);
  });

  it("needs DATABASE_URL, and names a missing entry module (exit 2)", async () => {
    const noUrl = await runCaptured(["db", "status"], dir, { ...process.env, DATABASE_URL: undefined });
    assert.equal(noUrl.code, 2);
    assert.match(noUrl.stderr, /set DATABASE_URL/);
    const noEntry = await runCaptured(["db", "status", "--entry", "nope.ts", "--database-url", "sqlite::memory:"], dir);
    assert.equal(noEntry.code, 2);
    assert.match(noEntry.stderr, /nope\.ts does not exist/);
  });

  it("schema draws the declared tables as Mermaid (keys, one edge per foreign key) and as SVG", async () => {
    const mermaid = await runCaptured(["schema"], dir);
    assert.equal(mermaid.code, 0, mermaid.stderr);
    assert.match(mermaid.stdout, /^erDiagram\n/);
    assert.match(mermaid.stdout, / {2}ledger \{\n {4}TEXT id PK\n {4}TEXT note_id FK\n/);
    assert.match(mermaid.stdout, /configs \|\|--o\{ config_artifacts : "config_id"/);
    const svg = await runCaptured(["schema", "--format", "svg"], dir);
    assert.match(svg.stdout, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    for (const table of ["configs", "artifacts", "notes", "ledger"]) assert.match(svg.stdout, new RegExp(`>${table}</text>`));
  });

  it("marks drops, truncates, deletes and type changes as destructive, not additions", () => {
    assert.ok(isDestructive("DROP TABLE notes"));
    assert.ok(isDestructive("ALTER TABLE notes DROP COLUMN title"));
    assert.ok(isDestructive('ALTER TABLE "notes" ALTER COLUMN stars TYPE BIGINT'));
    assert.ok(isDestructive("DELETE FROM notes"));
    assert.ok(!isDestructive("ALTER TABLE notes ADD COLUMN stars INTEGER"));
    assert.ok(!isDestructive("DROP INDEX ix_notes_title"));
  });
});

describe("GET /api/v1/system/schema.svg", () => {
  const build = (schemaDiagram?: boolean) =>
    testClient(
      new ServiceBuilder({ info: { display_name: "svg" }, databaseUrl: "sqlite::memory:" })
        .withSystem(schemaDiagram === undefined ? {} : { schemaDiagram })
        .withConfig(Type.Object({})),
    );

  it("serves an SVG diagram of the live tables when enabled", async () => {
    await using client = await build(true);
    const response = await client.get("/api/v1/system/schema.svg");
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^image\/svg\+xml/);
    assert.match(response.text, />configs<\/text>/);
  });

  it("is not served by default", async () => {
    await using client = await build();
    assert.equal((await client.get("/api/v1/system/schema.svg")).status, 404);
  });
});

describe("chapkit db advise", () => {
  // PostgreSQL: its plans are read on another connection while the service runs every statement as slow.
  const pg = postgresStore();
  after(() => pg.cleanup());

  it("prints the CREATE INDEX for a column slow list queries filter on, and --apply makes the plan use it", async () => {
    const db = await pg.open();
    const url = pg.url();
    const Reading = defineEntity({ table: "readings", fields: { site: Type.String(), value: Type.Number() } });
    const running = await new ServiceBuilder({ info: { display_name: "advise" }, databaseUrl: url })
      .withSettings({ env: { LOG_LEVEL: "error" } })
      .withSystem()
      .withMonitoring({ slowQueryMs: 0.000_001 })
      .withEntity(Reading)
      .listen(0, { hostname: "127.0.0.1", handleSignals: false });
    try {
      await db.exec(`INSERT INTO readings (id, site, value, created_at, updated_at)
        SELECT 'r' || i, 's' || (i % 400), i, now(), now() FROM generate_series(1, 4000) AS i`);
      await db.exec("ANALYZE readings");
      for (let i = 0; i < 3; i++) assert.equal((await fetch(`${running.url}/api/v1/readings?site=s7`)).status, 200);
      const sql = `SELECT "id" FROM "readings" WHERE "site" = ?`;
      assert.doesNotMatch((await explainStatement(db, sql, ["s7"])).join("\n"), /ix_readings_site/);

      const printed = await runCaptured(["db", "advise", "--url", running.url, "--min-seen", "3"]);
      assert.equal(printed.code, 0, printed.stderr);
      assert.match(printed.stdout, /-- readings\.site: filter in \d+ slow statement\(s\)\nCREATE INDEX "ix_readings_site" ON "readings" \("site"\);/);
      const applied = await runCaptured(["db", "advise", "--url", running.url, "--apply", "--database-url", url]);
      assert.equal(applied.code, 0, applied.stderr);
      assert.match(applied.stderr, /created CREATE INDEX "ix_readings_site"/);
      assert.match((await explainStatement(db, sql, ["s7"])).join("\n"), /ix_readings_site/);
      const json = await runCaptured(["db", "advise", "--url", running.url, "--json"]);
      assert.deepEqual((JSON.parse(json.stdout) as { column: string }[]).filter((item) => item.column === "site"), [], "nothing left to advise on site");
    } finally {
      await running.stop();
      await db.close();
    }
  });

  it("refuses a bad --min-seen and --apply without a database (exit 2)", async () => {
    const bad = await runCaptured(["db", "advise", "--url", "http://127.0.0.1:9", "--min-seen", "0"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--min-seen must be a positive integer/);
    const noDb = await runCaptured(["db", "advise", "--url", "http://127.0.0.1:9", "--apply"], ROOT, { DATABASE_URL: undefined });
    assert.equal(noDb.code, 2);
    assert.match(noDb.stderr, /--apply needs the database/);
  });
});
