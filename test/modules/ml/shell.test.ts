import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { Type } from "@sinclair/typebox";
import { runner as exampleRunner, ShellConfig } from "../../../examples/ml_shell.ts";
import { ShellModelRunner } from "../../../src/modules/ml/engine/shell-runner.ts";
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
  predict,
  prediction,
  problem,
  running,
  train,
  trainedModel,
  WEATHER_FUTURE,
  WEATHER_TRAINING,
} from "./_support.ts";

const python = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.PYTHON ?? "python3";
const fixtures = fileURLToPath(new URL("./fixtures/", import.meta.url).href);
const fixtureRunner = new ShellModelRunner({
  trainCommand: `${python} "${fixtures}shell_train.py" {config_file} {data_file} {model_file}`,
  predictCommand: `${python} "${fixtures}shell_predict.py" {config_file} {model_file} {future_file} {output_file}`,
  modelFormat: "bin",
});
const MODEL_PREFIX = new Uint8Array([0x00, 0xff, 0xfe, 0x80, ...new TextEncoder().encode("model\r\n")]);
const TRAIN_DIR = new RegExp(`^${join(tmpdir(), "chapkit_ml_train_")}[a-z0-9_]{8}$`);
const PREDICT_DIR = new RegExp(`^${join(tmpdir(), "chapkit_ml_predict_")}[a-z0-9_]{8}$`);
const expected = ([rainfall, temperature, humidity]: number[]): number => formula(rainfall!, temperature!, humidity!);

function pathIn(text: string, prefix: string): string {
  const match = new RegExp(`(${join(tmpdir(), prefix)}[a-z0-9_]{8})`).exec(text);
  assert.ok(match, `no ${prefix} dir in ${text}`);
  return match[1]!;
}

for (const store of testStores()) {
  describe(`ml_shell over HTTP on ${store.name}`, () => {
    let example: MlService;
    let fixture: MlService;
    const markers = mkdtempSync(join(tmpdir(), "chapkit-ml-shell-test-"));
    before(async () => {
      example = await openMlService(store, exampleRunner, { configSchema: ShellConfig });
      fixture = await openMlService(store, fixtureRunner, {
        configSchema: Type.Object({ mode: Type.String() }, { title: "FixtureConfig", additionalProperties: true }),
      });
    });
    after(async () => {
      await example.close();
      await fixture.close();
      await store.cleanup();
      rmSync(markers, { recursive: true, force: true });
    });

    test("the example scripts train and predict the formula from the collection's requests", async () => {
      const configId = await createConfig(example.app, "shell_disease_model", { min_samples: 3, model_type: "linear_regression" });
      const modelId = await trainedModel(example.app, configId, WEATHER_TRAINING);
      const artifact = await prediction(example.app, modelId, WEATHER_FUTURE);
      const data = artifact.data as Json;
      assert.deepEqual(Object.keys(data).sort(), ["config_id", "ml_type", "model_artifact_id", "predictions"]);
      assert.equal(artifact.level, 1);
      assert.equal(artifact.parent_id, modelId);
      assert.deepEqual((data.predictions as Json).columns, ["rainfall", "mean_temperature", "humidity", "sample_0"]);
      assertPredictions(artifact, expected, 1e-6);
    });

    test("a script that fails makes the example's job fail with its last stderr line", async () => {
      const configId = await createConfig(example.app, "missing-humidity");
      const data = { columns: ["rainfall", "mean_temperature", "disease_cases"], data: [[1, 2, 3], [2, 3, 4], [3, 5, 5]] };
      const record = await finished(example.app, String((await train(example.app, configId, data)).job_id));
      assert.equal(record.status, "failed");
      assert.match(String(record.error), /^ERROR: Training failed: /);
      assert.match(String(record.error_traceback), /Training script failed with exit code 1: /);
    });

    test("the model artifact renders the binary placeholder", async () => {
      const configId = await createConfig(fixture.app, "placeholder", { mode: "ok" });
      const modelId = await trainedModel(fixture.app, configId, WEATHER_TRAINING);
      const model = await json(await call(fixture.app, "GET", `/api/v1/artifacts/${modelId}`), 200);
      const data = model.data as Json;
      assert.deepEqual(Object.keys(data).sort(), ["config_id", "ml_type", "model"]);
      const placeholder = data.model as Json;
      const size = placeholder._size as number;
      assert.deepEqual(placeholder, {
        _type: "bytes",
        _module: "chapkit",
        _repr: `<${size} bytes, application/octet-stream>`,
        _serialization_error: "Binary content: download it from $download.",
        _size: size,
        _content_type: "application/octet-stream",
      });
    });

    test("$download returns the model file's bytes verbatim", async () => {
      const configId = await createConfig(fixture.app, "download", { mode: "ok" });
      const modelId = await trainedModel(fixture.app, configId, WEATHER_TRAINING);
      const response = await call(fixture.app, "GET", `/api/v1/artifacts/${modelId}/$download`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), "application/octet-stream");
      const bytes = new Uint8Array(await response.arrayBuffer());
      assert.deepEqual(bytes.slice(0, MODEL_PREFIX.length), MODEL_PREFIX);
      assert.match(new TextDecoder().decode(bytes.slice(MODEL_PREFIX.length)), TRAIN_DIR);
    });

    test("predict gets the model file back byte for byte", async () => {
      const configId = await createConfig(fixture.app, "roundtrip", { mode: "ok" });
      const modelId = await trainedModel(fixture.app, configId, WEATHER_TRAINING);
      const stored = new Uint8Array(await (await call(fixture.app, "GET", `/api/v1/artifacts/${modelId}/$download`)).arrayBuffer());
      const artifact = await prediction(fixture.app, modelId, WEATHER_FUTURE);
      const frame = (artifact.data as Json).predictions as { columns: string[]; data: unknown[][] };
      assert.deepEqual(frame.columns, ["rainfall", "mean_temperature", "humidity", "sample_0", "model_hex", "cwd"]);
      const hex = Array.from(stored, (b) => b.toString(16).padStart(2, "0")).join("");
      for (const row of frame.data) {
        assert.equal(row[3], stored.length);
        assert.equal(row[4], `hex:${hex}`);
      }
    });

    test("the temp dirs of a training and a prediction are under the system temp dir and gone afterwards", async () => {
      const configId = await createConfig(fixture.app, "temp-dirs", { mode: "ok" });
      const modelId = await trainedModel(fixture.app, configId, WEATHER_TRAINING);
      const bytes = new Uint8Array(await (await call(fixture.app, "GET", `/api/v1/artifacts/${modelId}/$download`)).arrayBuffer());
      const trainDir = new TextDecoder().decode(bytes.slice(MODEL_PREFIX.length));
      const artifact = await prediction(fixture.app, modelId, WEATHER_FUTURE);
      const predictDir = String((((artifact.data as Json).predictions as Json).data as unknown[][])[0]![5]);
      assert.match(trainDir, TRAIN_DIR);
      assert.match(predictDir, PREDICT_DIR);
      assert.equal(existsSync(trainDir), false);
      assert.equal(existsSync(predictDir), false);
    });

    test("a training script exiting 1 fails the job with Training script failed with exit code 1", async () => {
      const configId = await createConfig(fixture.app, "train-exit", { mode: "fail" });
      const answer = await train(fixture.app, configId, WEATHER_TRAINING);
      const record = await finished(fixture.app, String(answer.job_id));
      assert.equal(record.status, "failed");
      assert.match(String(record.error), /^RuntimeError: Training script failed with exit code 1: boom in /);
      assert.equal(existsSync(pathIn(String(record.error), "chapkit_ml_train_")), false);
      await problem(await call(fixture.app, "GET", `/api/v1/artifacts/${answer.model_artifact_id}`), 404);
    });

    test("a script's multi-line stderr leaves its last line as the job error and all of it in the traceback", async () => {
      const configId = await createConfig(fixture.app, "train-lines", { mode: "fail-lines" });
      const record = await finished(fixture.app, String((await train(fixture.app, configId, WEATHER_TRAINING)).job_id));
      assert.equal(record.error, "ERROR: Training failed: \"['humidity'] not in index\"");
      assert.match(String(record.error_traceback), /Training script failed with exit code 1: Traceback/);
    });

    test("a training script that writes no model fails the job with did not create model file", async () => {
      const configId = await createConfig(fixture.app, "train-silent", { mode: "silent" });
      const record = await finished(fixture.app, String((await train(fixture.app, configId, WEATHER_TRAINING)).job_id));
      assert.equal(record.status, "failed");
      assert.match(String(record.error), /^RuntimeError: Training script did not create model file at \S+\/model\.bin$/);
      assert.equal(existsSync(pathIn(String(record.error), "chapkit_ml_train_")), false);
    });

    test("a prediction script exiting 2 fails the job with Prediction script failed with exit code 2", async () => {
      const configId = await createConfig(fixture.app, "predict-exit", { mode: "predict-fail" });
      const modelId = await trainedModel(fixture.app, configId, WEATHER_TRAINING);
      const answer = await predict(fixture.app, modelId, WEATHER_FUTURE);
      const record = await finished(fixture.app, String(answer.job_id));
      assert.equal(record.status, "failed");
      assert.match(String(record.error), /^RuntimeError: Prediction script failed with exit code 2: bad input in /);
      assert.equal(existsSync(pathIn(String(record.error), "chapkit_ml_predict_")), false);
      await problem(await call(fixture.app, "GET", `/api/v1/artifacts/${answer.prediction_artifact_id}`), 404);
    });

    test("a prediction script that writes no output fails the job with did not create output file", async () => {
      const configId = await createConfig(fixture.app, "predict-silent", { mode: "predict-silent" });
      const modelId = await trainedModel(fixture.app, configId, WEATHER_TRAINING);
      const record = await finished(fixture.app, String((await predict(fixture.app, modelId, WEATHER_FUTURE)).job_id));
      assert.equal(record.status, "failed");
      assert.match(
        String(record.error),
        /^RuntimeError: Prediction script did not create output file at \S+\/predictions\.csv$/,
      );
      assert.equal(existsSync(pathIn(String(record.error), "chapkit_ml_predict_")), false);
    });

    test("cancelling a running shell training ends it canceled and removes its temp dir", async () => {
      const marker = join(markers, `${store.kind}-${Date.now()}`);
      const configId = await createConfig(fixture.app, "train-cancel", { mode: "sleep", marker });
      const answer = await train(fixture.app, configId, WEATHER_TRAINING);
      await running(fixture.app, String(answer.job_id));
      const deadline = Date.now() + 30_000;
      while (!existsSync(marker) || readFileSync(marker, "utf8") === "") {
        assert.ok(Date.now() < deadline, "the script never started");
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const dir = readFileSync(marker, "utf8");
      assert.match(dir, TRAIN_DIR);
      await json(await call(fixture.app, "POST", `/api/v1/jobs/${answer.job_id}/$cancel`), 200);
      const record = await finished(fixture.app, String(answer.job_id));
      assert.equal(record.status, "canceled");
      const gone = Date.now() + 30_000;
      while (existsSync(dir)) {
        assert.ok(Date.now() < gone, `${dir} still exists`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    });
  });
}
