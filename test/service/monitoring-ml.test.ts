import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Type } from "@sinclair/typebox";
import { runner } from "../../examples/ml_basic.ts";
import { MLServiceBuilder } from "../../src/service/ml-service-builder.ts";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { BASIC_FUTURE, BASIC_TRAINING, finished } from "../modules/ml/_support.ts";
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

    before(async () => {
      await store.open().then((db) => db.close());
      app = await new MLServiceBuilder({
        info: { display_name: "Monitored model" },
        configSchema: Type.Object({}, { additionalProperties: true }),
        runner,
        logging: false,
        databaseUrl: store.url(),
      }).withMonitoring().build();
      const config = await json<{ id: string }>(await call(app, "POST", "/api/v1/config", { name: "m", data: {} }), 201);
      const train = await json<{ job_id: string; model_artifact_id: string }>(
        await call(app, "POST", "/api/v1/ml/$train", { config_id: config.id, data: BASIC_TRAINING }),
        202,
      );
      assert.equal((await finished(app, train.job_id)).status, "completed");
      const predict = await json<{ job_id: string }>(
        await call(app, "POST", "/api/v1/ml/$predict", { model_artifact_id: train.model_artifact_id, future: BASIC_FUTURE }),
        202,
      );
      assert.equal((await finished(app, predict.job_id)).status, "completed");
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
      // The trained model and one prediction artifact.
      assert.equal(value(text, "chapkit_artifact_size_bytes_count"), 2);
      assert.ok((value(text, "chapkit_artifact_size_bytes_sum") ?? 0) > 50);
    });
  });
}
