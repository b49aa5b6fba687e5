import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { call, json } from "../../_support/http.ts";
import { postgresStore, sqliteFileStore } from "../../_support/stores.ts";
import { createConfig, finished, type Json, problem } from "../ml/_support.ts";
import { type ExperimentService, openExperimentService, TRAINING } from "./_support.ts";

async function train(service: ExperimentService, configId: string, body: Json = {}): Promise<Json> {
  const answer = await json(await call(service.app, "POST", "/api/v1/ml/$train", { config_id: configId, data: TRAINING, ...body }), 202);
  const record = await finished(service.app, String(answer.job_id));
  return { ...answer, status: record.status, error: record.error };
}

async function runOf(service: ExperimentService, jobId: string): Promise<Json> {
  const runs = await json<Json[]>(await call(service.app, "GET", `/api/v1/runs?job_id=${jobId}`), 200);
  assert.equal(runs.length, 1);
  return runs[0]!;
}

for (const store of [sqliteFileStore(), postgresStore()]) {
  describe(`experiments and runs on ${store.name}`, () => {
    let service: ExperimentService;
    let slow: Json;
    let fast: Json;
    before(async () => {
      service = await openExperimentService(store);
      const slowConfig = await createConfig(service.app, "slow", { epochs: 4, rate: 0.005, nested: { depth: 2 } });
      const fastConfig = await createConfig(service.app, "fast", { epochs: 6, rate: 0.05, nested: { depth: 3 } });
      const first = await train(service, slowConfig, {
        model: { name: "slope", params: { source: "unit" } },
        run: { experiment: "slope-study", name: "slow", tags: { owner: "ana" } },
      });
      const second = await train(service, fastConfig, { model: "slope", run: { experiment: "slope-study", name: "fast" } });
      assert.equal(first.status, "completed", String(first.error));
      assert.equal(second.status, "completed", String(second.error));
      slow = await runOf(service, String(first.job_id));
      fast = await runOf(service, String(second.job_id));
    });
    after(async () => {
      await service.close();
      await store.cleanup();
    });

    test("a training is recorded as a run: params, last metrics, tags, duration, artifact and version", () => {
      assert.equal(slow.status, "completed");
      assert.equal(slow.kind, "train");
      assert.equal(slow.name, "slow");
      assert.deepEqual(slow.params, { epochs: 4, rate: 0.005, "nested.depth": 2, source: "unit", init: 0 });
      assert.deepEqual(Object.keys(slow.metrics as Json).sort(), ["loss", "rmse"]);
      assert.deepEqual(slow.tags, { owner: "ana" });
      assert.equal(typeof slow.duration_ms, "number");
      assert.ok((slow.duration_ms as number) >= 0);
      assert.ok(Date.parse(String(slow.finished_at)) >= Date.parse(String(slow.started_at)));
      assert.deepEqual(slow.artifacts, [{ name: "model", artifact_id: slow.model_artifact_id }]);
      assert.deepEqual([slow.model_name, slow.model_version, fast.model_version], ["slope", "1.0.0", "1.1.0"]);
    });

    test("the runs of one experiment are listed under it, which is created on first use", async () => {
      const experiments = await json<Json[]>(await call(service.app, "GET", "/api/v1/experiments?name=slope-study"), 200);
      assert.equal(experiments.length, 1);
      const runs = await json<Json[]>(await call(service.app, "GET", `/api/v1/runs?experiment_id=${experiments[0]!.id}&sort=started_at`), 200);
      assert.deepEqual(runs.map((run) => run.name), ["slow", "fast"]);
    });

    test("runs filter with the filter grammar and sort by a metric", async () => {
      const byRmse = await json<Json[]>(await call(service.app, "GET", "/api/v1/runs?sort=metrics.rmse"), 200);
      assert.deepEqual(byRmse.map((run) => run.name), ["fast", "slow"]);
      const worst = await json<Json[]>(await call(service.app, "GET", "/api/v1/runs?sort=-metrics.rmse&limit=1"), 200);
      assert.deepEqual((worst as unknown as { items: Json[] }).items.map((run) => run.name), ["slow"]);
      const rmse = (fast.metrics as Json).rmse as number;
      const filtered = await json<Json[]>(await call(service.app, "GET", `/api/v1/runs?filter=${encodeURIComponent(`metrics.rmse <= ${rmse} && params.epochs = 6`)}`), 200);
      assert.deepEqual(filtered.map((run) => run.name), ["fast"]);
      const tagged = await json<Json[]>(await call(service.app, "GET", "/api/v1/runs?tags.owner=ana"), 200);
      assert.deepEqual(tagged.map((run) => run.name), ["slow"]);
      await problem(await call(service.app, "GET", "/api/v1/runs?filter=metrics.rmse%20%3C"), 400);
      await problem(await call(service.app, "GET", "/api/v1/runs?sort=nope"), 400);
    });

    test("a run's metric series is kept point by point", async () => {
      const points = await json<Json[]>(await call(service.app, "GET", `/api/v1/runs/${fast.id}/$metrics?key=loss`), 200);
      assert.deepEqual(points.map((p) => p.step), [0, 1, 2, 3, 4, 5]);
      const losses = points.map((p) => p.value as number);
      assert.ok(losses.every((loss, i) => i === 0 || loss < losses[i - 1]!), `loss falls: ${losses}`);
      assert.equal(losses.at(-1), (fast.metrics as Json).loss);
      const all = await json<Json[]>(await call(service.app, "GET", `/api/v1/runs/${fast.id}/$metrics`), 200);
      assert.deepEqual([...new Set(all.map((p) => p.key))], ["loss", "rmse"]);
    });

    test("compare answers the params diff, a metric table and the curves", async () => {
      const comparison = await json(await call(service.app, "GET", `/api/v1/runs/$compare?ids=${slow.id},${fast.id}`), 200);
      assert.deepEqual(comparison.params_diff, {
        epochs: { [String(slow.id)]: 4, [String(fast.id)]: 6 },
        "nested.depth": { [String(slow.id)]: 2, [String(fast.id)]: 3 },
        rate: { [String(slow.id)]: 0.005, [String(fast.id)]: 0.05 },
        source: { [String(slow.id)]: "unit", [String(fast.id)]: null },
      });
      assert.deepEqual(comparison.params_same, { init: 0 });
      const metrics = comparison.metrics as Record<string, Json>;
      assert.equal(metrics.rmse![String(fast.id)], (fast.metrics as Json).rmse);
      const curves = comparison.curves as Record<string, Record<string, number[][]>>;
      assert.equal(curves.loss![String(slow.id)]!.length, 4);
      assert.equal(curves.loss![String(fast.id)]!.length, 6);
      await problem(await call(service.app, "GET", `/api/v1/runs/$compare?ids=${slow.id}`), 400);
      const bad = await problem(await call(service.app, "GET", "/api/v1/runs/$compare?ids=nope,also-nope"), 422);
      assert.match(JSON.stringify(bad), /ids/);
      await problem(await call(service.app, "GET", `/api/v1/runs/$compare?ids=${slow.id},01ARZ3NDEKTSV4RRFFQ69G5FAV`), 404);
    });

    test("curves come as an SVG line chart, one line per run", async () => {
      const response = await call(service.app, "GET", `/api/v1/runs/$curves?ids=${slow.id},${fast.id}&metric=loss`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /^image\/svg\+xml/);
      const svg = await response.text();
      assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      assert.equal(svg.match(/<path /g)?.length, 2);
      assert.match(svg, /<title>slow<\/title>/);
      assert.match(svg, />loss</);
      await problem(await call(service.app, "GET", `/api/v1/runs/$curves?ids=${slow.id}`), 422);
    });

    test("a failed training is a failed run with its error", async () => {
      const config = await createConfig(service.app, "broken", { fail: true });
      const answer = await train(service, config, { run: { experiment: "slope-study" } });
      assert.equal(answer.status, "failed");
      const run = await runOf(service, String(answer.job_id));
      assert.equal(run.status, "failed");
      assert.equal(run.error, "Error: training diverged");
      assert.equal(typeof run.duration_ms, "number");
      const failed = await json<Json[]>(await call(service.app, "GET", "/api/v1/runs?status=failed"), 200);
      assert.deepEqual(failed.map((r) => r.id), [run.id]);
    });

    test("a run's name and tags change; runs cannot be created over HTTP; a deleted run takes its series", async () => {
      const config = await createConfig(service.app, "scratch", { epochs: 2 });
      const answer = await train(service, config);
      const run = await runOf(service, String(answer.job_id));
      const experiment = await json(await call(service.app, "GET", `/api/v1/experiments/${run.experiment_id}`), 200);
      assert.equal(experiment.name, "scratch", "the experiment defaults to the registered model's name");
      const patched = await json(await call(service.app, "PATCH", `/api/v1/runs/${run.id}`, { tags: { keep: "no" } }), 200);
      assert.deepEqual(patched.tags, { keep: "no" });
      assert.deepEqual(patched.metrics, run.metrics, "metrics are not a client's to change");
      const created = await call(service.app, "POST", "/api/v1/runs", { name: "forged" });
      assert.ok(created.status === 404 || created.status === 405, String(created.status));
      await created.body?.cancel();
      assert.equal((await call(service.app, "DELETE", `/api/v1/runs/${run.id}`)).status, 204);
      await problem(await call(service.app, "GET", `/api/v1/runs/${run.id}/$metrics`), 404);
      const [count] = await service.db.query<{ n: number | string }>("SELECT COUNT(*) AS n FROM run_metrics WHERE run_id = ?", [String(run.id)]);
      assert.equal(Number(count?.n), 0);
    });
  });
}
