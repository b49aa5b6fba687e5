import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { DataFrame } from "../../../../src/modules/ml/engine/dataframe.ts";
import { OnnxInferenceError } from "../../../../src/modules/ml/engine/errors.ts";
import { linearRegressionOnnx, mlpForward, mlpOnnx, seededMlpLayers } from "../../../../src/modules/ml/onnx/onnx-models.ts";
import { OnnxWorkerPool } from "../../../../src/modules/ml/onnx/onnx-pool.ts";
import { ONNX_CONTENT_TYPE, OnnxModelRunner } from "../../../../src/modules/ml/onnx/onnx-runner.ts";
import { OnnxMainThread } from "../../../../src/modules/ml/onnx/onnx-session.ts";
import { isBinaryModel, runPredict, runTrain } from "../../../../src/modules/ml/engine/runner.ts";

const signal = new AbortController().signal;
const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b));
const layers = seededMlpLayers([64, 256, 256, 1], 42);
const mlp = mlpOnnx(layers);
const faultyWorker = new URL("./fixtures/faulty-onnx-worker.ts", import.meta.url);
const pools: OnnxWorkerPool[] = [];
function pool(options: ConstructorParameters<typeof OnnxWorkerPool>[0] = {}): OnnxWorkerPool {
  const created = new OnnxWorkerPool({ size: 2, ...options });
  pools.push(created);
  return created;
}
after(async () => {
  for (const p of pools) await p.close();
});

function mlpInput(rows: number, seed = 1): Float32Array {
  let state = seed;
  return Float32Array.from({ length: rows * 64 }, () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648 * 4 - 2;
  });
}

async function waitFor(condition: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) assert.fail("condition not reached");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("ONNX", () => {
  test("a linear model from the writer predicts what TypeScript computes", async () => {
    const weights = [0.031, -0.92, 0.51];
    const bias = 0.436;
    const runner = new OnnxModelRunner({
      inputColumns: ["rainfall", "mean_temperature", "humidity"],
      train: () => linearRegressionOnnx({ weights, bias }),
      executor: pool(),
    });
    const data = DataFrame.fromJSON({ columns: ["rainfall", "mean_temperature", "humidity"], data: [] });
    const model = await runTrain(runner, { config: {}, data, geo: null, signal });
    assert.ok(isBinaryModel(model));
    assert.equal(model.contentType, ONNX_CONTENT_TYPE);
    const future = DataFrame.fromJSON({
      columns: ["rainfall", "mean_temperature", "humidity"],
      data: [[110, 26, 77], [90.5, 28.25, 71], [125, 24, 82.5], [0, 0, 0]],
    });
    const out = await runPredict(runner, { config: {}, model, modelKey: "linear", historic: null, future, geo: null, signal });
    assert.deepEqual(out.columns, ["rainfall", "mean_temperature", "humidity", "sample_0"]);
    future.rows().forEach((row, i) => {
      const expected = bias + row.reduce<number>((sum, x, j) => sum + (x as number) * weights[j]!, 0);
      assert.ok(close(out.column("sample_0")[i]!, expected), `${out.column("sample_0")[i]} vs ${expected}`);
    });
  });

  test("the MLP gives the same results in the worker pool and on the main thread", async () => {
    const rows = 32;
    const input = mlpInput(rows);
    const expected = mlpForward(layers, input, rows);
    const main = new OnnxMainThread();
    const onMain = await main.run({ modelKey: "mlp", model: mlp, inputs: [{ data: input.slice(), dims: [rows, 64] }] });
    const workers = pool();
    const inPool = await workers.run({ modelKey: "mlp", model: mlp, inputs: { input: { data: input.slice(), dims: [rows, 64] } } });
    assert.deepEqual(inPool.output!.dims, [rows, 1]);
    assert.deepEqual(inPool.output!.data, onMain.output!.data);
    inPool.output!.data.forEach((v, i) => assert.ok(close(v, expected[i]!), `${v} vs ${expected[i]}`));
    await main.close();
  });

  test("transfers input buffers to the worker instead of copying them", async () => {
    const data = mlpInput(4);
    await pool().run({ modelKey: "mlp", model: mlp, inputs: [{ data, dims: [4, 64] }] });
    assert.equal(data.byteLength, 0);
  });

  test("runs concurrent jobs on up to `size` workers and reuses cached sessions", async () => {
    const workers = pool({ size: 2 });
    const jobs = Array.from({ length: 6 }, (_, i) =>
      workers.run({ modelKey: "mlp", model: mlp, inputs: [{ data: mlpInput(8, i + 1), dims: [8, 64] }] }));
    const results = await Promise.all(jobs);
    assert.equal(workers.workerCount, 2);
    results.forEach((r, i) => {
      const expected = mlpForward(layers, mlpInput(8, i + 1), 8);
      r.output!.data.forEach((v, j) => assert.ok(close(v, expected[j]!)));
    });
  });

  test("a worker that crashes mid-job fails only that job and is replaced", async () => {
    const workers = pool({ size: 1, workerUrl: faultyWorker });
    const input = () => [{ data: mlpInput(2), dims: [2, 64] }];
    const crashing = workers.run({ modelKey: "crash-1", model: mlp, inputs: input() });
    const queued = workers.run({ modelKey: "mlp", model: mlp, inputs: input() });
    await assert.rejects(crashing, (e) => {
      assert.ok(e instanceof OnnxInferenceError);
      assert.match(e.message, /^ONNX worker crashed: .*simulated worker crash$/);
      return true;
    });
    assert.equal((await queued).output!.data.length, 2);
    const out = await workers.run({ modelKey: "mlp", model: mlp, inputs: input() });
    assert.equal(out.output!.data.length, 2);
    assert.equal(workers.workerCount, 1);
  });

  test("a worker that passes its timeout is replaced and the next job succeeds", async () => {
    const workers = pool({ size: 1, workerUrl: faultyWorker, jobTimeoutMs: 300 });
    await assert.rejects(
      workers.run({ modelKey: "hang-1", model: mlp, inputs: [{ data: mlpInput(1), dims: [1, 64] }] }),
      (e) => e instanceof OnnxInferenceError && e.message === "ONNX inference timed out after 300 ms",
    );
    const out = await workers.run({ modelKey: "mlp", model: mlp, inputs: [{ data: mlpInput(1), dims: [1, 64] }] }, { timeoutMs: 30_000 });
    assert.equal(out.output!.data.length, 1);
  });

  test("a worker that exits on its own fails its job and is replaced", async () => {
    const workers = pool({ size: 1, workerUrl: faultyWorker, jobTimeoutMs: 3000 });
    await assert.rejects(
      workers.run({ modelKey: "exit-1", model: mlp, inputs: [{ data: mlpInput(1), dims: [1, 64] }] }),
      (e) => e instanceof OnnxInferenceError && /exited unexpectedly|timed out after 3000 ms/.test(e.message),
    );
    const out = await workers.run({ modelKey: "mlp", model: mlp, inputs: [{ data: mlpInput(1), dims: [1, 64] }] }, { timeoutMs: 30_000 });
    assert.equal(out.output!.data.length, 1);
  });

  test("aborting a running job ends its worker and rejects with the reason", async () => {
    const workers = pool({ size: 1, workerUrl: faultyWorker });
    const controller = new AbortController();
    const pending = workers.run({ modelKey: "hang-2", model: mlp, inputs: [{ data: mlpInput(1), dims: [1, 64] }] }, { signal: controller.signal });
    await waitFor(() => workers.workerCount === 1);
    controller.abort();
    await assert.rejects(pending, { name: "AbortError" });
    assert.equal(workers.workerCount, 0);
  });

  test("idle workers end after the idle TTL", async () => {
    const workers = pool({ size: 2, idleTimeoutMs: 200 });
    await Promise.all([1, 2].map((seed) =>
      workers.run({ modelKey: "mlp", model: mlp, inputs: [{ data: mlpInput(1, seed), dims: [1, 64] }] })));
    assert.ok(workers.workerCount >= 1);
    await waitFor(() => workers.workerCount === 0);
    const out = await workers.run({ modelKey: "mlp", model: mlp, inputs: [{ data: mlpInput(1), dims: [1, 64] }] });
    assert.equal(out.output!.data.length, 1);
  });

  test("a model error fails the job with the runtime's message and keeps the worker", async () => {
    const workers = pool({ size: 1 });
    await assert.rejects(
      workers.run({ modelKey: "mlp", model: mlp, inputs: [{ data: new Float32Array(3), dims: [1, 3] }] }),
      OnnxInferenceError,
    );
    assert.equal(workers.workerCount, 1);
    await assert.rejects(workers.run({ modelKey: "junk", model: new Uint8Array([1, 2, 3]), inputs: [] }), OnnxInferenceError);
  });

  test("a runner without a train function refuses to train", async () => {
    const runner = new OnnxModelRunner({ inputColumns: ["x"], executor: "main-thread" });
    const data = DataFrame.fromJSON({ columns: ["x"], data: [[1]] });
    await assert.rejects(runner.train({ config: {}, data, geo: null, signal }), { name: "ValueError" });
    await runner.close();
  });

  test("the runner predicts on the main thread too, with named outputs", async () => {
    const runner = new OnnxModelRunner({
      inputColumns: ["a", "b"],
      inputName: "input",
      outputName: "output",
      outputColumns: ["prediction"],
      keepInputColumns: false,
      executor: "main-thread",
    });
    const model = { bytes: linearRegressionOnnx({ weights: [1, 2], bias: 0.5 }), contentType: ONNX_CONTENT_TYPE };
    const future = DataFrame.fromJSON({ columns: ["a", "b"], data: [[1, 1], [2, null]] });
    const out = await runner.predict({ config: {}, model, historic: null, future, geo: null, signal });
    assert.deepEqual(out.columns, ["prediction"]);
    assert.equal(out.column("prediction")[0], 3.5);
    assert.ok(Number.isNaN(out.column("prediction")[1]!));
    await runner.close();
  });
});
