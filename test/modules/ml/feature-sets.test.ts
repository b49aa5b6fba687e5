// Feature sets: computed at train time, stored with the model version, replayed the same way by
// $predict and KServe V2 inference (no training/serving skew).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { FeatureCatalog } from "../../../src/modules/ml/engine/features.ts";
import { functionalRunner } from "../../../src/modules/ml/engine/functional-runner.ts";
import { fitLinearRegression, type LinearModel, predictLinear } from "../../../src/modules/ml/engine/linear-regression.ts";
import { postgresStore, sqliteFileStore } from "../../_support/stores.ts";
import { assertClose, call, createConfig, finished, json, type Json, type MlService, openMlService, problem } from "./_support.ts";

const features = new FeatureCatalog()
  .function("log1p", ({ number, inputs }) => number(inputs[0]!).map(Math.log1p))
  .function("square", ({ number, inputs }) => number(inputs[0]!).map((x) => x * x))
  .define({ name: "weather", version: 1, features: [{ name: "log_rain", fn: "log1p", inputs: ["rainfall"] }] })
  .define({
    name: "weather",
    version: 2,
    features: [{ name: "log_rain", fn: "log1p", inputs: ["rainfall"] }, { name: "temp_sq", fn: "square", inputs: ["mean_temperature"] }],
  });

/** The exact target over the computed features. */
const target = (rain: number, temp: number): number => 1 + 2 * Math.log1p(rain) - 0.01 * temp * temp;

const TRAINING = {
  columns: ["rainfall", "mean_temperature", "disease_cases"],
  data: [[100, 25], [85, 27], [120, 24], [95, 26], [110, 29], [75, 28], [130, 21], [88, 22]].map(([r, t]) => [r!, t!, target(r!, t!)]),
};
const FUTURE = { columns: ["rainfall", "mean_temperature"], data: [[105, 26], [90, 23], [60, 30]] };

// Fits on the config's `features` (computed columns); records which columns predict saw.
let seenAtPredict: readonly string[] = [];
const runner = functionalRunner<{ features?: string[] }, LinearModel>({
  onTrain: ({ data, config }) => fitLinearRegression(data, { features: config.features ?? ["log_rain", "temp_sq"], target: "disease_cases" }),
  onPredict: ({ model, future }) => {
    seenAtPredict = future.columns;
    return future.withColumn("sample_0", predictLinear(model, future));
  },
});

for (const store of [sqliteFileStore(), postgresStore()]) {
  describe(`feature sets on ${store.name}`, () => {
    let service: MlService;
    let trained: Json;
    before(async () => {
      service = await openMlService(store, runner, { features });
      const configId = await createConfig(service.app, "featured");
      trained = await json(await call(service.app, "POST", "/api/v1/ml/$train", {
        config_id: configId,
        data: TRAINING,
        model: "featured",
        feature_set: "weather",
      }), 202);
      const record = await finished(service.app, String(trained.job_id));
      assert.equal(record.status, "completed", record.error ?? "");
    });
    after(async () => {
      await service.close();
      await store.cleanup();
    });

    test("the model version keeps the feature set it was trained with: definitions, raw inputs, code hashes", async () => {
      const artifact = await json(await call(service.app, "GET", `/api/v1/artifacts/${trained.model_artifact_id}`), 200);
      const stored = (artifact.data as Json).feature_set as Json;
      assert.deepEqual([stored.name, stored.version, stored.inputs], ["weather", 2, ["rainfall", "mean_temperature"]]);
      assert.deepEqual((stored.features as Json[]).map((f) => f.name), ["log_rain", "temp_sq"]);
      for (const feature of stored.features as Json[]) assert.match(String(feature.code), /^sha256:/);
      const version = await json(await call(service.app, "GET", "/api/v1/models/featured/versions/1.0.0"), 200);
      assert.equal((version.params as Json).feature_set, "weather@2");
    });

    test("$predict computes the features from raw inputs exactly as training did", async () => {
      const answer = await json(await call(service.app, "POST", "/api/v1/ml/$predict", { model: "featured", future: FUTURE }), 202);
      const record = await finished(service.app, String(answer.job_id));
      assert.equal(record.status, "completed", record.error ?? "");
      assert.deepEqual(seenAtPredict, ["rainfall", "mean_temperature", "log_rain", "temp_sq"]);
      const artifact = await json(await call(service.app, "GET", `/api/v1/artifacts/${answer.prediction_artifact_id}`), 200);
      const predictions = (artifact.data as Json).predictions as { columns: string[]; data: number[][] };
      const at = predictions.columns.indexOf("sample_0");
      FUTURE.data.forEach(([r, t], i) => assertClose(predictions.data[i]![at], target(r!, t!), 1e-6));
    });

    test("KServe V2 inference on raw tensors gives the same predictions as $predict", async () => {
      const body = {
        inputs: [
          { name: "rainfall", shape: [3], datatype: "FP64", data: FUTURE.data.map((row) => row[0]) },
          { name: "mean_temperature", shape: [3], datatype: "FP64", data: FUTURE.data.map((row) => row[1]) },
        ],
        outputs: [{ name: "sample_0" }],
      };
      const answer = await json(await call(service.app, "POST", "/v2/models/featured/infer", body), 200);
      const values = (answer.outputs as Json[])[0]!.data as number[];
      FUTURE.data.forEach(([r, t], i) => assertClose(values[i], target(r!, t!), 1e-6));
    });

    test("$predict-stream computes the features too", async () => {
      const response = await call(service.app, "POST", "/api/v1/ml/$predict-stream", { model: "featured", future: FUTURE });
      assert.equal(response.status, 200);
      const rows = (await response.text()).trim().split("\n").map((line) => JSON.parse(line) as Json);
      FUTURE.data.forEach(([r, t], i) => assertClose(rows[i]!.sample_0, target(r!, t!), 1e-6));
    });

    test("KServe V2 metadata lists the raw inputs the feature set reads, and names the set", async () => {
      const metadata = await json(await call(service.app, "GET", "/v2/models/featured"), 200);
      assert.deepEqual((metadata.inputs as Json[]).map((i) => [i.name, i.datatype]), [["rainfall", "FP64"], ["mean_temperature", "FP64"]]);
      assert.equal((metadata.parameters as Json).feature_set, "weather@2");
    });

    test("a prediction input without a raw column a feature needs is a 422 before any job", async () => {
      const body = await problem(
        await call(service.app, "POST", "/api/v1/ml/$predict", { model: "featured", future: { columns: ["rainfall"], data: [[1]] } }),
        422,
        "urn:chapkit:error:invalid-model-input",
      );
      assert.deepEqual((body.columns as Json[]).map((c) => [c.column, c.problem]), [["mean_temperature", "missing"]]);
    });

    test("an older feature set version is kept by the model trained with it", async () => {
      const configId = await createConfig(service.app, "featured-v1", { features: ["log_rain", "mean_temperature"] });
      const answer = await json(await call(service.app, "POST", "/api/v1/ml/$train", { config_id: configId, data: TRAINING, feature_set: "weather@1" }), 202);
      assert.equal((await finished(service.app, String(answer.job_id))).status, "completed");
      const artifact = await json(await call(service.app, "GET", `/api/v1/artifacts/${answer.model_artifact_id}`), 200);
      assert.equal(((artifact.data as Json).feature_set as Json).version, 1);
      const predicted = await json(await call(service.app, "POST", "/api/v1/ml/$predict", { model_artifact_id: answer.model_artifact_id, future: FUTURE }), 202);
      assert.equal((await finished(service.app, String(predicted.job_id))).status, "completed");
      assert.deepEqual(seenAtPredict, ["rainfall", "mean_temperature", "log_rain"]);
    });

    test("the declared feature sets are listed, and one is read by name or name@version", async () => {
      const list = await json<Json[]>(await call(service.app, "GET", "/api/v1/ml/feature-sets"), 200);
      assert.deepEqual(list.map((s) => `${s.name}@${s.version}`), ["weather@2", "weather@1"]);
      const latest = await json(await call(service.app, "GET", "/api/v1/ml/feature-sets/weather"), 200);
      assert.deepEqual([latest.version, latest.inputs], [2, ["rainfall", "mean_temperature"]]);
      const artifact = await json(await call(service.app, "GET", `/api/v1/artifacts/${trained.model_artifact_id}`), 200);
      assert.deepEqual(latest, (artifact.data as Json).feature_set);
      assert.equal((await json(await call(service.app, "GET", "/api/v1/ml/feature-sets/weather@1"), 200)).version, 1);
      await problem(await call(service.app, "GET", "/api/v1/ml/feature-sets/weather@9"), 404, "urn:chapkit:error:not-found");
    });

    test("an unknown feature set or one missing from the training data is refused before the job starts", async () => {
      const configId = await createConfig(service.app, "unknown-fs");
      const unknown = await problem(
        await call(service.app, "POST", "/api/v1/ml/$train", { config_id: configId, data: TRAINING, feature_set: "climate" }),
        422,
        "urn:chapkit:error:validation-failed",
      );
      assert.match(JSON.stringify(unknown.errors), /Unknown feature set \\"climate\\" \(known: weather@2, weather@1\)/);
      const data = { columns: ["mean_temperature", "disease_cases"], data: [[20, 1]] };
      const missing = await problem(
        await call(service.app, "POST", "/api/v1/ml/$train", { config_id: configId, data, feature_set: "weather@2" }),
        422,
        "urn:chapkit:error:invalid-model-input",
      );
      assert.deepEqual((missing.columns as Json[]).map((c) => c.column), ["rainfall"]);
    });
  });
}
