import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createRunner } from "../../../examples/ml_onnx.ts";
import { DataFrame } from "../../../src/modules/ml/engine/dataframe.ts";
import { fitLinearRegression, predictLinear } from "../../../src/modules/ml/engine/linear-regression.ts";
import { linearRegressionOnnx } from "../../../src/modules/ml/onnx/onnx-models.ts";
import { OnnxWorkerPool } from "../../../src/modules/ml/onnx/onnx-pool.ts";
import { OnnxModelRunner } from "../../../src/modules/ml/onnx/onnx-runner.ts";
import { testStores } from "../../_support/stores.ts";
import {
  assertPredictions,
  BASIC_FUTURE,
  call,
  createConfig,
  finished,
  json,
  type Json,
  type MlService,
  openMlService,
  predict,
  prediction,
  trainedModel,
} from "./_support.ts";

const FEATURES = ["rainfall", "mean_temperature"];
// Noisy rows, so the least-squares fit is not an exact formula.
const TRAINING = {
  columns: ["rainfall", "mean_temperature", "disease_cases"],
  data: [
    [100.5, 25.3, 12],
    [85.2, 27.1, 8],
    [120.0, 24.8, 15],
    [95.3, 26.5, 10],
    [110.8, 25.9, 13],
    [75.4, 28.2, 6],
    [130.2, 24.1, 18],
    [88.6, 27.3, 9],
  ],
};
const tsModel = fitLinearRegression(DataFrame.fromJSON(TRAINING), { features: FEATURES, target: "disease_cases" });
const tsPredictions = predictLinear(tsModel, DataFrame.fromJSON(BASIC_FUTURE));
const crashingWorker = new URL("./fixtures/crashing-onnx-worker.ts", import.meta.url);

for (const store of testStores()) {
  describe(`ONNX runner over HTTP on ${store.name}`, () => {
    let service: MlService;
    let crashing: MlService;
    const pool = new OnnxWorkerPool({ size: 1, workerUrl: crashingWorker });
    before(async () => {
      service = await openMlService(store, createRunner(2));
      crashing = await openMlService(store, new OnnxModelRunner({ inputColumns: FEATURES, executor: pool }));
    });
    after(async () => {
      await service.close();
      await crashing.close();
      await pool.close();
      await store.cleanup();
    });

    test("a trained model is an application/onnx payload behind the bytes placeholder", async () => {
      const configId = await createConfig(service.app, "onnx-model");
      const modelId = await trainedModel(service.app, configId, TRAINING);
      const model = await json(await call(service.app, "GET", `/api/v1/artifacts/${modelId}`), 200);
      const placeholder = (model.data as Json).model as Json;
      assert.equal(placeholder._type, "bytes");
      assert.equal(placeholder._content_type, "application/onnx");
      const download = await call(service.app, "GET", `/api/v1/artifacts/${modelId}/$download`);
      assert.equal(download.headers.get("content-type"), "application/onnx");
      assert.equal((await download.arrayBuffer()).byteLength, placeholder._size);
    });

    test("predictions from the worker pool equal the TypeScript least-squares model's", async () => {
      const configId = await createConfig(service.app, "onnx-predict");
      const modelId = await trainedModel(service.app, configId, TRAINING);
      const artifact = await prediction(service.app, modelId, BASIC_FUTURE);
      const frame = (artifact.data as Json).predictions as { columns: string[]; data: number[][] };
      assert.deepEqual(frame.columns, ["rainfall", "mean_temperature", "sample_0"]);
      let row = 0;
      assertPredictions(artifact, () => tsPredictions[row++]!, 1e-5);
    });

    test("an ONNX model uploaded with $upload?config_id= predicts through $predict", async () => {
      const configId = await createConfig(service.app, "onnx-upload");
      const weights = [0.1, -0.5];
      const bytes = linearRegressionOnnx({ weights, bias: 2 });
      const uploaded = await json(
        await call(service.app, "POST", `/api/v1/artifacts/$upload?config_id=${configId}`, bytes, {
          "content-type": "application/onnx",
        }),
        201,
      );
      const data = uploaded.data as Json;
      assert.deepEqual(Object.keys(data).sort(), ["config_id", "ml_type", "model"]);
      assert.equal(data.ml_type, "trained_model");
      assert.equal(data.config_id, configId);
      assert.equal(uploaded.level, 0);
      const linked = await json<Json[]>(await call(service.app, "GET", `/api/v1/config/${configId}/$artifacts`), 200);
      assert.deepEqual(linked.map((a) => a.id), [uploaded.id]);
      const artifact = await prediction(service.app, String(uploaded.id), BASIC_FUTURE);
      assert.equal(artifact.parent_id, uploaded.id);
      assertPredictions(artifact, ([rainfall, temperature]) => 2 + 0.1 * rainfall! - 0.5 * temperature!, 1e-5);
    });

    test("a worker that crashes mid-job fails only that job, and the next prediction succeeds", async () => {
      const configId = await createConfig(crashing.app, "onnx-crash");
      const upload = await call(
        crashing.app,
        "POST",
        `/api/v1/artifacts/$upload?config_id=${configId}`,
        linearRegressionOnnx({ weights: [0.1, -0.5], bias: 2 }),
        { "content-type": "application/onnx" },
      );
      const modelId = String((await json(upload, 201)).id);
      const crash = await predict(crashing.app, modelId, { columns: FEATURES, data: [[-999, 1]] });
      const record = await finished(crashing.app, String(crash.job_id));
      assert.equal(record.status, "failed");
      assert.match(String(record.error), /ONNX worker crashed: .*simulated worker crash/);
      const artifact = await prediction(crashing.app, modelId, BASIC_FUTURE);
      assertPredictions(artifact, ([rainfall, temperature]) => 2 + 0.1 * rainfall! - 0.5 * temperature!, 1e-5);
      assert.equal(pool.workerCount, 1);
    });
  });
}
