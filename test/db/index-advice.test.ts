/** Index advice from the slow-query log, checked with the plan before and after the advised index. */
import assert from "node:assert/strict";
import { after, afterEach, beforeEach, describe, it } from "node:test";
import { defineTable } from "../../src/core/entity.ts";
import type { Driver } from "../../src/db/driver.ts";
import { adviseIndexes } from "../../src/db/index-advice.ts";
import { explainStatement } from "../../src/db/instrumented-driver.ts";
import { migrate } from "../../src/db/migrate.ts";
import { createRepository } from "../../src/db/repository.ts";
import { tableMigration } from "../../src/db/table-migration.ts";
import { testStores } from "../_support/stores.ts";

const readings = defineTable({ name: "readings", columns: { site: { type: "text" }, value: { type: "real", indexed: true } } });

for (const store of testStores()) {
  describe(`index advice on ${store.name}`, () => {
    let db: Driver;
    beforeEach(async () => {
      db = await store.open();
      await migrate(db, [tableMigration(readings)]);
      await createRepository(db, readings).insertMany(Array.from({ length: 2000 }, (_, i) => ({ site: `s${i % 400}`, value: i }) as never));
      if (db.dialect === "postgres") await db.exec("ANALYZE readings");
    });
    afterEach(() => db.close());
    after(() => store.cleanup());

    it("advises an index on a filtered column that has none, and the plan uses it once created", async () => {
      const { sql, params } = { sql: `SELECT "id", "site" FROM "readings" WHERE "site" = ? ORDER BY "id" ASC`, params: ["s7"] };
      const advice = await adviseIndexes(db, [{ sql }, { sql }, { sql: `SELECT * FROM "readings" WHERE "value" > ? ORDER BY "value" ASC` }]);
      assert.deepEqual(advice.map(({ table, column, use, seen }) => ({ table, column, use, seen })), [{ table: "readings", column: "site", use: "filter", seen: 2 }]);
      const before = (await explainStatement(db, sql, params)).join("\n");
      await db.exec(advice[0]!.create);
      const afterPlan = (await explainStatement(db, sql, params)).join("\n");
      assert.doesNotMatch(before, /ix_readings_site/);
      assert.match(afterPlan, /ix_readings_site/, afterPlan);
      assert.deepEqual(await adviseIndexes(db, [{ sql }]), [], "nothing left to advise");
    });
  });
}

describe("GET /api/v1/system/$index-advice", () => {
  it("answers advice from the service's slow-query log", async () => {
    const { ServiceBuilder } = await import("../../src/service/service-builder.ts");
    const app = await new ServiceBuilder({ info: { display_name: "advice" } }).withSettings({ env: {} }).withSystem().withMonitoring().build();
    try {
      await app.chapkit.context.db.exec(`CREATE TABLE visits (id TEXT PRIMARY KEY, site TEXT)`);
      app.chapkit.context.monitoring!.slowQueries!.record({ sql: `SELECT * FROM "visits" WHERE "site" = ?`, operation: "select", store: "sqlite", durationMs: 900, at: new Date().toISOString() });
      const response = await app.handle(new Request("http://localhost/api/v1/system/$index-advice"));
      assert.equal(response.status, 200);
      const body = await response.json() as { items: { column: string; create: string }[] };
      assert.deepEqual(body.items.map((item) => item.create), [`CREATE INDEX "ix_visits_site" ON "visits" ("site")`]);
    } finally {
      await app.chapkit.close();
    }
  });
});
