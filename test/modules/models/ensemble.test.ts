import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { combinePredictions, type EnsembleSpec } from "../../../src/modules/models/ensemble.ts";

const members = (method: EnsembleSpec["method"], weights?: number[]): EnsembleSpec => ({
  method,
  outputs: ["sample_0"],
  members: ["a", "b", "c"].map((name, i) => ({ name, version: "1.0.0", ...(weights ? { weight: weights[i]! } : {}) })),
});

const A = new Float64Array([1, 2, NaN, NaN]);
const B = new Float64Array([3, 6, 4, NaN]);
const C = new Float64Array([8, 1, 6, NaN]);

describe("combining member predictions", () => {
  test("mean, weighted mean and median skip a member's missing prediction; a row with none is NaN", () => {
    assert.deepEqual(Array.from(combinePredictions(members("mean"), [A, B, C])), [4, 3, 5, NaN]);
    assert.deepEqual(Array.from(combinePredictions(members("weighted_mean", [2, 1, 1]), [A, B, C])), [13 / 4, 11 / 4, 5, NaN]);
    assert.deepEqual(Array.from(combinePredictions(members("median"), [A, B, C])), [3, 2, 5, NaN]);
  });

  test("a stacking model is its bias plus the weighted members, NaN when one is missing", () => {
    const spec = { ...members("stacking"), stacker: { weights: [1, 0.5, -1], bias: 2 } };
    assert.deepEqual(Array.from(combinePredictions(spec, [A, B, C])), [-3.5, 6, NaN, NaN]);
    assert.throws(() => combinePredictions(members("stacking"), [A, B, C]), /needs its fitted stacker/);
  });

  test("members of different lengths are refused", () => {
    assert.throws(() => combinePredictions(members("mean"), [A, B, new Float64Array(1)]), /different numbers of rows/);
  });
});
