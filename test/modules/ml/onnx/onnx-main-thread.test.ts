import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { mlpForward, mlpOnnx, seededMlpLayers } from "../../../../src/modules/ml/onnx/onnx-models.ts";
import { OnnxMainThread } from "../../../../src/modules/ml/onnx/onnx-session.ts";

describe("ONNX on the main thread", () => {
  test("answers overlapping inferences, each with its own rows", async () => {
    const layers = seededMlpLayers([4, 8, 1], 3);
    const model = mlpOnnx(layers);
    const main = new OnnxMainThread();
    try {
      const inputs = Array.from({ length: 16 }, (_, i) => Float32Array.from([i, i / 2, -i, 1]));
      const outputs = await Promise.all(inputs.map((row) =>
        main.run({ modelKey: "overlap", model, inputs: [{ data: row.slice(), dims: [1, 4] }] })
      ));
      outputs.forEach((output, i) => {
        const expected = mlpForward(layers, inputs[i]!, 1)[0]!;
        const actual = output.output!.data[0]!;
        assert.ok(Math.abs(actual - expected) <= 1e-4 * Math.max(1, Math.abs(expected)), `row ${i}: ${actual} vs ${expected}`);
      });
    } finally {
      await main.close();
    }
  });
});
