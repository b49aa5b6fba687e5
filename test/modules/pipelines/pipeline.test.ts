import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigurationError } from "../../../src/core/errors.ts";
import { beats, definePipeline, metricOf, score } from "../../../src/modules/pipelines/pipeline.ts";

const actual = new Float64Array([1, 2, 3, 4]);
const predicted = new Float64Array([1, 3, 3, 2]);

describe("pipeline metrics and promotion rule", () => {
  test("rmse, mae and r2 score predictions against the actual values", () => {
    assert.equal(score("rmse", actual, predicted), Math.sqrt(5 / 4));
    assert.equal(score(undefined, actual, predicted), Math.sqrt(5 / 4), "rmse by default");
    assert.equal(score("mae", actual, predicted), 3 / 4);
    assert.equal(score("r2", actual, predicted), 1 - 5 / 5);
    assert.equal(score("r2", actual, actual), 1);
    const custom = { name: "max_error", goal: "minimize" as const, compute: (a: Float64Array, p: Float64Array) => Math.max(...a.map((v, i) => Math.abs(v - p[i]!))) };
    assert.equal(score(custom, actual, predicted), 2);
    assert.deepEqual(metricOf(custom), { name: "max_error", goal: "minimize" });
    assert.deepEqual(metricOf("r2"), { name: "r2", goal: "maximize" });
  });

  test("a candidate beats no champion, and a champion only when better by more than the margin", () => {
    assert.equal(beats(1, null, "minimize"), true);
    assert.equal(beats(1, 2, "minimize"), true);
    assert.equal(beats(2, 2, "minimize"), false, "a tie keeps the champion");
    assert.equal(beats(1.9, 2, "minimize", 0.5), false);
    assert.equal(beats(0.9, 0.8, "maximize"), true);
    assert.equal(beats(Number.NaN, null, "minimize"), false, "a candidate without a score never wins");
    assert.equal(beats(1, Number.NaN, "minimize"), true, "a champion without a score always loses");
  });

  test("a pipeline is checked where it is declared", () => {
    const base = { name: "ok", model: "m", config: "c", data: () => ({ columns: [], data: [] }), target: "y" };
    assert.equal(definePipeline(base).name, "ok");
    assert.throws(() => definePipeline({ ...base, name: "Bad Name" }), ConfigurationError);
    assert.throws(() => definePipeline({ ...base, holdout: { fraction: 1 } }), /holdout.fraction/);
    assert.throws(() => definePipeline({ ...base, minImprovement: -1 }), /minImprovement/);
  });
});
