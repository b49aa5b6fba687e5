import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Type } from "@sinclair/typebox";
import { unzipSync } from "fflate";
import {
  ArtifactOut,
  ChapkitJobRecord,
  ConfigOut,
  HealthStatus,
  JobSubmitted,
  MLPredictionArtifactData,
  MLServiceInfo,
  violations,
} from "../../../src/cli/conformance/chap-models.ts";
import type { Driver } from "../../../src/db/driver.ts";
import { functionalRunner } from "../../../src/modules/ml/engine/functional-runner.ts";
import { BaseModelRunner, jsonModel, type ModelRunner, type PredictContext, type TrainContext, type TrainedModel } from "../../../src/modules/ml/engine/runner.ts";
import type { DataFrame } from "../../../src/modules/ml/engine/dataframe.ts";
import { MLServiceBuilder } from "../../../src/service/ml-service-builder.ts";
import type { ServiceApp } from "../../../src/service/lifecycle.ts";
import { testStores } from "../../_support/stores.ts";
import { call, finished, json, type Json, problem } from "./_support.ts";

const INFO = {
  id: "chap-test",
  display_name: "Chap test model",
  description: "Mean of disease cases",
  model_metadata: { author: "Test", author_assessed_status: "yellow" as const, contact_email: "test@example.org" },
  period_type: "monthly" as const,
  min_prediction_periods: 1,
  max_prediction_periods: 12,
};

const meanRunner: ModelRunner = functionalRunner<Record<string, unknown>, { mean: number }>({
  onTrain: ({ data }) => {
    const cases = data.column("disease_cases");
    return { mean: cases.reduce((a, b) => a + b, 0) / cases.length };
  },
  onPredict: ({ model, future }) => future.withColumn("sample_0", new Float64Array(future.rowCount).fill(model.mean)),
});

class MeanClassRunner extends BaseModelRunner {
  async train({ data }: TrainContext): Promise<TrainedModel> {
    const cases = data.column("disease_cases");
    return jsonModel({ mean: cases.reduce((a, b) => a + b, 0) / cases.length });
  }
  async predict({ model, future }: PredictContext): Promise<DataFrame> {
    const { mean } = (model as { value: { mean: number } }).value;
    return future.withColumn("sample_0", new Float64Array(future.rowCount).fill(mean));
  }
}

const TRAINING = {
  columns: ["time_period", "location", "disease_cases", "rainfall"],
  data: [["2024-01", "a", 10, 1.5], ["2024-02", "a", 20, 2.5], ["2024-01", "b", 30, null]],
};
const FUTURE = { columns: ["time_period", "location", "rainfall"], data: [["2024-03", "a", 1.0], ["2024-03", "b", 2.0]] };
const RUN_INFO = { prediction_length: 1, additional_continuous_covariates: [] };
// What chap-core puts in a config's data: its configured-model row, without prediction_periods.
const CHAP_CORE_DATA = { id: 7, name: "mean", model_template_id: 3, user_option_values: {}, archived: false, uses_chapkit: true };

function strict(schema: Parameters<typeof violations>[0], value: unknown, what: string): void {
  assert.deepEqual(violations(schema, value), [], `${what}: ${JSON.stringify(value).slice(0, 400)}`);
}

async function open(driver: Driver, runner: ModelRunner = meanRunner): Promise<ServiceApp> {
  return new MLServiceBuilder({
    info: INFO,
    configSchema: Type.Object({ window: Type.Integer({ default: 2 }) }, { title: "MeanConfig" }),
    runner,
    logging: false,
    profile: "chap",
  }).withDatabase(driver).build();
}

async function trainAndPredict(app: ServiceApp, data: Json = {}): Promise<{ config: Json; training: Json; prediction: Json }> {
  const config = await json(await call(app, "POST", "/api/v1/configs", { name: "run", data: { ...CHAP_CORE_DATA, ...data } }), 201);
  const trained = await json(await call(app, "POST", "/api/v1/ml/$train", { config_id: config.id, data: TRAINING, run_info: RUN_INFO }), 202);
  strict(JobSubmitted, trained, "TrainResponse");
  const trainJob = await finished(app, String(trained.job_id));
  assert.equal(trainJob.status, "completed", String(trainJob.error));
  const predicted = await json(await call(app, "POST", "/api/v1/ml/$predict", {
    artifact_id: trained.artifact_id,
    historic: TRAINING,
    future: FUTURE,
    run_info: RUN_INFO,
  }), 202);
  strict(JobSubmitted, predicted, "PredictResponse");
  const predictJob = await finished(app, String(predicted.job_id));
  assert.equal(predictJob.status, "completed", String(predictJob.error));
  strict(ChapkitJobRecord, predictJob, "ChapkitJobRecord");
  const training = await json(await call(app, "GET", `/api/v1/artifacts/${trained.artifact_id}`), 200);
  const prediction = await json(await call(app, "GET", `/api/v1/artifacts/${predicted.artifact_id}`), 200);
  return { config, training, prediction };
}

for (const store of testStores()) {
  describe(`chap profile on ${store.name}`, () => {
    let driver: Driver;
    let app: ServiceApp;
    before(async () => {
      driver = await store.open();
      app = await open(driver);
    });
    after(async () => {
      await app.chapkit.close();
      await driver.close();
      await store.cleanup();
    });

    test("answers GET /health as servicekit's HealthStatus, healthy", async () => {
      const body = await json(await call(app, "GET", "/health"), 200);
      strict(HealthStatus, body, "HealthStatus");
      assert.deepEqual(body, { status: "healthy", checks: { database: { state: "healthy" } } });
    });

    test("streams the health answer as server-sent events every poll_interval until the client leaves", async () => {
      const response = await call(app, "GET", "/health/$stream?poll_interval=0.02");
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
      const reader = response.body!.getReader();
      let text = "";
      while ((text.match(/^data: /gm) ?? []).length < 2) text += new TextDecoder().decode((await reader.read()).value);
      await reader.cancel();
      const [first] = text.split("\n\n");
      assert.deepEqual(JSON.parse(first!.replace(/^data: /, "")), { status: "healthy", checks: { database: { state: "healthy" } } });
      await problem(await call(app, "GET", "/health/$stream?poll_interval=0"), 422);
    });

    test("answers /api/v1/info with exactly the MLServiceInfo keys in declaration order, nulls included", async () => {
      const body = await json(await call(app, "GET", "/api/v1/info"), 200);
      strict(MLServiceInfo, body, "MLServiceInfo");
      assert.deepEqual(Object.keys(body), [
        "id", "display_name", "version", "description", "model_metadata", "period_type", "min_prediction_periods",
        "max_prediction_periods", "allow_free_additional_continuous_covariates", "required_covariates", "requires_geo",
      ]);
      assert.deepEqual(body.model_metadata, {
        author: "Test", author_note: null, author_assessed_status: "yellow", contact_email: "test@example.org",
        organization: null, organization_logo_url: null, citation_info: null, repository_url: null, documentation_url: null,
      });
      assert.equal(body.id, "chap-test");
      assert.equal(body.version, "1.0.0");
    });

    test("answers the bare config schema on /api/v1/configs/$schema, reserved fields first", async () => {
      const body = await json(await call(app, "GET", "/api/v1/configs/$schema"), 200);
      assert.equal(body.title, "MeanConfig");
      assert.equal(body.type, "object");
      assert.equal(body.additionalProperties, true);
      const properties = body.properties as Record<string, Json>;
      assert.deepEqual(Object.keys(properties), ["prediction_periods", "additional_continuous_covariates", "window"]);
      assert.equal(properties.prediction_periods!.default, 3);
      assert.deepEqual(properties.additional_continuous_covariates!.default, []);
      assert.equal(body.required, undefined);
    });

    test("fills the reserved fields and keeps chap-core's extra keys in a created config", async () => {
      const body = await json(await call(app, "POST", "/api/v1/configs", { name: "__chap_probe_defaults_1__", data: {} }), 201);
      strict(ConfigOut, body, "ConfigOut");
      assert.deepEqual(Object.keys(body), ["id", "created_at", "updated_at", "tags", "name", "data"]);
      assert.deepEqual(body.data, { prediction_periods: 3, additional_continuous_covariates: [], window: 2 });
      assert.deepEqual(body.tags, []);
      const extra = await json(await call(app, "POST", "/api/v1/configs", { name: "extra", data: CHAP_CORE_DATA }), 201);
      assert.deepEqual(extra.data, { prediction_periods: 3, additional_continuous_covariates: [], window: 2, ...CHAP_CORE_DATA });
    });

    test("accepts a duplicate name on /api/v1/configs and refuses it with 409 on /api/v1/config", async () => {
      await json(await call(app, "POST", "/api/v1/configs", { name: "twin", data: {} }), 201);
      await json(await call(app, "POST", "/api/v1/configs", { name: "twin", data: {} }), 201);
      const refused = await problem(await call(app, "POST", "/api/v1/config", { name: "twin", data: {} }), 409, "urn:servicekit:error:conflict");
      assert.equal(refused.detail, "Config name 'twin' already exists");
    });

    test("lists every config as a plain array whose data carries prediction_periods, seed-created ones too", async () => {
      const seed = await json(await call(app, "POST", "/api/v1/config", { name: "seed-made", data: { window: 4 } }), 201);
      assert.equal((seed.data as Json).prediction_periods, undefined);
      const list = await json<Json[]>(await call(app, "GET", "/api/v1/configs"), 200);
      assert.ok(Array.isArray(list) && list.length > 0);
      for (const item of list) strict(ConfigOut, item, "ConfigOut in list");
      const found = list.find((item) => item.id === seed.id)!;
      assert.equal((found.data as Json).prediction_periods, 3);
      const stats = await json(await call(app, "GET", "/api/v1/configs/$stats"), 200);
      assert.deepEqual(stats, { total: list.length });
    });

    test("stores valid tags and refuses bad ones in one 422 naming every problem", async () => {
      const tagged = await json(await call(app, "POST", "/api/v1/configs", { name: "tagged", tags: ["a-1", "b_2"], data: {} }), 201);
      assert.deepEqual(tagged.tags, ["a-1", "b_2"]);
      const body = await problem(await call(app, "POST", "/api/v1/configs", { name: "bad", tags: ["", "x y", "a", "a"], data: {} }), 422);
      const [error] = body.errors as { loc: unknown[]; msg: string; type: string }[];
      assert.deepEqual(error!.loc, ["body", "tags"]);
      assert.equal(error!.type, "value_error");
      assert.match(error!.msg, /must not be empty; .*invalid characters.*; Duplicate tag 'a'/);
    });

    test("stores artifact tags in ArtifactOut order, refuses bad ones, and counts artifacts in $stats", async () => {
      const created = await json(await call(app, "POST", "/api/v1/artifacts", { data: { note: 1 }, tags: ["x"] }), 201);
      assert.deepEqual(Object.keys(created), ["id", "created_at", "updated_at", "tags", "data", "parent_id", "level"]);
      assert.deepEqual(created.tags, ["x"]);
      const kept = await json(await call(app, "PUT", `/api/v1/artifacts/${created.id}`, { data: { note: 2 } }), 200);
      assert.deepEqual(kept.tags, ["x"]);
      await problem(await call(app, "POST", "/api/v1/artifacts", { data: {}, tags: ["bad tag"] }), 422, "urn:servicekit:error:validation-failed");
      const stats = await json(await call(app, "GET", "/api/v1/artifacts/$stats"), 200);
      const all = await json<Json[]>(await call(app, "GET", "/api/v1/artifacts"), 200);
      assert.deepEqual(stats, { total: all.length });
      assert.deepEqual(await json(await call(app, "GET", `/api/v1/artifacts/${created.id}/$metadata`), 200), {});
    });

    test("trains and predicts as chap-core does, with the five-key envelopes and +00:00 timestamps", async () => {
      const { config, training, prediction } = await trainAndPredict(app);
      strict(ArtifactOut, prediction, "ArtifactOut");
      strict(MLPredictionArtifactData, prediction.data, "MLPredictionArtifactData");
      const data = prediction.data as Json;
      const metadata = data.metadata as Json;
      assert.equal(metadata.config_id, config.id);
      assert.match(String(metadata.started_at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/);
      assert.equal(metadata.exit_code, null);
      assert.deepEqual(data.content, {
        columns: ["time_period", "location", "rainfall", "sample_0"],
        data: [["2024-03", "a", 1, 20], ["2024-03", "b", 2, 20]],
      });
      assert.equal(data.content_type, "application/vnd.chapkit.dataframe+json");
      assert.equal(prediction.level, 1);
      assert.equal(prediction.parent_id, training.id);
      const trainingData = training.data as Json;
      assert.deepEqual(Object.keys(trainingData), ["type", "metadata", "content", "content_type", "content_size"]);
      assert.equal(trainingData.type, "ml_training_workspace");
      assert.equal(trainingData.content_type, "application/zip");
      const zip = new Uint8Array(await (await call(app, "GET", `/api/v1/artifacts/${training.id}/$download`)).arrayBuffer());
      assert.equal(zip.byteLength, trainingData.content_size);
      const files = unzipSync(zip);
      assert.deepEqual(Object.keys(files).sort(), ["config.yml", "data.csv", "model.json"]);
      assert.match(new TextDecoder().decode(files["data.csv"]), /^time_period,location,disease_cases,rainfall\r\n2024-01,a,10,1\.5\r\n/);
      assert.match(new TextDecoder().decode(files["config.yml"]), /^prediction_periods: 3\n/);
      const tree = await json(await call(app, "GET", `/api/v1/artifacts/${training.id}/$tree`), 200);
      assert.equal("config" in tree, false);
      const [predictionNode] = tree.children as Json[];
      const [workspaceNode] = predictionNode!.children as Json[];
      assert.equal((workspaceNode!.data as Json).type, "ml_prediction_workspace");
      assert.equal(workspaceNode!.level, 2);
      assert.equal("content" in (workspaceNode!.data as Json), false);
    });

    test("lists artifacts without content and answers $metadata and DataFrame $download as records", async () => {
      const { prediction } = await trainAndPredict(app);
      const list = await json<Json[]>(await call(app, "GET", "/api/v1/artifacts"), 200);
      for (const item of list) assert.equal("content" in (item.data as Json), false);
      const metadata = await json(await call(app, "GET", `/api/v1/artifacts/${prediction.id}/$metadata`), 200);
      assert.deepEqual(metadata, (prediction.data as Json).metadata);
      const download = await call(app, "GET", `/api/v1/artifacts/${prediction.id}/$download`);
      assert.equal(download.headers.get("content-disposition"), `attachment; filename=artifact_${prediction.id}.json`);
      assert.deepEqual(await download.json(), [
        { time_period: "2024-03", location: "a", rainfall: 1, sample_0: 20 },
        { time_period: "2024-03", location: "b", rainfall: 2, sample_0: 20 },
      ]);
    });

    test("fails a training job whose prediction_periods is out of the service's bounds", async () => {
      const config = await json(await call(app, "POST", "/api/v1/configs", { name: "far", data: { prediction_periods: 24 } }), 201);
      const trained = await json(await call(app, "POST", "/api/v1/ml/$train", { config_id: config.id, data: TRAINING }), 202);
      const job = await finished(app, String(trained.job_id));
      assert.equal(job.status, "failed");
      assert.equal(job.error, "ValueError: prediction_periods (24) exceeds the maximum allowed value (12)");
    });

    test("accepts the seed's model_artifact_id on $predict", async () => {
      const { training } = await trainAndPredict(app);
      const predicted = await json(await call(app, "POST", "/api/v1/ml/$predict", { model_artifact_id: training.id, future: FUTURE }), 202);
      assert.equal((await finished(app, String(predicted.job_id))).status, "completed");
    });

    test("reports $validate diagnostics with chapkit's codes", async () => {
      const unknown = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
      const train = await json(await call(app, "POST", "/api/v1/ml/$validate", { type: "train", config_id: unknown, data: { columns: [], data: [] } }), 200);
      assert.equal(train.valid, false);
      assert.deepEqual((train.diagnostics as Json[]).map((d) => d.code), ["config_not_found", "data_empty"]);
      const { training } = await trainAndPredict(app);
      const ok = await json(await call(app, "POST", "/api/v1/ml/$validate", { type: "predict", artifact_id: training.id, historic: TRAINING, future: FUTURE }), 200);
      assert.deepEqual(ok, { valid: true, diagnostics: [] });
      const missing = await json(await call(app, "POST", "/api/v1/ml/$validate", { type: "predict", artifact_id: unknown, historic: TRAINING, future: FUTURE }), 200);
      assert.deepEqual((missing.diagnostics as Json[]).map((d) => d.code), ["training_artifact_not_found"]);
      await problem(await call(app, "POST", "/api/v1/ml/$validate", { type: "predict" }), 422);
    });

    test("generates seeded sample data for training and prediction", async () => {
      const train = await json(await call(app, "GET", "/api/v1/ml/$generate-sample-data?num_locations=2&num_periods=3&seed=7"), 200);
      const again = await json(await call(app, "GET", "/api/v1/ml/$generate-sample-data?num_locations=2&num_periods=3&seed=7"), 200);
      assert.deepEqual(train, again);
      const frame = train.data as { columns: string[]; data: unknown[][] };
      assert.deepEqual(frame.columns.slice(0, 6), ["time_period", "location", "disease_cases", "population", "rainfall", "mean_temperature"]);
      assert.equal(frame.data.length, 6);
      const predict = await json(await call(app, "GET", "/api/v1/ml/$generate-sample-data?kind=predict&num_locations=1&num_periods=2&seed=1"), 200);
      const future = predict.future as { columns: string[]; data: unknown[][] };
      assert.equal(future.data[0]![2], null);
      assert.equal(future.data[0]![0], "2020-03");
    });

    test("deletes a config's linked training artifacts with their trees", async () => {
      const { config, training, prediction } = await trainAndPredict(app);
      assert.equal((await call(app, "DELETE", `/api/v1/configs/${config.id}`)).status, 204);
      await problem(await call(app, "GET", `/api/v1/artifacts/${training.id}`), 404, "urn:servicekit:error:not-found");
      await problem(await call(app, "GET", `/api/v1/artifacts/${prediction.id}`), 404);
    });
  });
}

describe("chap profile with a class runner", () => {
  test("stores the model object itself (no workspace) and predicts from it", async () => {
    const [store] = testStores();
    const driver = await store!.open();
    const app = await open(driver, new MeanClassRunner());
    try {
      const { training, prediction } = await trainAndPredict(app);
      const data = training.data as Json;
      assert.deepEqual(data.content, { mean: 20 });
      assert.equal(data.content_type, "application/json");
      assert.equal(data.content_size, null);
      strict(MLPredictionArtifactData, prediction.data, "MLPredictionArtifactData");
      const tree = await json(await call(app, "GET", `/api/v1/artifacts/${training.id}/$tree`), 200);
      assert.deepEqual(((tree.children as Json[])[0]!.children as Json[]), []);
    } finally {
      await app.chapkit.close();
      await driver.close();
      await store!.cleanup();
    }
  });
});

describe("profile choice", () => {
  test("is seed by default, chap after withRegistration(), and an explicit value wins", () => {
    const options = { info: INFO, configSchema: Type.Object({}), runner: meanRunner };
    assert.equal(new MLServiceBuilder(options).profile, "seed");
    assert.equal(new MLServiceBuilder({ ...options, profile: "chap" }).profile, "chap");
  });
});
