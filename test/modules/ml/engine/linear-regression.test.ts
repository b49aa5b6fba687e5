import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DataFrame } from "../../../../src/modules/ml/engine/dataframe.ts";
import { ValueError } from "../../../../src/modules/ml/engine/errors.ts";
import { fitLinearRegression, predictLinear } from "../../../../src/modules/ml/engine/linear-regression.ts";

describe("linear regression", () => {
  test("recovers the weights of an exact linear relation", () => {
    const rows = [[1, 2], [2, 1], [3, 5], [4, 3], [5, 8]].map(([a, b]) => [a!, b!, 1.5 + 2 * a! - 0.5 * b!]);
    const data = DataFrame.fromJSON({ columns: ["a", "b", "y"], data: rows });
    const model = fitLinearRegression(data, { features: ["a", "b"], target: "y" });
    assert.ok(Math.abs(model.bias - 1.5) < 1e-6);
    assert.ok(Math.abs(model.weights[0]! - 2) < 1e-6);
    assert.ok(Math.abs(model.weights[1]! + 0.5) < 1e-6);
    predictLinear(model, data).forEach((v, i) => assert.ok(Math.abs(v - rows[i]![2]!) < 1e-6));
  });

  test("skips rows with missing values and enforces min samples", () => {
    const data = DataFrame.fromJSON({ columns: ["a", "y"], data: [[1, 2], [2, null], [null, 3]] });
    assert.throws(
      () => fitLinearRegression(data, { features: ["a"], target: "y", minSamples: 2 }),
      (e) => e instanceof ValueError && e.message === "Insufficient training data: 1 < 2",
    );
  });
});
