// $explain against a linear model whose exact Shapley values and permutation importance are known:
// disease_cases = 2 + 0.1·rainfall − 0.5·mean_temperature + 0.25·humidity.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { functionalRunner } from "../../../src/modules/ml/engine/functional-runner.ts";
import { fitLinearRegression, type LinearModel, predictLinear } from "../../../src/modules/ml/engine/linear-regression.ts";
import { postgresStore, sqliteFileStore } from "../../_support/stores.ts";
import {
  assertClose,
  call,
  createConfig,
  finished,
  formula,
  json,
  type Json,
  type MlService,
  openMlService,
  problem,
  WEATHER_FUTURE,
  WEATHER_TRAINING,
} from "./_support.ts";

const FEATURES = ["rainfall", "mean_temperature", "humidity"];
const WEIGHTS = [0.1, -0.5, 0.25];

const fit = functionalRunner<Record<string, unknown>, LinearModel>({
  outputColumns: ["sample_0"],
  signature: { inputs: FEATURES.map((name) => ({ name })) },
  onTrain: ({ data }) => fitLinearRegression(data, { features: FEATURES, target: "disease_cases" }),
  onPredict: ({ model, future }) => future.withColumn("sample_0", predictLinear(model, future)),
  linearModel: (model) => model,
});

function backgroundMean(column: number): number {
  return WEATHER_TRAINING.data.reduce((sum, row) => sum + row[column]!, 0) / WEATHER_TRAINING.data.length;
}

for (const store of [sqliteFileStore(), postgresStore()]) {
  describe(`$explain on ${store.name}`, () => {
    let service: MlService;
    let artifactId: string;
    before(async () => {
      service = await openMlService(store, fit);
      const configId = await createConfig(service.app, "weather");
      const answer = await json(await call(service.app, "POST", "/api/v1/ml/$train", { config_id: configId, data: WEATHER_TRAINING, model: "weather" }), 202);
      assert.equal((await finished(service.app, String(answer.job_id))).status, "completed");
      artifactId = String(answer.model_artifact_id);
    });
    after(async () => {
      await service.close();
      await store.cleanup();
    });

    async function explain(body: Json, status = 200): Promise<Json> {
      return await json(await call(service.app, "POST", "/api/v1/ml/$explain", body), status);
    }

    function assertExact(answer: Json): void {
      const explanations = answer.explanations as { row: number; prediction: number; base_value: number; attributions: Record<string, number> }[];
      assert.equal(explanations.length, WEATHER_FUTURE.data.length);
      explanations.forEach((explanation, r) => {
        const x = WEATHER_FUTURE.data[r]!;
        FEATURES.forEach((f, i) => assertClose(explanation.attributions[f], WEIGHTS[i]! * (x[i]! - backgroundMean(i)), 1e-6));
        assertClose(explanation.prediction, formula(x[0]!, x[1]!, x[2]!), 1e-6);
        assertClose(explanation.base_value, formula(backgroundMean(0), backgroundMean(1), backgroundMean(2)), 1e-6);
      });
    }

    test("a linear model is explained exactly: wᵢ·(xᵢ − background mean), adding up to the prediction", async () => {
      const answer = await explain({ model: "weather", rows: WEATHER_FUTURE, background: WEATHER_TRAINING });
      assert.equal(answer.method, "linear");
      assert.deepEqual(answer.model, { name: "weather", version: "1.0.0" });
      assert.deepEqual(answer.features, FEATURES);
      assertExact(answer);
    });

    test("KernelSHAP through the runner gives the same values as the exact method", async () => {
      const answer = await explain({ model_artifact_id: artifactId, rows: WEATHER_FUTURE, background: WEATHER_TRAINING, method: "kernel_shap" });
      assert.equal(answer.method, "kernel_shap");
      assertExact(answer);
    });

    test("permutation importance ranks the features and gives 0 to a column the model ignores", async () => {
      const data = {
        columns: [...WEATHER_TRAINING.columns, "noise"],
        data: WEATHER_TRAINING.data.map((row, i) => [...row, i * 7 % 5]),
      };
      const answer = await explain({
        model: "weather",
        data,
        target: "disease_cases",
        features: [...FEATURES, "noise"],
        metric: "mse",
        repeats: 20,
      });
      const importance = answer.importance as { metric: string; baseline: number; repeats: number; features: { feature: string; importance: number }[] };
      assert.deepEqual([importance.metric, importance.repeats], ["mse", 20]);
      assertClose(importance.baseline, 0, 1e-6);
      const noise = importance.features.find((f) => f.feature === "noise")!;
      assert.equal(noise.importance, 0);
      assert.equal(importance.features.at(-1)!.feature, "noise");
      for (const f of importance.features.slice(0, 3)) assert.ok(f.importance > 0, `${f.feature} matters`);
    });

    test("without a background the data (else the rows) is the background", async () => {
      const answer = await explain({ model: "weather", rows: WEATHER_FUTURE, data: WEATHER_TRAINING, target: "disease_cases" });
      assert.equal(answer.background_rows, WEATHER_TRAINING.data.length);
      assertExact(answer);
    });

    test("bad requests are problems; inputs are checked against the model's signature", async () => {
      const cases: [Json, number, string][] = [
        [{ model: "weather" }, 422, "validation-failed"],
        [{ model: "weather", model_artifact_id: artifactId, rows: WEATHER_FUTURE }, 422, "validation-failed"],
        [{ model: "weather", data: WEATHER_TRAINING }, 422, "validation-failed"],
        [{ model: "nobody", rows: WEATHER_FUTURE }, 404, "not-found"],
        [{ model: "weather", rows: { columns: ["rainfall"], data: [[1]] } }, 422, "invalid-model-input"],
        [{ model: "weather", rows: WEATHER_FUTURE, method: "kernel_shap", features: ["wind"] }, 422, "validation-failed"],
        [{ model: "weather", rows: WEATHER_FUTURE, output: "sample_9", method: "kernel_shap" }, 400, "bad-request"],
        [{ model: "weather", rows: { columns: FEATURES, data: Array.from({ length: 101 }, () => [1, 2, 3]) } }, 422, "validation-failed"],
      ];
      for (const [body, status, type] of cases) {
        await problem(await call(service.app, "POST", "/api/v1/ml/$explain", body), status, `urn:chapkit:error:${type}`);
      }
    });
  });
}

describe("$explain of a runner without coefficients", () => {
  const store = sqliteFileStore();
  let service: MlService;
  before(async () => {
    const { linearModel: _, ...opaque } = fit;
    service = await openMlService(store, opaque);
  });
  after(async () => {
    await service.close();
    await store.cleanup();
  });

  test("auto falls back to KernelSHAP, and asking for the linear method is a 400", async () => {
    const configId = await createConfig(service.app, "opaque");
    const answer = await json(await call(service.app, "POST", "/api/v1/ml/$train", { config_id: configId, data: WEATHER_TRAINING, model: "opaque" }), 202);
    assert.equal((await finished(service.app, String(answer.job_id))).status, "completed");
    const explained = await json(await call(service.app, "POST", "/api/v1/ml/$explain", { model: "opaque", rows: WEATHER_FUTURE, background: WEATHER_TRAINING }), 200);
    assert.equal(explained.method, "kernel_shap");
    const first = (explained.explanations as { attributions: Record<string, number> }[])[0]!;
    assertClose(first.attributions.humidity, 0.25 * (70 - backgroundMean(2)), 1e-6);
    await problem(
      await call(service.app, "POST", "/api/v1/ml/$explain", { model: "opaque", rows: WEATHER_FUTURE, method: "linear" }),
      400,
      "urn:chapkit:error:bad-request",
    );
  });
});
