import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { WeatherConfig, WeatherRunner } from "../../../examples/ml_class.ts";
import { testStores } from "../../_support/stores.ts";
import {
  assertPredictions,
  call,
  createConfig,
  finished,
  formula,
  json,
  type Json,
  type MlService,
  openMlService,
  prediction,
  train,
  trainedModel,
  WEATHER_FUTURE,
  WEATHER_TRAINING,
} from "./_support.ts";

const expected = ([rainfall, temperature, humidity]: number[]): number => formula(rainfall!, temperature!, humidity!);

for (const store of testStores()) {
  describe(`ml_class over HTTP on ${store.name}`, () => {
    let service: MlService;
    before(async () => {
      service = await openMlService(store, new WeatherRunner(), { configSchema: WeatherConfig });
    });
    after(async () => {
      await service.close();
      await store.cleanup();
    });

    test("a config created with empty data stores the schema defaults", async () => {
      const id = await createConfig(service.app, "defaults");
      const config = await json(await call(service.app, "GET", `/api/v1/config/${id}`), 200);
      assert.deepEqual(config.data, { min_samples: 5, normalize_features: true });
    });

    test("too little data fails the job with Insufficient training data: 2 < 10", async () => {
      const configId = await createConfig(service.app, "insufficient", { min_samples: 10 });
      const answer = await train(service.app, configId, { ...WEATHER_TRAINING, data: WEATHER_TRAINING.data.slice(0, 2) });
      const record = await finished(service.app, String(answer.job_id));
      assert.equal(record.status, "failed");
      assert.equal(record.error, "ValueError: Insufficient training data: 2 < 10");
      assert.equal(record.artifact_id, null);
    });

    test("with normalized features the predictions equal the formula", async () => {
      const configId = await createConfig(service.app, "normalized", { min_samples: 5, normalize_features: true });
      const modelId = await trainedModel(service.app, configId, WEATHER_TRAINING);
      const model = await json(await call(service.app, "GET", `/api/v1/artifacts/${modelId}`), 200);
      assert.notEqual(((model.data as Json).model as Json).scaler, null);
      assertPredictions(await prediction(service.app, modelId, WEATHER_FUTURE), expected);
    });

    test("without normalization the predictions equal the formula too", async () => {
      const configId = await createConfig(service.app, "raw", { min_samples: 3, normalize_features: false });
      const modelId = await trainedModel(service.app, configId, WEATHER_TRAINING);
      const model = await json(await call(service.app, "GET", `/api/v1/artifacts/${modelId}`), 200);
      assert.equal(((model.data as Json).model as Json).scaler, null);
      assertPredictions(await prediction(service.app, modelId, WEATHER_FUTURE), expected);
    });

    test("a prediction frame keeps the future columns and adds sample_0", async () => {
      const configId = await createConfig(service.app, "columns");
      const modelId = await trainedModel(service.app, configId, WEATHER_TRAINING);
      const artifact = await prediction(service.app, modelId, WEATHER_FUTURE);
      const frame = (artifact.data as Json).predictions as { columns: string[]; data: number[][] };
      assert.deepEqual(frame.columns, ["rainfall", "mean_temperature", "humidity", "sample_0"]);
      assert.deepEqual(frame.data.map((row) => row.slice(0, 3)), WEATHER_FUTURE.data);
    });
  });
}
