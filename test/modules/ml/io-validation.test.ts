// Input/output validation: a model's signature is checked on $train, $predict and KServe V2
// inference before any job starts, and a runner's predictions before they are stored.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { functionalRunner } from "../../../src/modules/ml/engine/functional-runner.ts";
import type { ModelSignature } from "../../../src/modules/ml/engine/io-schema.ts";
import { fitLinearRegression, type LinearModel, predictLinear } from "../../../src/modules/ml/engine/linear-regression.ts";
import { postgresStore, sqliteFileStore } from "../../_support/stores.ts";
import {
  assertPredictions,
  BASIC_FUTURE,
  BASIC_TRAINING,
  call,
  createConfig,
  finished,
  formula,
  json,
  type Json,
  type MlService,
  openMlService,
  problem,
} from "./_support.ts";

const INVALID_INPUT = "urn:chapkit:error:invalid-model-input";
const FEATURES = ["rainfall", "mean_temperature"];

const SIGNATURE: ModelSignature = {
  inputs: [{ name: "rainfall", type: "number", minimum: 0 }, { name: "mean_temperature", type: "number" }],
  targets: [{ name: "disease_cases", type: "number" }],
  outputs: [{ name: "sample_0", type: "number" }],
};

// Linear regression; a config with `output: "drop"` or `"text"` makes predictions break the signature.
const runner = functionalRunner<Record<string, unknown>, LinearModel>({
  signature: SIGNATURE,
  onTrain: ({ data }) => fitLinearRegression(data, { features: FEATURES, target: "disease_cases" }),
  onPredict: ({ config, model, future }) => {
    if (config.output === "drop") return future;
    if (config.output === "text") return future.withColumn("sample_0", future.values("rainfall").map(() => "high"));
    return future.withColumn("sample_0", predictLinear(model, future));
  },
});

async function jobCount(app: MlService["app"]): Promise<number> {
  const jobs = await json<unknown[]>(await call(app, "GET", "/api/v1/jobs"), 200);
  return jobs.length;
}

for (const store of [sqliteFileStore(), postgresStore()]) {
  describe(`model input/output validation on ${store.name}`, () => {
    let service: MlService;
    let configId: string;
    let modelArtifactId: string;
    before(async () => {
      service = await openMlService(store, runner);
      configId = await createConfig(service.app, "signed");
      const answer = await json(await call(service.app, "POST", "/api/v1/ml/$train", { config_id: configId, data: BASIC_TRAINING, model: "signed" }), 202);
      assert.equal((await finished(service.app, String(answer.job_id))).status, "completed");
      modelArtifactId = String(answer.model_artifact_id);
      await json(await call(service.app, "PUT", "/api/v1/models/signed/aliases/production", { version: "1.0.0" }), 200);
    });
    after(async () => {
      await service.close();
      await store.cleanup();
    });

    test("a $train whose data breaks the signature is a 422 listing every offending column and a row sample, and starts no job", async () => {
      const before = await jobCount(service.app);
      const data = { columns: ["rainfall", "disease_cases"], data: [[100, 3], [-5, 2], ["heavy", 1]] };
      const body = await problem(await call(service.app, "POST", "/api/v1/ml/$train", { config_id: configId, data }), 422, INVALID_INPUT);
      assert.deepEqual((body.columns as Json[]).map((c) => [c.column, c.problem, c.rows]), [
        ["rainfall", "range", [1]],
        ["rainfall", "type", [2]],
        ["mean_temperature", "missing", []],
      ]);
      assert.deepEqual(body.sample, [
        { row: 1, values: { rainfall: -5, disease_cases: 2 } },
        { row: 2, values: { rainfall: "heavy", disease_cases: 1 } },
      ]);
      assert.match(String(body.detail), /^3 columns of data do not match the model's signature/);
      assert.equal(await jobCount(service.app), before);
    });

    test("a $train without its target column is refused before the job starts", async () => {
      const data = { columns: FEATURES, data: [[100, 25]] };
      const body = await problem(await call(service.app, "POST", "/api/v1/ml/$train", { config_id: configId, data }), 422, INVALID_INPUT);
      assert.deepEqual((body.columns as Json[]).map((c) => [c.column, c.problem]), [["disease_cases", "missing"]]);
    });

    test("a $predict whose future breaks the signature is a 422 (by artifact id and by model name)", async () => {
      const future = { columns: FEATURES, data: [[110, 26], [null, 28]] };
      for (const target of [{ model_artifact_id: modelArtifactId }, { model: "signed@production" }]) {
        const before = await jobCount(service.app);
        const body = await problem(await call(service.app, "POST", "/api/v1/ml/$predict", { ...target, future }), 422, INVALID_INPUT);
        assert.deepEqual((body.columns as Json[]).map((c) => [c.column, c.problem, c.count, c.values]), [["rainfall", "null", 1, [null]]]);
        assert.deepEqual((body.errors as Json[]).map((e) => (e.loc as string[]).join(".")), ["body.future.columns.rainfall"]);
        assert.equal(await jobCount(service.app), before);
      }
    });

    test("a $predict-stream whose future breaks the signature is a 422 before the first row", async () => {
      const future = { columns: ["rainfall"], data: [[110]] };
      const body = await problem(await call(service.app, "POST", "/api/v1/ml/$predict-stream", { model: "signed", future }), 422, INVALID_INPUT);
      assert.deepEqual((body.columns as Json[]).map((c) => [c.column, c.problem]), [["mean_temperature", "missing"]]);
    });

    test("a valid $predict predicts as before", async () => {
      const answer = await json(await call(service.app, "POST", "/api/v1/ml/$predict", { model: "signed", future: BASIC_FUTURE }), 202);
      assert.equal((await finished(service.app, String(answer.job_id))).status, "completed");
      const artifact = await json(await call(service.app, "GET", `/api/v1/artifacts/${answer.prediction_artifact_id}`), 200);
      assertPredictions(artifact, ([r, t]) => formula(r!, t!));
    });

    test("the signature is stored with the trained model", async () => {
      const artifact = await json(await call(service.app, "GET", `/api/v1/artifacts/${modelArtifactId}`), 200);
      assert.deepEqual((artifact.data as Json).signature, SIGNATURE);
    });

    test("a $train may declare its own signature, which its model's predictions are checked against", async () => {
      const signature = { ...SIGNATURE, inputs: [...SIGNATURE.inputs, { name: "humidity", nullable: true }], extra_inputs: "forbid" };
      const data = { ...BASIC_TRAINING, columns: [...BASIC_TRAINING.columns, "humidity"], data: BASIC_TRAINING.data.map((row) => [...row, 50]) };
      const answer = await json(await call(service.app, "POST", "/api/v1/ml/$train", { config_id: configId, data, signature }), 202);
      assert.equal((await finished(service.app, String(answer.job_id))).status, "completed");
      const future = { columns: [...FEATURES, "location"], data: [[110, 26, "x"]] };
      const body = await problem(
        await call(service.app, "POST", "/api/v1/ml/$predict", { model_artifact_id: answer.model_artifact_id, future }),
        422,
        INVALID_INPUT,
      );
      assert.deepEqual((body.columns as Json[]).map((c) => [c.column, c.problem]), [["humidity", "missing"], ["location", "unexpected"]]);
    });

    test("predictions that break the declared outputs fail the job and store nothing", async () => {
      for (const [output, message] of [["drop", /sample_0 \(missing\)/], ["text", /sample_0 \(type: 4 rows, expected number/]] as const) {
        const config = await createConfig(service.app, `broken-${output}`, { output });
        const trained = await json(await call(service.app, "POST", "/api/v1/ml/$train", { config_id: config, data: BASIC_TRAINING }), 202);
        assert.equal((await finished(service.app, String(trained.job_id))).status, "completed");
        const answer = await json(await call(service.app, "POST", "/api/v1/ml/$predict", { model_artifact_id: trained.model_artifact_id, future: BASIC_FUTURE }), 202);
        const record = await finished(service.app, String(answer.job_id));
        assert.equal(record.status, "failed");
        assert.match(String(record.error), /^ModelOutputError: The predictions do not match the model's declared outputs: /);
        assert.match(String(record.error), message);
        assert.equal((await call(service.app, "GET", `/api/v1/artifacts/${answer.prediction_artifact_id}`)).status, 404);
      }
    });

    test("KServe V2 metadata lists the version's declared inputs and outputs with their types", async () => {
      const metadata = await json(await call(service.app, "GET", "/v2/models/signed"), 200);
      assert.deepEqual(metadata.inputs, [
        { name: "rainfall", datatype: "FP64", shape: [-1] },
        { name: "mean_temperature", datatype: "FP64", shape: [-1] },
      ]);
      assert.deepEqual(metadata.outputs, [{ name: "sample_0", datatype: "FP64", shape: [-1] }]);
    });

    test("KServe V2 inputs that break the signature are a 422 problem that V2 clients read as an error", async () => {
      const body = { inputs: [{ name: "rainfall", shape: [2], datatype: "FP64", data: [100, -1] }, { name: "mean_temperature", shape: [2], datatype: "FP64", data: [25, 26] }] };
      const answer = await problem(await call(service.app, "POST", "/v2/models/signed/infer", body), 422, INVALID_INPUT);
      assert.deepEqual((answer.columns as Json[]).map((c) => [c.column, c.problem, c.rows]), [["rainfall", "range", [1]]]);
      assert.equal(answer.error, answer.detail);
      assert.deepEqual(answer.sample, [{ row: 1, values: { rainfall: -1, mean_temperature: 26 } }]);
      const ok = await json(await call(service.app, "POST", "/v2/models/signed/infer", { inputs: [{ ...body.inputs[0]!, data: [100, 1] }, body.inputs[1]!] }), 200);
      assert.equal((ok.outputs as Json[])[0]!.name, "sample_0");
    });
  });
}
