// Ensembles: a registered version combining other versions (mean, weighted mean, median,
// stacking), served like any version through $predict, $predict-stream and KServe V2.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { functionalRunner } from "../../../src/modules/ml/engine/functional-runner.ts";
import { fitLinearRegression, type LinearModel, predictLinear } from "../../../src/modules/ml/engine/linear-regression.ts";
import { postgresStore, sqliteFileStore } from "../../_support/stores.ts";
import {
  assertClose,
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

// Linear regression on the config's `features` (default both): the members differ by what they see.
const runner = functionalRunner<{ features?: string[] }, LinearModel>({
  onTrain: ({ data, config }) =>
    fitLinearRegression(data, { features: config.features ?? ["rainfall", "mean_temperature"], target: "disease_cases" }),
  onPredict: ({ model, future }) => future.withColumn("sample_0", predictLinear(model, future)),
});

const TENSORS = {
  inputs: [
    { name: "rainfall", shape: [4], datatype: "FP64", data: BASIC_FUTURE.data.map((row) => row[0]) },
    { name: "mean_temperature", shape: [4], datatype: "FP64", data: BASIC_FUTURE.data.map((row) => row[1]) },
  ],
};

for (const store of [sqliteFileStore(), postgresStore()]) {
  describe(`ensembles on ${store.name}`, () => {
    let service: MlService;
    const served: Record<string, number[]> = {};

    async function infer(model: string): Promise<number[]> {
      const answer = await json(await call(service.app, "POST", `/v2/models/${model}/infer`, TENSORS), 200);
      return (answer.outputs as Json[]).find((o) => o.name === "sample_0")!.data as number[];
    }

    async function ensemble(body: Json, status = 201): Promise<Json> {
      return await json(await call(service.app, "POST", "/api/v1/ml/$ensemble", body), status);
    }

    before(async () => {
      service = await openMlService(store, runner);
      for (const [name, features] of [["rain", ["rainfall"]], ["temp", ["mean_temperature"]], ["full", undefined]] as const) {
        const configId = await createConfig(service.app, name, features ? { features } : {});
        const answer = await json(await call(service.app, "POST", "/api/v1/ml/$train", { config_id: configId, data: BASIC_TRAINING, model: name }), 202);
        assert.equal((await finished(service.app, String(answer.job_id))).status, "completed");
        served[name] = await infer(name);
      }
    });
    after(async () => {
      await service.close();
      await store.cleanup();
    });

    test("a mean ensemble is registered as a version and served by KServe V2 as the mean of its members", async () => {
      const version = await ensemble({ model: "avg", method: "mean", members: [{ model: "rain" }, { model: "temp@1.0.0" }] });
      assert.deepEqual([version.name, version.version, version.tags], ["avg", "1.0.0", ["ensemble"]]);
      assert.deepEqual(version.params, { ensemble: "mean", members: ["rain@1.0.0", "temp@1.0.0"] });
      const values = await infer("avg");
      values.forEach((v, i) => assertClose(v, (served.rain![i]! + served.temp![i]!) / 2));
    });

    test("KServe V2 metadata of an ensemble names its method and members", async () => {
      const metadata = await json(await call(service.app, "GET", "/v2/models/avg/versions/1.0.0"), 200);
      assert.deepEqual([(metadata.parameters as Json).ensemble, (metadata.parameters as Json).members], ["mean", ["rain@1.0.0", "temp@1.0.0"]]);
      assert.deepEqual(metadata.outputs, [{ name: "sample_0", datatype: "FP64", shape: [-1] }]);
    });

    test("an ensemble predicts through a $predict job like any model, its prediction stored under it", async () => {
      const answer = await json(await call(service.app, "POST", "/api/v1/ml/$predict", { model: "avg", future: BASIC_FUTURE }), 202);
      const record = await finished(service.app, String(answer.job_id));
      assert.equal(record.status, "completed", record.error ?? "");
      const artifact = await json(await call(service.app, "GET", `/api/v1/artifacts/${answer.prediction_artifact_id}`), 200);
      const data = artifact.data as Json;
      assert.deepEqual([data.model_name, data.model_version], ["avg", "1.0.0"]);
      const predictions = data.predictions as { columns: string[]; data: number[][] };
      const at = predictions.columns.indexOf("sample_0");
      predictions.data.forEach((row, i) => assertClose(row[at], (served.rain![i]! + served.temp![i]!) / 2));
      const stream = await call(service.app, "POST", "/api/v1/ml/$predict-stream", { model: "avg", future: BASIC_FUTURE });
      const rows = (await stream.text()).trim().split("\n").map((line) => JSON.parse(line) as Json);
      rows.forEach((row, i) => assertClose(row.sample_0, (served.rain![i]! + served.temp![i]!) / 2));
    });

    test("a weighted mean weighs each member", async () => {
      await ensemble({ model: "weighted", method: "weighted_mean", members: [{ model: "rain", weight: 1 }, { model: "temp", weight: 3 }] });
      (await infer("weighted")).forEach((v, i) => assertClose(v, (served.rain![i]! + 3 * served.temp![i]!) / 4));
    });

    test("a median takes the middle member's prediction row by row", async () => {
      await ensemble({ model: "mid", method: "median", members: [{ model: "rain" }, { model: "temp" }, { model: "full" }] });
      (await infer("mid")).forEach((v, i) => {
        const sorted = [served.rain![i]!, served.temp![i]!, served.full![i]!].sort((a, b) => a - b);
        assertClose(v, sorted[1]!);
      });
    });

    test("a stacking model fitted on the members' predictions recovers the exact target", async () => {
      const version = await ensemble({
        model: "stack",
        method: "stacking",
        members: [{ model: "rain" }, { model: "temp" }],
        data: BASIC_TRAINING,
        target: "disease_cases",
      });
      assertClose((version.metrics as Json).rmse, 0, 1e-6);
      assert.equal(((version.params as Json).stacker as Json).weights instanceof Array, true);
      (await infer("stack")).forEach((v, i) => assertClose(v, formula(BASIC_FUTURE.data[i]![0]!, BASIC_FUTURE.data[i]![1]!), 1e-6));
    });

    test("an ensemble may hold ensembles, and data with a target scores any method", async () => {
      const version = await ensemble({
        model: "nested",
        method: "mean",
        members: [{ model: "avg" }, { model: "full" }],
        data: BASIC_TRAINING,
        target: "disease_cases",
      });
      assert.equal(typeof (version.metrics as Json).rmse, "number");
      (await infer("nested")).forEach((v, i) => assertClose(v, ((served.rain![i]! + served.temp![i]!) / 2 + served.full![i]!) / 2));
    });

    test("members are pinned: moving an alias later does not change the ensemble", async () => {
      await json(await call(service.app, "PUT", "/api/v1/models/full/aliases/production", { version: "1.0.0" }), 200);
      const version = await ensemble({ model: "pinned", method: "mean", members: [{ model: "full@production" }, { model: "rain" }] });
      assert.deepEqual((version.params as Json).members, ["full@1.0.0", "rain@1.0.0"]);
    });

    test("an ensemble version can be aliased and routed by name like any version", async () => {
      await ensemble({ model: "avg", method: "median", members: [{ model: "rain" }, { model: "temp" }] });
      await json(await call(service.app, "PUT", "/api/v1/models/avg/aliases/production", { version: "1.1.0" }), 200);
      const answer = await json(await call(service.app, "POST", "/v2/models/avg/infer", TENSORS), 200);
      assert.equal(answer.model_version, "1.1.0");
    });

    test("an ensemble is explained by KernelSHAP through its members", async () => {
      const answer = await json(await call(service.app, "POST", "/api/v1/ml/$explain", {
        model: "avg@1.0.0",
        rows: BASIC_FUTURE,
        background: BASIC_TRAINING,
        features: ["rainfall", "mean_temperature"],
      }), 200);
      assert.equal(answer.method, "kernel_shap");
      (answer.explanations as { prediction: number; base_value: number; attributions: Record<string, number> }[]).forEach((row, i) => {
        assertClose(row.prediction, (served.rain![i]! + served.temp![i]!) / 2);
        assertClose(row.base_value + row.attributions.rainfall! + row.attributions.mean_temperature!, row.prediction);
      });
    });

    test("bad ensembles are refused with problems", async () => {
      const cases: [Json, number, string][] = [
        [{ model: "bad", method: "mean", members: [{ model: "rain" }] }, 422, "validation-failed"],
        [{ model: "bad", method: "weighted_mean", members: [{ model: "rain", weight: 1 }, { model: "temp" }] }, 422, "validation-failed"],
        [{ model: "bad", method: "mean", members: [{ model: "rain", weight: 2 }, { model: "temp" }] }, 422, "validation-failed"],
        [{ model: "bad", method: "stacking", members: [{ model: "rain" }, { model: "temp" }] }, 422, "validation-failed"],
        [{ model: "bad", method: "mode", members: [{ model: "rain" }, { model: "temp" }] }, 422, "validation-failed"],
        [{ model: "bad", method: "mean", members: [{ model: "rain" }, { model: "nobody" }] }, 404, "not-found"],
        [{ model: "bad", method: "mean", members: [{ model: "rain" }, { model: "temp" }], data: BASIC_TRAINING, target: "cases" }, 422, "validation-failed"],
        [{ model: { name: "avg", version: "1.0.0" }, method: "mean", members: [{ model: "rain" }, { model: "temp" }] }, 409, "conflict"],
      ];
      for (const [body, status, type] of cases) {
        await problem(await call(service.app, "POST", "/api/v1/ml/$ensemble", body), status, `urn:chapkit:error:${type}`);
      }
      assert.equal((await call(service.app, "GET", "/api/v1/models/bad")).status, 404);
    });
  });
}
