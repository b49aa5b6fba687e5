import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DataFrame } from "../../../../src/modules/ml/engine/dataframe.ts";
import { functionalRunner } from "../../../../src/modules/ml/engine/functional-runner.ts";
import {
  BaseModelRunner,
  isBinaryModel,
  jsonModel,
  type PredictContext,
  runPredict,
  runTrain,
  type TrainContext,
  type TrainedModel,
} from "../../../../src/modules/ml/engine/runner.ts";

const data = DataFrame.fromJSON({ columns: ["x", "disease_cases"], data: [[1, 2], [2, 4]] });
const future = DataFrame.fromJSON({ columns: ["x"], data: [[3], [4]] });
const signal = new AbortController().signal;

describe("model runners", () => {
  test("a functional runner stores a JSON model and gets it back in predict", async () => {
    const runner = functionalRunner<Record<string, unknown>, { slope: number }>({
      onTrain: ({ data }) => ({ slope: data.column("disease_cases")[0]! / data.column("x")[0]! }),
      onPredict: ({ model, future }) => future.withColumn("sample_0", future.column("x").map((x) => x * model.slope)),
    });
    const model = await runTrain(runner, { config: {}, data, geo: null, signal });
    assert.deepEqual(model, { value: { slope: 2 } });
    const out = await runPredict(runner, { config: {}, model, historic: null, future, geo: null, signal });
    assert.deepEqual(out.toJSON(), { columns: ["x", "sample_0"], data: [[3, 6], [4, 8]] });
  });

  test("a functional runner stores returned bytes as a binary payload", async () => {
    const runner = functionalRunner({
      onTrain: () => new Uint8Array([1, 2, 3]),
      onPredict: ({ model, future }) => future.withColumn("sample_0", new Float64Array(future.rowCount).fill((model as Uint8Array)[2]!)),
      contentType: "application/x-custom",
    });
    const model = await runTrain(runner, { config: {}, data, geo: null, signal });
    assert.ok(isBinaryModel(model));
    assert.equal(model.contentType, "application/x-custom");
    const out = await runPredict(runner, { config: {}, model, historic: null, future, geo: null, signal });
    assert.deepEqual(out.column("sample_0"), new Float64Array([3, 3]));
  });

  test("runTrain and runPredict call onInit before and onCleanup after, even on failure", async () => {
    const calls: string[] = [];
    class Recording extends BaseModelRunner {
      override onInit(): void {
        calls.push("init");
      }
      override async onCleanup(): Promise<void> {
        calls.push("cleanup");
      }
      async train(_: TrainContext): Promise<TrainedModel> {
        calls.push("train");
        return jsonModel(1);
      }
      async predict(_: PredictContext): Promise<DataFrame> {
        calls.push("predict");
        throw new Error("boom");
      }
    }
    const runner = new Recording();
    const model = await runTrain(runner, { config: {}, data, geo: null, signal });
    await assert.rejects(runPredict(runner, { config: {}, model, historic: null, future, geo: null, signal }), /boom/);
    assert.deepEqual(calls, ["init", "train", "cleanup", "init", "predict", "cleanup"]);
  });

  test("runPredict accepts a plain DataFrame-JSON result", async () => {
    const runner = functionalRunner({
      onTrain: () => null,
      onPredict: () => ({ columns: ["sample_0"], data: [[1]] }) as unknown as DataFrame,
    });
    const out = await runPredict(runner, { config: {}, model: jsonModel(null), historic: null, future, geo: null, signal });
    assert.ok(out instanceof DataFrame);
    assert.equal(out.rowCount, 1);
  });

  test("runTrain refuses to start once the signal is aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    const runner = functionalRunner({ onTrain: () => assert.fail("ran"), onPredict: () => future });
    await assert.rejects(runTrain(runner, { config: {}, data, geo: null, signal: controller.signal }), { name: "AbortError" });
  });
});
