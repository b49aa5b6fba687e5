import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { DataFrame } from "../../../../src/modules/ml/engine/dataframe.ts";
import { BatchingExecutor } from "../../../../src/modules/ml/onnx/onnx-batching.ts";
import { OnnxInferenceError } from "../../../../src/modules/ml/engine/errors.ts";
import { mlpOnnx, seededMlpLayers } from "../../../../src/modules/ml/onnx/onnx-models.ts";
import { OnnxWorkerPool } from "../../../../src/modules/ml/onnx/onnx-pool.ts";
import { chooseExecutionProvider } from "../../../../src/modules/ml/onnx/onnx-providers.ts";
import { OnnxModelRunner } from "../../../../src/modules/ml/onnx/onnx-runner.ts";
import { binaryModel } from "../../../../src/modules/ml/engine/runner.ts";
import type { OnnxExecutor, OnnxOutputs, OnnxRunOptions, OnnxRunRequest } from "../../../../src/modules/ml/onnx/onnx-session.ts";

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

/**
 * An executor computing each row's sum and count in plain TypeScript; `hold()` keeps
 * the next runs unanswered until `release()`, to see what queues meanwhile.
 */
class SumExecutor implements OnnxExecutor {
  readonly calls: { rows: number; options: OnnxRunOptions | undefined; at: number }[] = [];
  #held: (() => void)[] | undefined;
  constructor(readonly size = 1) {}
  hold(): void {
    this.#held = [];
  }
  release(): void {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const answer of held) answer();
  }
  run(request: OnnxRunRequest, options?: OnnxRunOptions): Promise<OnnxOutputs> {
    const input = (Array.isArray(request.inputs) ? request.inputs : Object.values(request.inputs))[0]!;
    const [rows, width] = [input.dims[0]!, input.dims[1]!];
    this.calls.push({ rows, options, at: performance.now() });
    const data = new Float32Array(rows * 2);
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let c = 0; c < width; c++) sum += input.data[r * width + c]!;
      data.set([sum, rows], r * 2);
    }
    const outputs = { out: { data, dims: [rows, 2] } };
    return new Promise((resolve) => {
      if (this.#held) this.#held.push(() => resolve(outputs));
      else setTimeout(() => resolve(outputs), 1);
    });
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const one = (value: number) => ({ modelKey: "sum", model, inputs: [{ data: Float32Array.from([value, 0]), dims: [1, 2] }] });

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

  test("requests arriving together are split evenly over the free slots, each answered with its own row in order", async () => {
    const inner = new SumExecutor(2);
    const batching = new BatchingExecutor(inner, { maxWaitMs: 50 });
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => batching.run(one(i))));
    assert.deepEqual(inner.calls.map((c) => c.rows), [6, 6]);
    answers.forEach((outputs, i) => {
      assert.deepEqual(outputs.out!.dims, [1, 2]);
      assert.deepEqual(Array.from(outputs.out!.data), [i, 6]);
    });
  });

  test("while every slot is busy, waiting requests leave after the maximum wait without the running batch ending", async () => {
    const inner = new SumExecutor(1);
    const batching = new BatchingExecutor(inner, { maxWaitMs: 30 });
    inner.hold();
    const first = batching.run(one(1));
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(inner.calls.length, 1);
    const queuedAt = performance.now();
    const waiting = [batching.run(one(2)), batching.run(one(3))];
    while (inner.calls.length < 2 && performance.now() - queuedAt < 5000) await new Promise((r) => setTimeout(r, 2));
    assert.deepEqual(inner.calls.map((c) => c.rows), [1, 2]);
    assert.ok(inner.calls[1]!.at - queuedAt >= 25, `left after ${inner.calls[1]!.at - queuedAt} ms`);
    inner.release();
    assert.deepEqual(Array.from((await first).out!.data), [1, 1]);
    assert.deepEqual((await Promise.all(waiting)).map((o) => o.out!.data[0]), [2, 3]);
  });

  test("a request waiting when its slot frees up leaves at once, not after the maximum wait", async () => {
    const inner = new SumExecutor(1);
    const batching = new BatchingExecutor(inner, { maxWaitMs: 10_000 });
    inner.hold();
    const first = batching.run(one(1));
    await new Promise((r) => setTimeout(r, 5));
    const second = batching.run(one(2));
    inner.release();
    await first;
    const began = performance.now();
    assert.equal((await second).out!.data[0], 2);
    assert.ok(performance.now() - began < 1000);
  });

  test("a request's own timeout goes to the inner executor, and only requests with the same timeout share a batch", async () => {
    const inner = new SumExecutor(1);
    const batching = new BatchingExecutor(inner, { maxWaitMs: 5 });
    await Promise.all([batching.run(one(1), { timeoutMs: 500 }), batching.run(one(2)), batching.run(one(3), { timeoutMs: 500 })]);
    const byTimeout = inner.calls.map((c) => `${c.options?.timeoutMs ?? "-"}:${c.rows}`).sort();
    assert.deepEqual(byTimeout, ["-:1", "500:2"]);
  });

  test("closing fails the requests still waiting for a batch", async () => {
    const inner = new SumExecutor(1);
    const batching = new BatchingExecutor(inner, { maxWaitMs: 10_000 });
    inner.hold();
    const running = batching.run(one(1));
    await new Promise((r) => setTimeout(r, 5));
    const waiting = batching.run(one(2));
    await batching.close();
    await assert.rejects(waiting, OnnxInferenceError);
    await assert.rejects(batching.run(one(3)), OnnxInferenceError);
    inner.release();
    assert.equal((await running).out!.data[0], 1);
  });

  test("a caller's rows of the output can be sent to the pool as input without detaching the other callers' rows", async () => {
    const batching = new BatchingExecutor(new CountingExecutor(pool), { maxWaitMs: 50, maxInFlight: 1 });
    const [a, b] = await Promise.all([0, 1].map((i) =>
      batching.run({ modelKey: "mlp", model, inputs: [{ data: row(i), dims: [1, 4] }] })));
    const before = Array.from(b!.output!.data);
    const square = mlpOnnx(seededMlpLayers([2, 3, 2], 5));
    await pool.run({ modelKey: "square", model: square, inputs: [a!.output!] });
    assert.equal(a!.output!.data.length, 2);
    assert.deepEqual(Array.from(b!.output!.data), before);
  });

  test("a failing batch fails each of its requests with the model's error", async () => {
    const batching = new BatchingExecutor(pool, { maxWaitMs: 20, maxInFlight: 1 });
    const broken = new Uint8Array([1, 2, 3]);
    const results = await Promise.allSettled(Array.from({ length: 3 }, (_, i) =>
      batching.run({ modelKey: "broken", model: broken, inputs: [{ data: row(i), dims: [1, 4] }] })));
    assert.ok(results.every((r) => r.status === "rejected"));
  });

  test("every output of a batch is split back by rows whatever its rank, and a failed batch does not stop the next", async () => {
    // Two outputs: each row's sum as a 1-D tensor and each row's values twice as [rows, 2, width].
    let fail = true;
    const calls: number[] = [];
    const inner: OnnxExecutor = {
      run(request) {
        const input = (request.inputs as { data: Float32Array; dims: number[] }[])[0]!;
        const [rows, width] = [input.dims[0]!, input.dims[1]!];
        calls.push(rows);
        if (fail) {
          fail = false;
          return Promise.reject(new OnnxInferenceError("boom"));
        }
        const sum = new Float32Array(rows);
        const grid = new Float32Array(rows * 2 * width);
        for (let r = 0; r < rows; r++) {
          for (let c = 0; c < width; c++) {
            const v = input.data[r * width + c]!;
            sum[r] = sum[r]! + v;
            grid[r * 2 * width + c] = v;
            grid[r * 2 * width + width + c] = v;
          }
        }
        return new Promise((resolve) => setTimeout(() => resolve({ sum: { data: sum, dims: [rows] }, grid: { data: grid, dims: [rows, 2, width] } }), 1));
      },
      close: () => Promise.resolve(),
    };
    const batching = new BatchingExecutor(inner, { maxWaitMs: 20, maxInFlight: 1 });
    const request = (value: number, rows = 1) => ({
      modelKey: "two",
      model,
      inputs: [{ data: Float32Array.from({ length: rows * 3 }, (_, i) => value + Math.floor(i / 3)), dims: [rows, 3] }],
    });
    const first = await Promise.allSettled([1, 2, 3].map((v) => batching.run(request(v))));
    assert.deepEqual(first.map((r) => r.status), ["rejected", "rejected", "rejected"]);
    const outs = await Promise.all([batching.run(request(10, 2)), ...[20, 30, 40].map((v) => batching.run(request(v)))]);
    assert.deepEqual(calls, [3, 5]);
    assert.deepEqual([...outs[0]!.sum!.data], [30, 33]);
    assert.deepEqual(outs[0]!.sum!.dims, [2]);
    assert.deepEqual(outs[0]!.grid!.dims, [2, 2, 3]);
    assert.deepEqual([...outs[0]!.grid!.data], [10, 10, 10, 10, 10, 10, 11, 11, 11, 11, 11, 11]);
    for (const [i, v] of [20, 30, 40].entries()) {
      const out = outs[i + 1]!;
      assert.deepEqual([...out.sum!.data], [3 * v]);
      assert.deepEqual(out.sum!.dims, [1]);
      assert.deepEqual(out.grid!.dims, [1, 2, 3]);
      assert.deepEqual([...out.grid!.data], [v, v, v, v, v, v]);
    }
    await batching.close();
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
