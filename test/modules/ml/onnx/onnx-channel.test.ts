import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { OnnxInferenceError } from "../../../../src/modules/ml/engine/errors.ts";
import { BatchingExecutor } from "../../../../src/modules/ml/onnx/onnx-batching.ts";
import { mailboxSupported, OnnxMailbox } from "../../../../src/modules/ml/onnx/onnx-channel.ts";
import { mlpForward, mlpOnnx, seededMlpLayers } from "../../../../src/modules/ml/onnx/onnx-models.ts";
import { OnnxWorkerPool } from "../../../../src/modules/ml/onnx/onnx-pool.ts";

const narrow = seededMlpLayers([8, 16, 1], 5);
const wide = seededMlpLayers([4, 8, 64], 6);
const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b));
const pools: OnnxWorkerPool[] = [];
function pool(options: ConstructorParameters<typeof OnnxWorkerPool>[0] = {}): OnnxWorkerPool {
  const created = new OnnxWorkerPool({ size: 1, ...options });
  pools.push(created);
  return created;
}
after(async () => {
  for (const p of pools) await p.close();
});

function input(rows: number, width: number, seed: number): Float32Array {
  return Float32Array.from({ length: rows * width }, (_, i) => Math.sin(seed * 31 + i) * 2);
}

function assertRows(actual: Float32Array, expected: Float64Array): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((v, i) => assert.ok(close(v, expected[i]!), `${v} vs ${expected[i]}`));
}

describe("ONNX shared-memory mailbox", () => {
  test("this runtime supports it", () => {
    assert.equal(mailboxSupported(), true);
  });

  test("tensors written are read back with their shapes, each in a buffer of its own", () => {
    const mailbox = new OnnxMailbox(32);
    const a = { data: Float32Array.from([1, 2, 3, 4, 5, 6]), dims: [2, 3] };
    const b = { data: Float32Array.from([7, 8]), dims: [2, 1, 1] };
    assert.equal(mailbox.write([a, b]), true);
    const [ra, rb] = mailbox.read();
    assert.deepEqual(ra, a);
    assert.deepEqual(rb, b);
    assert.ok(!(ra!.data.buffer instanceof SharedArrayBuffer));
    assert.equal(mailbox.write([{ data: new Float32Array(33), dims: [33] }]), false);
  });

  test("after a model's first answer, jobs go through the mailbox (inputs kept) with the same results as by message", async () => {
    const model = mlpOnnx(narrow);
    const shared = pool();
    const messages = pool({ mailboxFloats: 0 });
    for (let seed = 1; seed <= 4; seed++) {
      const rows = seed * 3;
      const expected = mlpForward(narrow, input(rows, 8, seed), rows);
      const kept = input(rows, 8, seed);
      const viaMailbox = await shared.run({ modelKey: "narrow", model, inputs: { input: { data: kept, dims: [rows, 8] } } });
      const sent = input(rows, 8, seed);
      const viaMessage = await messages.run({ modelKey: "narrow", model, inputs: { input: { data: sent, dims: [rows, 8] } } });
      assert.deepEqual(viaMailbox.output!.dims, [rows, 1]);
      assert.deepEqual(viaMailbox, viaMessage);
      assertRows(viaMailbox.output!.data, expected);
      // The first job teaches the pool the model's outputs by message; later ones share memory and copy, not transfer.
      assert.equal(kept.byteLength, seed === 1 ? 0 : rows * 8 * 4);
      assert.equal(sent.byteLength, 0);
    }
  });

  test("outputs larger than the mailbox, and inputs that do not fit, come and go by message", async () => {
    const model = mlpOnnx(wide);
    // Room for 4 rows of input (16 values) but not for 2 rows of output (128 values).
    const small = pool({ mailboxFloats: 20 });
    for (const rows of [1, 2, 4, 8]) {
      const data = input(rows, 4, rows);
      const out = await small.run({ modelKey: "wide", model, inputs: [{ data, dims: [rows, 4] }] });
      assert.deepEqual(out.output!.dims, [rows, 64]);
      assertRows(out.output!.data, mlpForward(wide, input(rows, 4, rows), rows));
    }
    assert.equal(small.workerCount, 1);
  });

  test("a model error on the mailbox path fails only that job and keeps the worker", async () => {
    const model = mlpOnnx(narrow);
    const workers = pool();
    await workers.run({ modelKey: "narrow", model, inputs: [{ data: input(1, 8, 1), dims: [1, 8] }] });
    await assert.rejects(
      workers.run({ modelKey: "narrow", model, inputs: [{ data: new Float32Array(3), dims: [1, 3] }] }),
      OnnxInferenceError,
    );
    const out = await workers.run({ modelKey: "narrow", model, inputs: [{ data: input(2, 8, 2), dims: [2, 8] }] });
    assertRows(out.output!.data, mlpForward(narrow, input(2, 8, 2), 2));
    assert.equal(workers.workerCount, 1);
  });

  test("a session evicted in the worker is rebuilt from the model bytes", async () => {
    const a = mlpOnnx(narrow);
    const b = mlpOnnx(seededMlpLayers([8, 4, 1], 9));
    const workers = pool({ sessionCacheSize: 1 });
    for (let round = 0; round < 3; round++) {
      for (const [key, model, layers] of [["a", a, narrow], ["b", b, seededMlpLayers([8, 4, 1], 9)]] as const) {
        const out = await workers.run({ modelKey: key, model, inputs: [{ data: input(2, 8, round), dims: [2, 8] }] });
        assertRows(out.output!.data, mlpForward(layers, input(2, 8, round), 2));
      }
    }
  });

  test("batched concurrent rows through the mailbox each get their own row back, on every worker", async () => {
    const model = mlpOnnx(narrow);
    const batching = new BatchingExecutor(pool({ size: 2 }), { maxBatchSize: 8 });
    for (let round = 0; round < 3; round++) {
      const outs = await Promise.all(Array.from({ length: 20 }, (_, i) =>
        batching.run({ modelKey: "narrow", model, inputs: [{ data: input(1, 8, i + round), dims: [1, 8] }] })));
      outs.forEach((out, i) => {
        assert.deepEqual(out.output!.dims, [1, 1]);
        assertRows(out.output!.data, mlpForward(narrow, input(1, 8, i + round), 1));
      });
    }
    assert.ok(batching.batches < 60);
  });
});
