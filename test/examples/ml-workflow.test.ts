/**
 * examples/ml_workflow.ts: from a CSV upload to predictions through the
 * `production` alias, over the service's HTTP API, on SQLite and PostgreSQL.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { createMlService, runWorkflow } from "../../examples/ml_workflow.ts";
import { postgresStore, sqliteFileStore } from "../_support/stores.ts";

for (const store of [sqliteFileStore(), postgresStore()]) {
  describe(`the ML workflow example on ${store.name}`, () => {
    let app: ServiceApp;

    before(async () => {
      await (await store.open()).close();
      app = await createMlService(store.url()).withSettings({ env: {} }).build() as unknown as ServiceApp;
    });
    after(async () => {
      await app.chapkit.close();
      await store.cleanup();
    });

    it("uploads data, trains two versions, promotes the better one and predicts through production", async () => {
      const lines: string[] = [];
      const result = await runWorkflow((path, init) => app.handle(new Request(`http://localhost${path}`, init)), (line) => lines.push(line));
      assert.equal(result.versions.length, 2);
      const best = result.versions.reduce((a, b) => (b.rmse < a.rmse ? b : a));
      assert.equal(result.promoted, best.version);
      // Two features fit this data better than rainfall alone.
      const byVersion = new Map(result.versions.map((v) => [v.version, v.rmse]));
      assert.ok(byVersion.get("1.1.0")! < byVersion.get("1.0.0")!, JSON.stringify(result.versions));
      assert.equal(result.predictions.length, 2);
      assert.ok(result.predictions.every((value) => Number.isFinite(value) && value > 0 && value < 40), String(result.predictions));
      assert.equal(lines.length, 4);

      const history = await (await app.handle(new Request("http://localhost/api/v1/models/disease/aliases/$history"))).json() as { alias: string; to_version?: string }[];
      assert.ok(history.some((move) => move.alias === "production"));
    });
  });
}
