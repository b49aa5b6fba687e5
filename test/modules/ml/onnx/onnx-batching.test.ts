import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { DataFrame } from "../../../../src/modules/ml/engine/dataframe.ts";
import { BatchingExecutor } from "../../../../src/modules/ml/onnx/onnx-batching.ts";
import { mlpOnnx, seededMlpLayers } from "../../../../src/modules/ml/onnx/onnx-models.ts";
import { OnnxWorkerPool } from "../../../../src/modules/ml/onnx/onnx-pool.ts";
import { chooseExecutionProvider } from "../../../../src/modules/ml/onnx/onnx-providers.ts";
import { OnnxModelRunner } from "../../../../src/modules/ml/onnx/onnx-runner.ts";
import { binaryModel } from "../../../../src/modules/ml/engine/runner.ts";
import type { OnnxExecutor, OnnxOutputs, OnnxRunRequest } from "../../../../src/modules/ml/onnx/onnx-session.ts";

const model = mlpOnnx(seededMlpLayers([4, 8, 2], 3));
const row = (i: number): Float32Array => Float32Array.from([i, i / 2, -i, 1]);

/** Counts the calls reaching the pool, and the rows of each. */
class CountingExecutor implements OnnxExecutor {
  readonly calls: number[] = [];
  constructor(readonly inner: OnnxExecutor, readonly size = 1) {}
  run(request: OnnxRunRequest): Promise<OnnxOutputs> {
    const inputs = Array.isArray(request.inputs) ? request.inputs : Object.values(request.inputs);
    this.calls.push(inputs[0]!.dims[0]!);
    return this.inner.run(request);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

describe("adaptive micro-batching", () => {
  const pool = new OnnxWorkerPool({ size: 1 });
  after(() => pool.close());

  test("concurrent single rows are stacked into fewer runs and each gets its own row back", async () => {
    const alone = await Promise.all(Array.from({ length: 12 }, (_, i) =>
      pool.run({ modelKey: "mlp", model, inputs: [{ data: row(i), dims: [1, 4] }] })));
    const counting = new CountingExecutor(pool);
    const batching = new BatchingExecutor(counting, { maxBatchSize: 64, maxWaitMs: 50, maxInFlight: 1 });
    const batched = await Promise.all(Array.from({ length: 12 }, (_, i) =>
      batching.run({ modelKey: "mlp", model, inputs: [{ data: row(i), dims: [1, 4] }] })));
    assert.ok(counting.calls.length < 12, `12 requests took ${counting.calls.length} runs`);
    assert.equal(counting.calls.reduce((a, b) => a + b, 0), 12);
    batched.forEach((outputs, i) => {
      const [name, tensor] = Object.entries(outputs)[0]!;
      assert.deepEqual(tensor.dims, [1, 2]);
      assert.deepEqual(Array.from(tensor.data), Array.from(alone[i]![name]!.data));
    });
  });

  test("a batch never exceeds the maximum batch size, and multi-row requests keep their rows", async () => {
    const counting = new CountingExecutor(pool);
    const batching = new BatchingExecutor(counting, { maxBatchSize: 5, maxWaitMs: 50, maxInFlight: 1 });
    const sizes = [2, 3, 1, 4, 2, 3];
    const answers = await Promise.all(sizes.map((rows, i) => {
      const data = new Float32Array(rows * 4).fill(i);
      return batching.run({ modelKey: "mlp", model, inputs: [{ data, dims: [rows, 4] }] });
    }));
    assert.ok(counting.calls.every((rows) => rows <= 5), String(counting.calls));
    answers.forEach((outputs, i) => assert.deepEqual(Object.values(outputs)[0]!.dims, [sizes[i], 2]));
  });

  test("a request aborted while it waits is rejected with the reason and the others still answer", async () => {
    const batching = new BatchingExecutor(new CountingExecutor(pool), { maxWaitMs: 50, maxInFlight: 1 });
    const controller = new AbortController();
    const first = batching.run({ modelKey: "mlp", model, inputs: [{ data: row(1), dims: [1, 4] }] });
    const waiting = batching.run({ modelKey: "mlp", model, inputs: [{ data: row(2), dims: [1, 4] }] }, { signal: controller.signal });
    const third = batching.run({ modelKey: "mlp", model, inputs: [{ data: row(3), dims: [1, 4] }] });
    controller.abort(new Error("caller left"));
    await assert.rejects(waiting, /caller left/);
    assert.equal(Object.values(await first)[0]!.dims[0], 1);
    assert.equal(Object.values(await third)[0]!.dims[0], 1);
  });

  test("a failing batch fails each of its requests with the model's error", async () => {
    const batching = new BatchingExecutor(pool, { maxWaitMs: 20, maxInFlight: 1 });
    const broken = new Uint8Array([1, 2, 3]);
    const results = await Promise.allSettled(Array.from({ length: 3 }, (_, i) =>
      batching.run({ modelKey: "broken", model: broken, inputs: [{ data: row(i), dims: [1, 4] }] })));
    assert.ok(results.every((r) => r.status === "rejected"));
  });
});

describe("execution provider choice", () => {
  test("WebGPU falls back to WASM with the reason when the runtime has no adapter", async () => {
    const choice = await chooseExecutionProvider("webgpu", () => Promise.resolve("WebGPU found no GPU adapter"));
    assert.deepEqual(choice, { requested: "webgpu", used: "wasm", fallback_reason: "WebGPU found no GPU adapter" });
    assert.deepEqual(await chooseExecutionProvider("webgpu", () => Promise.resolve(null)), { requested: "webgpu", used: "webgpu", fallback_reason: null });
    assert.deepEqual(await chooseExecutionProvider("wasm"), { requested: "wasm", used: "wasm", fallback_reason: null });
  });

  test("a runner asking for WebGPU here predicts on WASM and reports it", async () => {
    const runner = new OnnxModelRunner({ inputColumns: ["a", "b", "c", "d"], executionProvider: "webgpu", executor: { size: 1 } });
    try {
      const info = await runner.runtimeInfo();
      const provider = info.execution_provider as { requested: string; used: string; fallback_reason: string | null };
      assert.equal(provider.requested, "webgpu");
      if (provider.used === "wasm") assert.ok(provider.fallback_reason);
      const frame = await runner.predict({
        config: {}, model: binaryModel(model, "application/onnx"), modelKey: "gpu", historic: null,
        future: new DataFrame(["a", "b", "c", "d"], [[1, 2, 3, 4]]), geo: null, signal: new AbortController().signal,
      });
      assert.deepEqual(frame.columns, ["a", "b", "c", "d", "sample_0", "sample_1"]);
    } finally {
      await runner.close();
    }
  });
});
