/**
 * examples/ml_pipeline.ts: a scheduled retraining pipeline with hyperparameter
 * search and registry promotion, then batch prediction through the promoted
 * alias, over the service's HTTP API, on SQLite and PostgreSQL.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { createPipelineService, ensureConfig, type PipelineRun, pipelineRunEnded, runWalkthrough } from "../../examples/ml_pipeline.ts";
import { postgresStore, sqliteFileStore } from "../_support/stores.ts";

for (const store of [sqliteFileStore(), postgresStore()]) {
  describe(`the ML pipeline example on ${store.name}`, () => {
    let app: ServiceApp;
    const fetchFrom = (path: string, init?: RequestInit) => app.handle(new Request(`http://localhost${path}`, init));

    before(async () => {
      await (await store.open()).close();
      // Every two seconds, so the test sees a scheduled run.
      app = await createPipelineService({ databaseUrl: store.url(), schedule: "*/2 * * * * *" }).withSettings({ env: {} }).build() as unknown as ServiceApp;
      await ensureConfig(fetchFrom);
    });
    after(async () => {
      await app.chapkit.close();
      await store.cleanup();
    });

    it("retrains on its schedule: search, evaluation on the holdout, registration, promotion to production", async () => {
      const deadline = Date.now() + 30_000;
      let scheduled: PipelineRun | undefined;
      while (!scheduled) {
        const runs = await (await fetchFrom("/api/v1/pipelines/dengue-retrain/runs")).json() as PipelineRun[];
        const first = runs.find((run) => run.trigger === "schedule");
        if (first) scheduled = await pipelineRunEnded(fetchFrom, first.id);
        else if (Date.now() > deadline) assert.fail("no scheduled run started");
        else await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(scheduled.status, "completed", JSON.stringify(scheduled));
      assert.deepEqual(scheduled.steps.map((step) => step.status), ["completed", "completed", "completed", "completed"]);
      const train = scheduled.steps[0]!.outcome!;
      assert.equal(train.trials, 4);
      // The best trial is the fastest learner with the most epochs.
      const search = await (await fetchFrom(`/api/v1/runs/${train.search_run_id}`)).json() as { tags: { best_run_id: string } };
      const best = await (await fetchFrom(`/api/v1/runs/${search.tags.best_run_id}`)).json() as { params: Record<string, unknown>; metrics: Record<string, number> };
      assert.deepEqual([best.params.rate, best.params.epochs], [0.1, 100]);
      assert.ok(best.metrics.holdout_rmse! < 2, JSON.stringify(best.metrics));
      const curve = await (await fetchFrom(`/api/v1/runs/$curves?ids=${search.tags.best_run_id}&metric=loss`)).text();
      assert.match(curve, /^<svg/);
    });

    it("runs on demand, keeps production on the better version, and predicts districts in bulk through it", async () => {
      const lines: string[] = [];
      const result = await runWalkthrough(fetchFrom, (line) => lines.push(line));
      assert.equal(result.run.status, "completed");
      const promote = result.run.steps[3]!.outcome!;
      // The same data and search give the same candidate: registered, but production moves only for a better one.
      assert.equal(typeof promote.promoted, "boolean");
      const aliases = await (await fetchFrom("/api/v1/models/dengue/aliases")).json() as Record<string, string>;
      assert.equal(aliases.production, result.production);
      assert.equal(result.predictions.rowCount, 500);
      assert.ok(result.predictions.columns.includes("sample_0"));
      const predicted = result.predictions.column("sample_0");
      assert.ok(predicted.every((value) => Number.isFinite(value) && value > 0 && value < 60), String(predicted.slice(0, 5)));
      assert.equal(lines.length, 6);
    });
  });
}
