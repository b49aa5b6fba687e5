import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { experimentsModule } from "../../../src/modules/experiments/mod.ts";
import { definePipeline, type PipelineDefinition, pipelinesModule } from "../../../src/modules/pipelines/mod.ts";
import { Type } from "@sinclair/typebox";
import type { ServiceEvent } from "../../../src/core/events/mod.ts";
import { newUlid } from "../../../src/core/ulid.ts";
import { JOBS_KEY } from "../../../src/modules/jobs/mod.ts";
import type { JobRunner } from "../../../src/modules/jobs/types.ts";
import { createPipelineRunRepository } from "../../../src/modules/pipelines/store.ts";
import { call, json } from "../../_support/http.ts";
import { postgresStore, sqliteFileStore } from "../../_support/stores.ts";
import { createConfig, type Json, problem } from "../ml/_support.ts";
import { type ExperimentService, openExperimentService, slopeRunner } from "../experiments/_support.ts";

/** y = 2x on 20 rows: the last 4 are the holdout. */
const DATA = { columns: ["x", "y"], data: Array.from({ length: 20 }, (_, i) => [i + 1, 2 * (i + 1)]) };

function pipelines(): PipelineDefinition[] {
  return [
    definePipeline({ name: "slope-retrain", model: "slope", config: "slope-base", data: () => DATA, target: "y" }),
    definePipeline({
      name: "slope-tuned",
      model: "slope-tuned",
      config: "slope-base",
      data: () => DATA,
      target: "y",
      alias: "production",
      search: { strategy: "grid", space: { rate: { values: [0.0001, 0.001] }, epochs: { values: [1, 5] } }, metric: "rmse", concurrency: 2 },
    }),
    definePipeline({ name: "no-data", model: "slope-x", config: "slope-base", data: () => { throw new Error("the warehouse is down"); }, target: "y" }),
    definePipeline({ name: "no-config", model: "slope-x", config: "missing", data: () => DATA, target: "y" }),
    definePipeline({ name: "broken", model: "slope-x", config: "broken", data: () => DATA, target: "y" }),
  ];
}

async function settled(service: ExperimentService, pipeline: string, id: string, timeoutMs = 30_000): Promise<Json> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await json(await call(service.app, "GET", `/api/v1/pipelines/${pipeline}/runs/${id}`), 200);
    const steps = run.steps as Json[];
    const quiet = steps.every((step) => step.status !== "pending" && step.status !== "running");
    if (run.status !== "running" && quiet) return run;
    if (Date.now() > deadline) assert.fail(`pipeline run ${id} still running: ${JSON.stringify(run)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function runPipeline(service: ExperimentService, pipeline: string): Promise<Json> {
  const started = await json(await call(service.app, "POST", `/api/v1/pipelines/${pipeline}/$run`), 202);
  assert.equal(started.trigger, "manual");
  return await settled(service, pipeline, String(started.id));
}

function step(run: Json, name: string): Json {
  return (run.steps as Json[]).find((s) => s.name === name)!;
}

for (const stores of [sqliteFileStore, postgresStore]) {
  const store = stores();
  describe(`pipelines on ${store.name}`, () => {
    let service: ExperimentService;
    let baseConfig: string;
    const promoted: ServiceEvent[] = [];
    before(async () => {
      service = await openExperimentService(store, slopeRunner, [experimentsModule(), pipelinesModule({ pipelines: pipelines() })]);
      service.app.chapkit.context.events.subscribe({ types: ["model.promoted"] }, (event) => void promoted.push(event));
      baseConfig = await createConfig(service.app, "slope-base", { epochs: 1, rate: 0.001 });
      await createConfig(service.app, "broken", { fail: true });
    });
    after(async () => {
      await service.close();
      await store.cleanup();
    });

    test("a first run trains, evaluates on the holdout, registers and promotes (no champion yet)", async () => {
      const run = await runPipeline(service, "slope-retrain");
      assert.equal(run.status, "completed", JSON.stringify(run));
      assert.deepEqual((run.steps as Json[]).map((s) => [s.name, s.status]), [
        ["train", "completed"], ["evaluate", "completed"], ["register", "completed"], ["promote", "completed"],
      ]);
      const evaluation = step(run, "evaluate").outcome as Json;
      assert.equal(evaluation.metric, "rmse");
      assert.equal(evaluation.holdout_rows, 4);
      assert.equal(evaluation.champion, null);
      assert.equal(evaluation.beats, true);
      assert.deepEqual(step(run, "register").outcome, { model: "slope", version: "1.0.0" });
      const promotion = step(run, "promote").outcome as Json;
      assert.deepEqual([promotion.promoted, promotion.alias, promotion.to_version], [true, "champion", "1.0.0"]);
      const aliases = await json(await call(service.app, "GET", "/api/v1/models/slope/aliases"), 200);
      assert.deepEqual(aliases, { champion: "1.0.0" });
      // The candidate's run carries the holdout score beside its training metrics.
      const candidate = await json(await call(service.app, "GET", `/api/v1/runs/${(evaluation.candidate as Json).run_id}`), 200);
      assert.equal((candidate.metrics as Json).holdout_rmse, (evaluation.candidate as Json).value);
      assert.equal(candidate.model_version, "1.0.0");
      assert.equal((candidate.tags as Json).pipeline_run, run.id);
    });

    test("a better candidate is promoted, a worse one is registered but not promoted", async () => {
      await json(await call(service.app, "PUT", `/api/v1/config/${baseConfig}`, { name: "slope-base", data: { epochs: 30, rate: 0.01 } }), 200);
      const better = await runPipeline(service, "slope-retrain");
      const betterEvaluation = step(better, "evaluate").outcome as Json;
      assert.equal((betterEvaluation.champion as Json).version, "1.0.0");
      assert.ok(((betterEvaluation.candidate as Json).value as number) < ((betterEvaluation.champion as Json).value as number));
      assert.deepEqual((step(better, "promote").outcome as Json).to_version, "1.1.0");

      await json(await call(service.app, "PUT", `/api/v1/config/${baseConfig}`, { name: "slope-base", data: { epochs: 1, rate: 0.001 } }), 200);
      const worse = await runPipeline(service, "slope-retrain");
      assert.equal(worse.status, "completed");
      assert.deepEqual(step(worse, "register").outcome, { model: "slope", version: "1.2.0" });
      const kept = step(worse, "promote").outcome as Json;
      assert.equal(kept.promoted, false);
      assert.match(String(kept.reason), /does not beat champion 1\.1\.0/);
      assert.deepEqual(await json(await call(service.app, "GET", "/api/v1/models/slope/aliases"), 200), { champion: "1.1.0" });

      const history = await json<Json[]>(await call(service.app, "GET", "/api/v1/models/slope/aliases/$history"), 200);
      assert.deepEqual(history.map((move) => [move.to_version, move.actor]), [["1.1.0", "pipeline:slope-retrain"], ["1.0.0", "pipeline:slope-retrain"]]);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const moves = promoted.map((event) => event.data.entity as Json).filter((move) => move.name === "slope");
      assert.deepEqual(moves.map((move) => [move.to_version, move.actor]), [["1.0.0", "pipeline:slope-retrain"], ["1.1.0", "pipeline:slope-retrain"]]);

      const runs = await json<Json[]>(await call(service.app, "GET", "/api/v1/pipelines/slope-retrain/runs"), 200);
      assert.deepEqual(runs.map((run) => run.id), [worse.id, better.id, runs[2]!.id]);
    });

    test("a pipeline with a search trains by hyperparameter search and promotes its best trial", async () => {
      await json(await call(service.app, "PUT", `/api/v1/config/${baseConfig}`, { name: "slope-base", data: { epochs: 3, rate: 0.001 } }), 200);
      const run = await runPipeline(service, "slope-tuned");
      assert.equal(run.status, "completed", JSON.stringify(run));
      const train = step(run, "train").outcome as Json;
      assert.equal(train.trials, 4);
      const search = await json(await call(service.app, "GET", `/api/v1/runs/${train.search_run_id}`), 200);
      assert.equal(search.kind, "search");
      const evaluation = step(run, "evaluate").outcome as Json;
      assert.equal((evaluation.candidate as Json).run_id, (search.tags as Json).best_run_id);
      const best = await json(await call(service.app, "GET", `/api/v1/runs/${(search.tags as Json).best_run_id}`), 200);
      assert.deepEqual([(best.params as Json).rate, (best.params as Json).epochs], [0.001, 5]);
      assert.deepEqual(await json(await call(service.app, "GET", "/api/v1/models/slope-tuned/aliases"), 200), { production: "1.0.0" });
    });

    test("a failing step fails the run and the steps after it, with the reason", async () => {
      const noData = await runPipeline(service, "no-data");
      assert.equal(noData.status, "failed");
      assert.match(String(noData.error), /the warehouse is down/);
      assert.ok((noData.steps as Json[]).every((s) => s.status === "waiting"));

      const noConfig = await runPipeline(service, "no-config");
      assert.equal(noConfig.status, "failed");
      assert.match(String(noConfig.error), /config missing not found/);

      const broken = await runPipeline(service, "broken");
      assert.equal(broken.status, "failed");
      assert.deepEqual((broken.steps as Json[]).map((s) => s.status), ["failed", "failed", "failed", "failed"]);
      assert.match(String(step(broken, "train").error), /training diverged/);
      assert.match(String(broken.error), /training diverged/);
      await problem(await call(service.app, "GET", "/api/v1/models/slope-x"), 404);
    });

    test("a run reads as running until its start job has enqueued every step, even when a step already failed it", async () => {
      const context = service.app.chapkit.context;
      const jobs = context.get<JobRunner>(JOBS_KEY);
      let release!: () => void;
      const held = new Promise<void>((resolve) => release = resolve);
      jobs.register("test.hold-start", { payload: Type.Object({}), run: () => held });
      const { record: start } = await jobs.enqueue("test.hold-start", {});
      for (let i = 0; (await jobs.get(start.id)).status !== "running"; i++) {
        if (i > 400) assert.fail("the held start job never ran");
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const now = new Date().toISOString();
      const run = await createPipelineRunRepository(service.db).insert({
        id: newUlid(), pipeline: "broken", status: "failed", trigger: "manual", start_job_id: start.id,
        started_at: now, finished_at: now, error: "train: training diverged",
      });
      const during = await json(await call(service.app, "GET", `/api/v1/pipelines/broken/runs/${run.id}`), 200);
      assert.deepEqual([during.status, during.error, during.finished_at], ["running", null, null]);
      release();
      const after = await settled(service, "broken", run.id);
      assert.deepEqual([after.status, after.error, after.finished_at], ["failed", "train: training diverged", now]);
    });

    test("pipelines are listed with their last run; unknown names and runs are 404", async () => {
      const listed = await json<Json[]>(await call(service.app, "GET", "/api/v1/pipelines"), 200);
      assert.deepEqual(listed.map((p) => p.name), ["slope-retrain", "slope-tuned", "no-data", "no-config", "broken"]);
      const retrain = listed[0]!;
      assert.deepEqual([retrain.model, retrain.alias, retrain.metric, retrain.goal, retrain.search, retrain.schedule], ["slope", "champion", "rmse", "minimize", false, null]);
      assert.equal((retrain.last_run as Json).status, "completed");
      await problem(await call(service.app, "POST", "/api/v1/pipelines/nope/$run"), 404);
      await problem(await call(service.app, "GET", "/api/v1/pipelines/nope"), 404);
      await problem(await call(service.app, "GET", "/api/v1/pipelines/slope-retrain/runs/01ARZ3NDEKTSV4RRFFQ69G5FAV"), 404);
    });
  });

  const scheduledStore = stores();
  describe(`scheduled pipelines on ${scheduledStore.name}`, () => {
    let service: ExperimentService;
    before(async () => {
      const every = definePipeline({ name: "every-second", model: "slope-cron", config: "slope-cron", data: () => DATA, target: "y", schedule: "* * * * * *" });
      service = await openExperimentService(scheduledStore, slopeRunner, [experimentsModule(), pipelinesModule({ pipelines: [every] })]);
      await createConfig(service.app, "slope-cron", { epochs: 5, rate: 0.01 });
    });
    after(async () => {
      await service.close();
      await scheduledStore.cleanup();
    });

    test("a cron schedule runs the pipeline: scheduled retraining", async () => {
      const pipeline = await json(await call(service.app, "GET", "/api/v1/pipelines/every-second"), 200);
      assert.equal((pipeline.schedule as Json).cron, "* * * * * *");
      const schedules = await json<Json[]>(await call(service.app, "GET", "/api/v1/schedules"), 200);
      assert.ok(schedules.some((s) => s.name === "pipeline:every-second" && s.job === "pipelines.start"));
      const deadline = Date.now() + 15_000;
      let completed: Json | undefined;
      while (!completed) {
        const runs = await json<Json[]>(await call(service.app, "GET", "/api/v1/pipelines/every-second/runs"), 200);
        completed = runs.find((run) => run.status === "completed");
        if (!completed && Date.now() > deadline) assert.fail(`no scheduled run completed: ${JSON.stringify(runs)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(completed.trigger, "schedule");
      const aliases = await json(await call(service.app, "GET", "/api/v1/models/slope-cron/aliases"), 200);
      assert.ok(typeof aliases.champion === "string");
    });
  });
}
