import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { expandSearch } from "../../../src/modules/experiments/search-space.ts";
import type { JobRecord } from "../../../src/modules/jobs/types.ts";
import { call, json } from "../../_support/http.ts";
import { postgresStore, sqliteFileStore } from "../../_support/stores.ts";
import { createConfig, finished, type Json, problem } from "../ml/_support.ts";
import { type ExperimentService, openExperimentService, TRAINING } from "./_support.ts";

describe("search spaces", () => {
  test("a grid is every combination, keys in order", () => {
    const trials = expandSearch({ strategy: "grid", space: { a: { values: [1, 2] }, b: { min: 0, max: 1, count: 3 } } });
    assert.deepEqual(trials, [
      { a: 1, b: 0 }, { a: 1, b: 0.5 }, { a: 1, b: 1 },
      { a: 2, b: 0 }, { a: 2, b: 0.5 }, { a: 2, b: 1 },
    ]);
    assert.deepEqual(expandSearch({ strategy: "grid", space: { n: { min: 1, max: 100, count: 3, scale: "log", integer: true } } }), [{ n: 1 }, { n: 10 }, { n: 100 }]);
  });

  test("a random search draws the same trials from the same seed, within the ranges", () => {
    const space = { rate: { min: 0.001, max: 0.1, scale: "log" as const }, depth: { min: 1, max: 5, integer: true }, kind: { values: ["a", "b"] } };
    const first = expandSearch({ strategy: "random", space, trials: 20, seed: 7 });
    assert.deepEqual(expandSearch({ strategy: "random", space, trials: 20, seed: 7 }), first);
    assert.notDeepEqual(expandSearch({ strategy: "random", space, trials: 20, seed: 8 }), first);
    assert.equal(first.length, 20);
    for (const trial of first) {
      assert.ok((trial.rate as number) >= 0.001 && (trial.rate as number) <= 0.1);
      assert.ok(Number.isInteger(trial.depth) && (trial.depth as number) >= 1 && (trial.depth as number) <= 5);
      assert.ok(trial.kind === "a" || trial.kind === "b");
    }
  });

  test("bad spaces are refused with every reason", () => {
    assert.throws(() => expandSearch({ strategy: "grid", space: { a: { min: 0, max: 1 } } }), /count/);
    assert.throws(() => expandSearch({ strategy: "grid", space: { a: { min: 2, max: 1, count: 2 } } }), /max must be at least min/);
    assert.throws(() => expandSearch({ strategy: "random", space: { a: { min: 0, max: 1, scale: "log" } } }), /min > 0/);
    assert.throws(() => expandSearch({ strategy: "grid", space: { a: { min: 0, max: 1, count: 100 }, b: { min: 0, max: 1, count: 11 } } }), /1100 combinations/);
  });
});

function overlapping(jobs: JobRecord[]): number {
  const edges = jobs.flatMap((job) => [[Date.parse(job.started_at!), 1], [Date.parse(job.finished_at!), -1]] as [number, number][]);
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, delta] of edges) most = Math.max(most, now += delta);
  return most;
}

for (const store of [sqliteFileStore(), postgresStore()]) {
  describe(`hyperparameter search on ${store.name}`, () => {
    let service: ExperimentService;
    let config: string;
    before(async () => {
      service = await openExperimentService(store);
      config = await createConfig(service.app, "slope-base", { epochs: 3, rate: 0.01, sleep: 60 });
    });
    after(async () => {
      await service.close();
      await store.cleanup();
    });

    test("a grid search trains each combination as a child job, two at a time, and registers the best", async () => {
      const answer = await json(await call(service.app, "POST", "/api/v1/runs/$tune", {
        config_id: config,
        data: TRAINING,
        strategy: "grid",
        space: { rate: { values: [0.001, 0.01, 0.05] }, epochs: { values: [2, 8] } },
        metric: "rmse",
        concurrency: 2,
        model: { name: "slope-tuned", tags: ["tuned"] },
        experiment: "tuning",
      }), 202);
      assert.equal((answer.trial_job_ids as string[]).length, 6);
      assert.deepEqual((answer.trials as Json[])[5], { rate: 0.05, epochs: 8 });
      const select = await finished(service.app, String(answer.select_job_id));
      assert.equal(select.status, "completed", String(select.error));

      const jobs: JobRecord[] = [];
      for (const id of answer.trial_job_ids as string[]) jobs.push(await json<JobRecord>(await call(service.app, "GET", `/api/v1/jobs/${id}`), 200));
      assert.ok(jobs.every((job) => job.status === "completed"));
      assert.ok(overlapping(jobs) <= 2, `at most two trials at once, saw ${overlapping(jobs)}`);
      assert.deepEqual(jobs[2]!.depends_on, [jobs[0]!.id]);

      const trials = await json<Json[]>(await call(service.app, "GET", `/api/v1/runs?parent_run_id=${answer.search_run_id}&sort=metrics.rmse`), 200);
      assert.equal(trials.length, 6);
      assert.ok(trials.every((trial) => trial.status === "completed"));
      const best = trials[0]!;
      assert.deepEqual([(best.params as Json).rate, (best.params as Json).epochs], [0.05, 8]);

      const search = await json(await call(service.app, "GET", `/api/v1/runs/${answer.search_run_id}`), 200);
      const seen = JSON.stringify({ search, trials: trials.map((t) => [t.id, t.status, t.metrics, t.params]) });
      assert.equal(search.kind, "search");
      assert.equal(search.status, "completed", seen);
      assert.equal((search.tags as Json).best_run_id, best.id, seen);
      assert.equal((search.metrics as Json).rmse, (best.metrics as Json).rmse, seen);
      assert.equal((search.params as Json)["space.rate.values"] !== undefined, true);
      assert.deepEqual([search.model_name, search.model_version, search.model_artifact_id], ["slope-tuned", "1.0.0", best.model_artifact_id]);

      const version = await json(await call(service.app, "GET", "/api/v1/models/slope-tuned/versions/1.0.0"), 200);
      assert.equal(version.artifact_id, best.model_artifact_id);
      assert.deepEqual(version.tags, ["tuned"]);
      assert.equal((version.metrics as Json).rmse, (best.metrics as Json).rmse);
      assert.equal((version.config as Json).rate, 0.05);
      const registeredBest = await json(await call(service.app, "GET", `/api/v1/runs/${best.id}`), 200);
      assert.equal(registeredBest.model_version, "1.0.0", JSON.stringify(registeredBest));
      const experiment = await json<Json[]>(await call(service.app, "GET", "/api/v1/experiments?name=tuning"), 200);
      assert.equal(trials[0]!.experiment_id, experiment[0]!.id);
    });

    test("a random search ranks by a metric to maximize; a failed trial does not stop the others", async () => {
      const answer = await json(await call(service.app, "POST", "/api/v1/runs/$tune", {
        config_id: config,
        data: TRAINING,
        strategy: "random",
        space: { rate: { min: 0.001, max: 0.05, scale: "log" }, fail: { values: [true, false] } },
        trials: 6,
        seed: 3,
        metric: "rmse",
        goal: "maximize",
        concurrency: 3,
      }), 202);
      const select = await finished(service.app, String(answer.select_job_id));
      assert.equal(select.status, "completed", String(select.error));
      const trials = await json<Json[]>(await call(service.app, "GET", `/api/v1/runs?parent_run_id=${answer.search_run_id}`), 200);
      const failed = trials.filter((trial) => trial.status === "failed");
      const expected = (answer.trials as Json[]).filter((trial) => trial.fail === true).length;
      assert.ok(expected > 0 && expected < 6, "the seed draws both outcomes");
      assert.equal(failed.length, expected);
      const completed = trials.filter((trial) => trial.status === "completed");
      const worst = Math.max(...completed.map((trial) => (trial.metrics as Json).rmse as number));
      const search = await json(await call(service.app, "GET", `/api/v1/runs/${answer.search_run_id}`), 200);
      assert.equal((search.metrics as Json).rmse, worst);
      assert.equal((search.metrics as Json).failed_trials, expected);
      assert.equal(search.model_version, null, "nothing registered without a model");
    });

    test("a search whose every trial fails fails, and says why", async () => {
      const answer = await json(await call(service.app, "POST", "/api/v1/runs/$tune", {
        config_id: config, data: TRAINING, strategy: "grid", space: { fail: { values: [true] } }, metric: "rmse", model: "never",
      }), 202);
      const select = await finished(service.app, String(answer.select_job_id));
      assert.equal(select.status, "failed");
      const search = await json(await call(service.app, "GET", `/api/v1/runs/${answer.search_run_id}`), 200);
      assert.equal(search.status, "failed");
      assert.match(String(search.error), /No trial of 1 reported a finite rmse \(1 failed\)/);
      await problem(await call(service.app, "GET", "/api/v1/models/never"), 404);
    });

    test("a bad search is refused before any job starts", async () => {
      const body = { config_id: config, data: TRAINING, strategy: "grid", space: { rate: { min: 0, max: 1 } }, metric: "rmse" };
      const missingCount = await problem(await call(service.app, "POST", "/api/v1/runs/$tune", body), 422);
      assert.match(JSON.stringify(missingCount), /count/);
      await problem(await call(service.app, "POST", "/api/v1/runs/$tune", { ...body, space: { rate: { values: [] } } }), 422);
      await problem(await call(service.app, "POST", "/api/v1/runs/$tune", { ...body, strategy: "bayes" }), 422);
      await problem(await call(service.app, "POST", "/api/v1/runs/$tune", { ...body, config_id: "01ARZ3NDEKTSV4RRFFQ69G5FAV", space: { rate: { values: [1] } } }), 404);
      await problem(await call(service.app, "POST", "/api/v1/runs/$tune", { ...body, space: { rate: { values: [1] } }, model: "bad name!" }), 422);
      const searches = await json<Json[]>(await call(service.app, "GET", "/api/v1/runs?kind=search"), 200);
      assert.equal(searches.length, 3, "only the three searches above were created");
    });
  });
}
