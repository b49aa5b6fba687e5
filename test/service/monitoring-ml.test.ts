import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Type } from "@sinclair/typebox";
import { runner } from "../../examples/ml_basic.ts";
import { MLServiceBuilder } from "../../src/service/ml-service-builder.ts";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { BASIC_FUTURE, BASIC_TRAINING, finished, formula } from "../modules/ml/_support.ts";
import { call, json } from "../_support/http.ts";
import { promtoolCheck } from "../_support/promtool.ts";
import { memoryStore, postgresStore, type TestStore } from "../_support/stores.ts";

function value(text: string, series: string): number | undefined {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

for (const makeStore of [memoryStore, postgresStore]) {
  const store: TestStore = makeStore();
  describe(`ML, job and artifact metrics on ${store.name}`, () => {
    let app: ServiceApp;
    let text = "";
    let modelId = "";
    let predictionId = "";

    before(async () => {
      await store.open().then((db) => db.close());
      app = await new MLServiceBuilder({
        info: { display_name: "Monitored model" },
        configSchema: Type.Object({}, { additionalProperties: true }),
        runner,
        logging: false,
        databaseUrl: store.url(),
      }).withMonitoring({ ml: { sampleRate: 1 } }).build();
      const config = await json<{ id: string }>(await call(app, "POST", "/api/v1/config", { name: "m", data: {} }), 201);
      const train = await json<{ job_id: string; model_artifact_id: string }>(
        await call(app, "POST", "/api/v1/ml/$train", { config_id: config.id, data: BASIC_TRAINING }),
        202,
      );
      assert.equal((await finished(app, train.job_id)).status, "completed");
      modelId = train.model_artifact_id;
      const predict = await json<{ job_id: string; prediction_artifact_id: string }>(
        await call(app, "POST", "/api/v1/ml/$predict", { model_artifact_id: train.model_artifact_id, future: BASIC_FUTURE }),
        202,
      );
      assert.equal((await finished(app, predict.job_id)).status, "completed");
      predictionId = predict.prediction_artifact_id;
      // A future frame without the model's features: the predict job fails.
      const broken = await json<{ job_id: string }>(
        await call(app, "POST", "/api/v1/ml/$predict", {
          model_artifact_id: train.model_artifact_id,
          future: { columns: ["other"], data: [[1]] },
        }),
        202,
      );
      assert.equal((await finished(app, broken.job_id)).status, "failed");
      await new Promise((resolve) => setTimeout(resolve, 5));
      text = await (await call(app, "GET", "/metrics")).text();
    });

    after(async () => {
      await app?.chapkit.close();
      await store.cleanup();
    });

    it("passes promtool after real train and predict traffic", () => {
      const result = promtoolCheck(text);
      assert.equal(result.status, 0, result.output);
    });

    it("times training and prediction runs by outcome and counts predicted rows", () => {
      assert.equal(value(text, `chapkit_ml_train_duration_seconds_count{outcome="success"}`), 1);
      assert.equal(value(text, `chapkit_ml_predict_duration_seconds_count{outcome="success"}`), 1);
      assert.equal(value(text, `chapkit_ml_predict_duration_seconds_count{outcome="error"}`), 1);
      assert.equal(value(text, "chapkit_ml_predict_rows_total"), BASIC_FUTURE.data.length);
    });

    it("times jobs by kind and outcome", () => {
      assert.equal(value(text, `chapkit_job_duration_seconds_count{kind="ml.train",outcome="completed"}`), 1);
      assert.equal(value(text, `chapkit_job_duration_seconds_count{kind="ml.predict",outcome="completed"}`), 1);
      assert.equal(value(text, `chapkit_job_duration_seconds_count{kind="ml.predict",outcome="failed"}`), 1);
    });

    it("counts job records by status from the store", () => {
      assert.equal(value(text, `chapkit_jobs{status="completed"}`), 2);
      assert.equal(value(text, `chapkit_jobs{status="failed"}`), 1);
      assert.equal(value(text, `chapkit_jobs{status="pending"}`), 0);
      assert.equal(value(text, `chapkit_jobs{status="running"}`), 0);
    });

    it("records the size of each stored artifact", () => {
      // The trained model, one prediction and its sample.
      assert.equal(value(text, "chapkit_artifact_size_bytes_count"), 3);
      assert.ok((value(text, "chapkit_artifact_size_bytes_sum") ?? 0) > 50);
    });

    it("reports per-model runs, errors, rows, latency and input drift at $monitoring", async () => {
      const body = await json<{ sample_rate: number; models: Record<string, any>[] }>(
        await call(app, "GET", "/api/v1/ml/$monitoring"),
        200,
      );
      assert.equal(body.sample_rate, 1);
      const model = body.models.find((m) => m.model_artifact_id === modelId)!;
      assert.equal(model.predictions, 2);
      assert.equal(model.errors, 1);
      assert.equal(model.error_rate, 0.5);
      assert.equal(model.rows, BASIC_FUTURE.data.length);
      assert.ok(model.latency_p95_seconds > 0);
      assert.ok(model.predictions_per_minute > 0);
      assert.ok(model.trained_at);
      assert.deepEqual(Object.keys(model.drift).sort(), ["mean_temperature", "rainfall"]);
      assert.equal(model.drift.rainfall.n_current, BASIC_FUTURE.data.length);
      assert.equal(model.drift.rainfall.n_reference, BASIC_TRAINING.data.length);
      assert.ok(model.drift.rainfall.ks < 0.6 && Number.isFinite(model.drift.rainfall.psi), JSON.stringify(model.drift.rainfall));
      assert.equal(model.feedback, null);
    });

    it("exposes drift per model and feature as metrics, still clean under promtool", async () => {
      const scraped = await (await call(app, "GET", "/metrics")).text();
      assert.ok(value(scraped, `chapkit_ml_feature_psi{model="${modelId}",feature="rainfall"}`) !== undefined);
      assert.ok(value(scraped, `chapkit_ml_feature_ks{model="${modelId}",feature="mean_temperature"}`) !== undefined);
      assert.equal(promtoolCheck(scraped).status, 0, promtoolCheck(scraped).output);
    });

    it("keeps sampled prediction inputs and outputs as an artifact under the prediction", async () => {
      const tree = await json<{ children: { data: Record<string, any> }[] | null }>(
        await call(app, "GET", `/api/v1/artifacts/${predictionId}/$tree`),
        200,
      );
      const sample = (tree.children ?? []).find((child) => child.data.ml_type === "prediction_sample");
      assert.ok(sample, JSON.stringify(tree));
      assert.deepEqual(sample.data.future, BASIC_FUTURE);
      assert.equal(sample.data.model_artifact_id, modelId);
      assert.equal(sample.data.predictions.data.length, BASIC_FUTURE.data.length);
    });

    it("turns feedback into MAE and RMSE over the window", async () => {
      const truth = BASIC_FUTURE.data.map(([r, t]) => formula(r!, t!));
      const exact = await json<{ n: number; mae: number; rmse: number; model_artifact_id: string }>(
        await call(app, "POST", "/api/v1/ml/$feedback", { prediction_artifact_id: predictionId, actual: truth }),
        200,
      );
      assert.equal(exact.model_artifact_id, modelId);
      assert.equal(exact.n, truth.length);
      assert.ok(exact.mae < 1e-6 && exact.rmse < 1e-6, JSON.stringify(exact));
      const off = await json<{ n: number; mae: number; rmse: number }>(
        await call(app, "POST", "/api/v1/ml/$feedback", { prediction_artifact_id: predictionId, actual: truth.map((v) => v + 2) }),
        200,
      );
      assert.equal(off.n, truth.length * 2);
      assert.ok(Math.abs(off.mae - 1) < 1e-6, JSON.stringify(off));
      assert.ok(Math.abs(off.rmse - Math.sqrt(2)) < 1e-6, JSON.stringify(off));
    });

    it("refuses feedback for an unknown artifact, a non-prediction, or the wrong number of values", async () => {
      const missing = await call(app, "POST", "/api/v1/ml/$feedback", { prediction_artifact_id: "01ARZ3NDEKTSV4RRFFQ69G5FAV", actual: [1] });
      assert.equal(missing.status, 404);
      const notPrediction = await call(app, "POST", "/api/v1/ml/$feedback", { prediction_artifact_id: modelId, actual: [1] });
      assert.equal(notPrediction.status, 400);
      const short = await call(app, "POST", "/api/v1/ml/$feedback", { prediction_artifact_id: predictionId, actual: [1] });
      assert.equal(short.status, 422);
      assert.equal((await short.json()).type, "urn:chapkit:error:validation-failed");
      const bad = await call(app, "POST", "/api/v1/ml/$feedback", { prediction_artifact_id: predictionId, actual: "x" });
      assert.equal(bad.status, 422);
    });

    it("shows large drift when prediction inputs leave the training range", async () => {
      const shifted = { columns: ["rainfall", "mean_temperature"], data: Array.from({ length: 40 }, (_, i) => [500 + i, 40 + i / 10]) };
      const predict = await json<{ job_id: string }>(
        await call(app, "POST", "/api/v1/ml/$predict", { model_artifact_id: modelId, future: shifted }),
        202,
      );
      assert.equal((await finished(app, predict.job_id)).status, "completed");
      const body = await json<{ models: Record<string, any>[] }>(await call(app, "GET", "/api/v1/ml/$monitoring"), 200);
      const drift = body.models.find((m) => m.model_artifact_id === modelId)!.drift.rainfall;
      assert.ok(drift.psi > 0.25, JSON.stringify(drift));
      assert.ok(drift.ks > 0.8, JSON.stringify(drift));
      assert.ok(drift.ks_p_value < 0.01, JSON.stringify(drift));
    });
  });
}
