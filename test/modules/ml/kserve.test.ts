// KServe V2 Open Inference Protocol, with requests from the protocol specification's own examples
// (kserve docs/predict-api/v2/required_api.md: the inference request/response example and the
// tensor data example `[[1, 2], [4, 5]]` = `[1, 2, 4, 5]`).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Type } from "@sinclair/typebox";
import type { Driver } from "../../../src/db/driver.ts";
import type { DataFrame } from "../../../src/modules/ml/engine/dataframe.ts";
import { functionalRunner } from "../../../src/modules/ml/engine/functional-runner.ts";
import { linearRegressionOnnx } from "../../../src/modules/ml/onnx/onnx-models.ts";
import { OnnxModelRunner } from "../../../src/modules/ml/onnx/onnx-runner.ts";
import { MLServiceBuilder } from "../../../src/service/ml-service-builder.ts";
import { postgresStore, sqliteFileStore } from "../../_support/stores.ts";
import { call, createConfig, finished, gate, json, type Json, type MlService, openMlService } from "./_support.ts";

// output0 = a + 2·b
const onnx = new OnnxModelRunner({
  inputColumns: ["a", "b"],
  outputColumns: ["output0"],
  train: () => linearRegressionOnnx({ weights: [1, 2], bias: 0 }),
  executor: { size: 1 },
});

/** The specification's inference request example, verbatim. */
const SPEC_REQUEST = {
  id: "42",
  inputs: [
    { name: "input0", shape: [2, 2], datatype: "UINT32", data: [1, 2, 3, 4] },
    { name: "input1", shape: [3], datatype: "BOOL", data: [true] },
  ],
  outputs: [{ name: "output0" }],
};

async function trainAndAlias(app: MlService["app"], alias: string): Promise<void> {
  const configId = await createConfig(app, `cfg-${alias}`);
  const answer = await json(await call(app, "POST", "/api/v1/ml/$train", { config_id: configId, data: { columns: ["a", "b", "y"], data: [[1, 1, 3]] }, model: "adder" }), 202);
  assert.equal((await finished(app, String(answer.job_id))).status, "completed");
  const versions = await json<Json[]>(await call(app, "GET", "/api/v1/models/adder/versions"), 200);
  await json(await call(app, "PUT", `/api/v1/models/adder/aliases/${alias}`, { version: versions[0]!.version }), 200);
}

for (const store of [sqliteFileStore(), postgresStore()]) {
  describe(`KServe V2 on ${store.name}`, () => {
    let service: MlService;
    before(async () => {
      service = await openMlService(store, onnx);
      await trainAndAlias(service.app, "production");
    });
    after(async () => {
      await service.close();
      await store.cleanup();
    });

    test("the specification's inference request is answered with a V2 error naming the tensor whose data does not fill its shape", async () => {
      const response = await call(service.app, "POST", "/v2/models/adder/infer", SPEC_REQUEST);
      assert.equal(response.status, 400);
      assert.deepEqual(await response.json(), { error: "input1: shape [3] needs 3 values, 1 given" });
    });

    test("the specification's tensor data in natural and flattened form give the same typed outputs", async () => {
      const nested = { id: "42", inputs: [{ name: "input0", shape: [2, 2], datatype: "FP32", data: [[1, 2], [4, 5]] }], outputs: [{ name: "output0" }] };
      const flat = { ...nested, inputs: [{ ...nested.inputs[0]!, data: [1, 2, 4, 5] }] };
      const first = await json(await call(service.app, "POST", "/v2/models/adder/infer", nested), 200);
      const second = await json(await call(service.app, "POST", "/v2/models/adder/infer", flat), 200);
      assert.deepEqual(first.outputs, [{ name: "output0", shape: [2], datatype: "FP32", data: [5, 14] }]);
      assert.deepEqual(second.outputs, first.outputs);
      assert.deepEqual([first.model_name, first.model_version, first.id], ["adder", "1.0.0", "42"]);
    });

    test("named column tensors of integer and float types infer against a given version", async () => {
      const body = {
        inputs: [
          { name: "a", shape: [3], datatype: "INT64", data: [1, 2, 3] },
          { name: "b", shape: [3, 1], datatype: "FP64", data: [[0.5], [1], [1.5]] },
        ],
      };
      const answer = await json(await call(service.app, "POST", "/v2/models/adder/versions/1.0.0/infer", body), 200);
      assert.deepEqual((answer.outputs as Json[])[0], { name: "output0", shape: [3], datatype: "FP32", data: [2, 4, 6] });
    });

    test("bad requests are V2 errors and unknown models 404", async () => {
      const cases: [string, unknown, number, RegExp][] = [
        ["/v2/models/adder/infer", { inputs: [] }, 400, /inputs/],
        ["/v2/models/adder/infer", { inputs: [{ name: "a", shape: [1], datatype: "FP8", data: [1] }] }, 400, /unsupported datatype/],
        ["/v2/models/adder/infer", { inputs: [{ name: "a", shape: [1], datatype: "INT32", data: [1.5] }] }, 400, /not INT32/],
        ["/v2/models/adder/infer", { inputs: [{ name: "a", shape: [1], datatype: "FP32", data: [1] }] }, 400, /missing input "b"/],
        ["/v2/models/adder/infer", { inputs: [{ name: "x", shape: [1, 2], datatype: "FP32", data: [1, 2] }], outputs: [{ name: "nope" }] }, 400, /unknown output/],
        ["/v2/models/nobody/infer", { inputs: [{ name: "x", shape: [1, 2], datatype: "FP32", data: [1, 2] }] }, 404, /nobody/],
        ["/v2/models/adder/versions/9.9.9/infer", { inputs: [{ name: "x", shape: [1, 2], datatype: "FP32", data: [1, 2] }] }, 404, /9\.9\.9/],
      ];
      for (const [path, body, status, message] of cases) {
        const response = await call(service.app, "POST", path, body);
        const answer = await response.json() as Json;
        assert.equal(response.status, status, JSON.stringify(answer));
        assert.match(String(answer.error), message);
      }
    });

    test("metadata lists the tensors, versions, platform and the execution provider in use", async () => {
      const metadata = await json(await call(service.app, "GET", "/v2/models/adder"), 200);
      assert.deepEqual([metadata.name, metadata.versions, metadata.platform], ["adder", ["1.0.0"], "onnx_onnxv1"]);
      assert.deepEqual(metadata.inputs, [{ name: "a", datatype: "FP32", shape: [-1] }, { name: "b", datatype: "FP32", shape: [-1] }]);
      assert.deepEqual(metadata.outputs, [{ name: "output0", datatype: "FP32", shape: [-1] }]);
      const provider = (metadata.parameters as Json).execution_provider as Json;
      assert.deepEqual([provider.requested, provider.used], ["wasm", "wasm"]);
      assert.deepEqual(await json(await call(service.app, "GET", "/v2/models/adder/versions/1.0.0/ready"), 200), { name: "adder", version: "1.0.0", ready: true });
      assert.deepEqual(await json(await call(service.app, "GET", "/v2/health/live"), 200), { live: true });
      assert.deepEqual(await json(await call(service.app, "GET", "/v2/health/ready"), 200), { ready: true });
      assert.equal((await json(await call(service.app, "GET", "/v2"), 200)).name, "ML test service");
    });
  });
}

describe("warm-up", () => {
  const store = sqliteFileStore();
  let db: Driver;
  after(async () => {
    await db.close();
    await store.cleanup();
  });

  test("aliased versions load and run a synthetic row at start-up, and readiness waits for it", async () => {
    db = await store.open();
    const seen: DataFrame[] = [];
    const held = gate();
    let holding = false;
    const runner = functionalRunner({
      inputColumns: ["x"],
      onTrain: () => ({ k: 2 }),
      onPredict: async ({ future }) => {
        seen.push(future);
        if (holding) await held.promise;
        return future.withColumn("sample_0", future.column("x").map((v) => v * 2));
      },
    });
    const build = () => new MLServiceBuilder({
      info: { display_name: "warm" },
      configSchema: Type.Object({}, { additionalProperties: true }),
      runner,
      logging: false,
    }).withDatabase(db).withSettings({ env: {} }).build();
    const first = await build();
    await trainAndAlias(first, "champion");
    await first.chapkit.close();

    holding = true;
    const second = await build();
    try {
      assert.equal((await call(second, "GET", "/v2/health/ready")).status, 503);
      assert.equal((await call(second, "GET", "/health/ready")).status, 503);
      assert.equal((await call(second, "GET", "/v2/health/live")).status, 200);
      assert.equal((await call(second, "GET", "/api/v1/health")).status, 200, "health is not readiness");
      held.open();
      for (let i = 0; i < 200 && (await call(second, "GET", "/v2/health/ready")).status !== 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal((await call(second, "GET", "/v2/health/ready")).status, 200);
      assert.equal((await call(second, "GET", "/health/ready")).status, 200);
      const synthetic = seen.at(-1)!;
      assert.deepEqual(synthetic.toJSON(), { columns: ["x"], data: [[0]] });
    } finally {
      await second.chapkit.close();
    }
  });
});
