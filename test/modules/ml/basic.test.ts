import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { functionalRunner } from "../../../src/modules/ml/engine/functional-runner.ts";
import type { ModelRunner } from "../../../src/modules/ml/engine/runner.ts";
import { runner as basicRunner } from "../../../examples/ml_basic.ts";
import { testStores } from "../../_support/stores.ts";
import {
  assertPredictions,
  BASIC_FUTURE,
  BASIC_TRAINING,
  call,
  createConfig,
  finished,
  formula,
  gate,
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
} from "./_support.ts";

const VALIDATION = "urn:chapkit:error:validation-failed";
const NOT_FOUND = "urn:chapkit:error:not-found";

// The ml_basic runner, except that a config with `hold` keeps training open:
// "abort" until the job is cancelled, "gate" until the test opens `held`.
let held = gate();
const runner: ModelRunner = functionalRunner<Record<string, unknown>, unknown>({
  async onTrain(input) {
    if (input.config.hold === "abort") {
      await new Promise((_, reject) => input.signal.addEventListener("abort", () => reject(input.signal.reason)));
    }
    if (input.config.hold === "gate") await held.promise;
    return basicRunner.train(input).then((model) => (model as { value: unknown }).value);
  },
  onPredict: async (input) => basicRunner.predict({ ...input, model: { value: input.model } }),
});

const locs = (body: Json): string[] => (body.errors as { loc: unknown[] }[]).map((e) => e.loc.join("."));

for (const store of testStores()) {
  describe(`ml_basic over HTTP on ${store.name}`, () => {
    let service: MlService;
    before(async () => {
      service = await openMlService(store, runner);
    });
    after(async () => {
      await service.close();
      await store.cleanup();
    });

    test("answers health with the database check", async () => {
      const body = await json(await call(service.app, "GET", "/api/v1/health"), 200);
      assert.deepEqual(body, { status: "healthy", checks: { database: { state: "healthy" } } });
    });

    test("$train answers 202 with the job id, a pre-allocated model id and the message", async () => {
      const configId = await createConfig(service.app, "train-answer");
      const answer = await train(service.app, configId, BASIC_TRAINING);
      assert.deepEqual(Object.keys(answer).sort(), ["job_id", "message", "model_artifact_id"]);
      assert.equal(answer.message, `Training job submitted. Job ID: ${answer.job_id}`);
      assert.notEqual(answer.model_artifact_id, answer.job_id);
      await finished(service.app, String(answer.job_id));
    });

    test("a completed train job points at a level-0 model artifact {ml_type, config_id, model}", async () => {
      const configId = await createConfig(service.app, "model-shape");
      const answer = await train(service.app, configId, BASIC_TRAINING);
      const record = await finished(service.app, String(answer.job_id));
      assert.equal(record.status, "completed");
      assert.equal(record.artifact_id, answer.model_artifact_id);
      assert.equal(record.error, null);
      const model = await json(await call(service.app, "GET", `/api/v1/artifacts/${answer.model_artifact_id}`), 200);
      assert.equal(model.level, 0);
      assert.equal(model.parent_id, null);
      const data = model.data as Json;
      assert.deepEqual(Object.keys(data).sort(), ["config_id", "ml_type", "model"]);
      assert.equal(data.ml_type, "trained_model");
      assert.equal(data.config_id, configId);
      assert.deepEqual(Object.keys(data.model as Json).sort(), ["bias", "features", "weights"]);
    });

    test("the trained model is linked to its config: $config of the model and $artifacts of the config", async () => {
      const configId = await createConfig(service.app, "model-link");
      const modelId = await trainedModel(service.app, configId, BASIC_TRAINING);
      const config = await json(await call(service.app, "GET", `/api/v1/artifacts/${modelId}/$config`), 200);
      assert.equal(config.id, configId);
      const linked = await json<Json[]>(await call(service.app, "GET", `/api/v1/config/${configId}/$artifacts`), 200);
      assert.deepEqual(linked.map((a) => a.id), [modelId]);
    });

    test("a prediction is a level-1 child of the model with exactly ml_type, model_artifact_id, config_id, predictions", async () => {
      const configId = await createConfig(service.app, "prediction-shape");
      const modelId = await trainedModel(service.app, configId, BASIC_TRAINING);
      const answer = await predict(service.app, modelId, BASIC_FUTURE);
      assert.equal(answer.message, `Prediction job submitted. Job ID: ${answer.job_id}`);
      const record = await finished(service.app, String(answer.job_id));
      assert.equal(record.status, "completed");
      assert.equal(record.artifact_id, answer.prediction_artifact_id);
      const artifact = await json(await call(service.app, "GET", `/api/v1/artifacts/${answer.prediction_artifact_id}`), 200);
      assert.equal(artifact.level, 1);
      assert.equal(artifact.parent_id, modelId);
      const data = artifact.data as Json;
      assert.deepEqual(Object.keys(data).sort(), ["config_id", "ml_type", "model_artifact_id", "predictions"]);
      assert.equal(data.ml_type, "prediction");
      assert.equal(data.model_artifact_id, modelId);
      assert.equal(data.config_id, configId);
      const frame = data.predictions as { columns: string[]; data: unknown[][] };
      assert.deepEqual(frame.columns, ["rainfall", "mean_temperature", "sample_0"]);
      assert.deepEqual(frame.data.map((row) => row.slice(0, 2)), BASIC_FUTURE.data);
    });

    test("predictions on exact linear data equal the formula within 1e-6 relative", async () => {
      const configId = await createConfig(service.app, "prediction-values");
      const modelId = await trainedModel(service.app, configId, BASIC_TRAINING);
      const artifact = await prediction(service.app, modelId, BASIC_FUTURE);
      assertPredictions(artifact, ([rainfall, temperature]) => formula(rainfall!, temperature!));
    });

    test("$config of a prediction reaches the model's config through its root", async () => {
      const configId = await createConfig(service.app, "prediction-config", { region: "north" });
      const modelId = await trainedModel(service.app, configId, BASIC_TRAINING);
      const artifact = await prediction(service.app, modelId, BASIC_FUTURE);
      const config = await json(await call(service.app, "GET", `/api/v1/artifacts/${artifact.id}/$config`), 200);
      assert.equal(config.id, configId);
      assert.deepEqual(config.data, { region: "north" });
    });

    test("$tree of the model holds its predictions as leaves, with the config on the root only", async () => {
      const configId = await createConfig(service.app, "tree");
      const modelId = await trainedModel(service.app, configId, BASIC_TRAINING);
      const first = await prediction(service.app, modelId, BASIC_FUTURE);
      const second = await prediction(service.app, modelId, BASIC_FUTURE);
      const tree = await json(await call(service.app, "GET", `/api/v1/artifacts/${modelId}/$tree`), 200);
      assert.equal(tree.id, modelId);
      assert.equal(tree.level, 0);
      assert.equal((tree.config as Json).id, configId);
      const children = tree.children as Json[];
      assert.deepEqual(children.map((c) => c.id).sort(), [first.id, second.id].sort());
      for (const child of children) {
        assert.equal(child.level, 1);
        assert.deepEqual(child.children, []);
        assert.equal(child.config, null);
      }
    });

    test("training one config twice creates two distinct level-0 models, both linked to it", async () => {
      const configId = await createConfig(service.app, "twice");
      const first = await trainedModel(service.app, configId, BASIC_TRAINING);
      const second = await trainedModel(service.app, configId, BASIC_TRAINING);
      assert.notEqual(first, second);
      for (const id of [first, second]) {
        const model = await json(await call(service.app, "GET", `/api/v1/artifacts/${id}`), 200);
        assert.equal(model.level, 0);
      }
      const linked = await json<Json[]>(await call(service.app, "GET", `/api/v1/config/${configId}/$artifacts`), 200);
      assert.deepEqual(linked.map((a) => a.id).sort(), [first, second].sort());
    });

    test("$train with an unknown config is a 404 problem at submission and starts no job", async () => {
      const missing = "01K79YAHJ7BR4E87VVTG8FNBMA";
      const before = await json<Json[]>(await call(service.app, "GET", "/api/v1/jobs"), 200);
      const body = await problem(
        await call(service.app, "POST", "/api/v1/ml/$train", { config_id: missing, data: BASIC_TRAINING }),
        404,
        NOT_FOUND,
      );
      assert.match(String(body.detail), new RegExp(`Config ${missing} not found`));
      assert.equal(body.instance, "/api/v1/ml/$train");
      const afterwards = await json<Json[]>(await call(service.app, "GET", "/api/v1/jobs"), 200);
      assert.equal(afterwards.length, before.length);
    });

    test("$predict with an unknown artifact is a 404 problem at submission", async () => {
      const missing = "01K79YAHJ7BR4E87VVTG8FNBMC";
      const body = await problem(
        await call(service.app, "POST", "/api/v1/ml/$predict", { model_artifact_id: missing, future: BASIC_FUTURE }),
        404,
        NOT_FOUND,
      );
      assert.match(String(body.detail), new RegExp(`Model artifact ${missing} not found`));
      assert.equal(body.instance, "/api/v1/ml/$predict");
    });

    test("$predict with the id of a pre-allocated model whose training has not finished is a 404 problem", async () => {
      const configId = await createConfig(service.app, "not-yet", { hold: "gate" });
      held = gate();
      const answer = await train(service.app, configId, BASIC_TRAINING);
      await running(service.app, String(answer.job_id));
      await problem(
        await call(service.app, "POST", "/api/v1/ml/$predict", {
          model_artifact_id: answer.model_artifact_id,
          future: BASIC_FUTURE,
        }),
        404,
        NOT_FOUND,
      );
      held.open();
      assert.equal((await finished(service.app, String(answer.job_id))).status, "completed");
    });

    test("$predict with an artifact that is not a trained model is a 400 problem at submission", async () => {
      const configId = await createConfig(service.app, "not-a-model");
      const modelId = await trainedModel(service.app, configId, BASIC_TRAINING);
      const predictionArtifact = await prediction(service.app, modelId, BASIC_FUTURE);
      const plain = await json(await call(service.app, "POST", "/api/v1/artifacts", { data: { note: "hand-made" } }), 201);
      for (const id of [predictionArtifact.id, plain.id]) {
        const body = await problem(
          await call(service.app, "POST", "/api/v1/ml/$predict", { model_artifact_id: id, future: BASIC_FUTURE }),
          400,
        );
        assert.match(String(body.detail), new RegExp(`Artifact ${id} is not a trained model`));
      }
    });

    test("a hand-made artifact with ml_type trained_model and a config_id is accepted as a model", async () => {
      const configId = await createConfig(service.app, "hand-made-model");
      const modelId = await trainedModel(service.app, configId, BASIC_TRAINING);
      const fitted = await json(await call(service.app, "GET", `/api/v1/artifacts/${modelId}`), 200);
      const copy = await json(await call(service.app, "POST", "/api/v1/artifacts", { data: fitted.data }), 201);
      const artifact = await prediction(service.app, String(copy.id), BASIC_FUTURE);
      assertPredictions(artifact, ([rainfall, temperature]) => formula(rainfall!, temperature!));
    });

    test("$train bodies that are invalid are 422 problems naming each field", async () => {
      const configId = await createConfig(service.app, "invalid-train");
      const cases: [unknown, string][] = [
        [{}, "body.config_id"],
        [{ config_id: configId }, "body.data"],
        [{ data: BASIC_TRAINING }, "body.config_id"],
        [{ config_id: "not-a-ulid", data: BASIC_TRAINING }, "body.config_id"],
        [{ config_id: configId, data: { columns: [1, 2], data: [] } }, "body.data.columns.0"],
        [{ config_id: configId, data: { columns: ["a"], data: [1] } }, "body.data.data.0"],
      ];
      for (const [body, loc] of cases) {
        const answer = await problem(await call(service.app, "POST", "/api/v1/ml/$train", body), 422, VALIDATION);
        assert.ok(locs(answer).includes(loc), `${JSON.stringify(body)}: ${locs(answer)} lacks ${loc}`);
      }
    });

    test("$predict bodies that are invalid are 422 problems naming each field", async () => {
      const cases: [unknown, string][] = [
        [{}, "body.model_artifact_id"],
        [{ model_artifact_id: "01K79YAHJ7BR4E87VVTG8FNBMC" }, "body.future"],
        [{ future: BASIC_FUTURE }, "body.model_artifact_id"],
        [{ model_artifact_id: "01K79YAHJ7BR4E87VVTG8FNBMC", future: { columns: [true], data: [] } }, "body.future.columns.0"],
        [{ model_artifact_id: "01K79YAHJ7BR4E87VVTG8FNBMC", future: BASIC_FUTURE, historic: { columns: "x" } }, "body.historic"],
      ];
      for (const [body, loc] of cases) {
        const answer = await problem(await call(service.app, "POST", "/api/v1/ml/$predict", body), 422, VALIDATION);
        assert.ok(
          locs(answer).some((l) => l === loc || l.startsWith(`${loc}.`)),
          `${JSON.stringify(body)}: ${locs(answer)} lacks ${loc}`,
        );
      }
    });

    test("an invalid geo FeatureCollection on $train is a 422 problem at body.geo", async () => {
      const configId = await createConfig(service.app, "invalid-geo");
      const body = { config_id: configId, data: BASIC_TRAINING, geo: { type: "FeatureCollection", features: [{ type: "Feature" }] } };
      const answer = await problem(await call(service.app, "POST", "/api/v1/ml/$train", body), 422, VALIDATION);
      assert.ok(locs(answer).some((l) => l.startsWith("body.geo")), String(locs(answer)));
    });

    test("a training frame whose rows do not match its columns fails the job and stores no model", async () => {
      const configId = await createConfig(service.app, "ragged");
      const answer = await train(service.app, configId, { columns: ["rainfall", "mean_temperature", "disease_cases"], data: [[1, 2]] });
      const record = await finished(service.app, String(answer.job_id));
      assert.equal(record.status, "failed");
      assert.match(String(record.error), /Row has 2 values but there are 3 columns/);
      assert.equal(record.artifact_id, null);
      await problem(await call(service.app, "GET", `/api/v1/artifacts/${answer.model_artifact_id}`), 404);
    });

    test("cancelling a running train job ends it canceled and stores no model", async () => {
      const configId = await createConfig(service.app, "cancel", { hold: "abort" });
      const answer = await train(service.app, configId, BASIC_TRAINING);
      await running(service.app, String(answer.job_id));
      const canceled = await json(await call(service.app, "POST", `/api/v1/jobs/${answer.job_id}/$cancel`), 200);
      assert.equal(canceled.status, "canceled");
      const record = await finished(service.app, String(answer.job_id));
      assert.equal(record.status, "canceled");
      assert.equal(record.artifact_id, null);
      await problem(await call(service.app, "GET", `/api/v1/artifacts/${answer.model_artifact_id}`), 404);
    });

    test("a config deleted while its model trains fails the job cleanly and stores no model", async () => {
      const configId = await createConfig(service.app, "deleted-while-training", { hold: "gate" });
      held = gate();
      const answer = await train(service.app, configId, BASIC_TRAINING);
      await running(service.app, String(answer.job_id));
      assert.equal((await call(service.app, "DELETE", `/api/v1/config/${configId}`)).status, 204);
      held.open();
      const record = await finished(service.app, String(answer.job_id));
      assert.equal(record.status, "failed");
      assert.match(String(record.error), new RegExp(`Config (with id )?${configId} not found`));
      assert.equal(record.artifact_id, null);
      await problem(await call(service.app, "GET", `/api/v1/artifacts/${answer.model_artifact_id}`), 404);
    });

    test("predicting with a model whose config was deleted fails the job with Config … not found", async () => {
      const configId = await createConfig(service.app, "deleted-after-training");
      const modelId = await trainedModel(service.app, configId, BASIC_TRAINING);
      assert.equal((await call(service.app, "DELETE", `/api/v1/config/${configId}`)).status, 204);
      await json(await call(service.app, "GET", `/api/v1/artifacts/${modelId}`), 200);
      const answer = await predict(service.app, modelId, BASIC_FUTURE);
      const record = await finished(service.app, String(answer.job_id));
      assert.equal(record.status, "failed");
      assert.equal(record.error, `ValueError: Config ${configId} not found`);
      await problem(await call(service.app, "GET", `/api/v1/artifacts/${answer.prediction_artifact_id}`), 404);
    });
  });
}
