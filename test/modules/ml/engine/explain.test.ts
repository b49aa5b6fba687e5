import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DataFrame } from "../../../../src/modules/ml/engine/dataframe.ts";
import { kernelShap, linearShap, permutationImportance, type Predictor } from "../../../../src/modules/ml/engine/explain.ts";
import { seededRandom } from "../../../../src/core/seeded-random.ts";
import { type LinearModel, predictLinear } from "../../../../src/modules/ml/engine/linear-regression.ts";

const close = (actual: number, expected: number, tolerance = 1e-9): void =>
  assert.ok(Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected)), `${actual} vs ${expected}`);

const LINEAR: LinearModel = { features: ["a", "b", "c"], weights: [0.1, -0.5, 0.25], bias: 2 };
const linear: Predictor = async (frame) => predictLinear(LINEAR, frame);

const random = seededRandom(7);
const BACKGROUND = DataFrame.fromJSON({
  columns: ["a", "b", "c", "site"],
  data: Array.from({ length: 20 }, (_, i) => [random() * 100, 20 + random() * 10, random() * 50, `s${i}`]),
});
const ROWS = DataFrame.fromJSON({ columns: ["a", "b", "c", "site"], data: [[110, 26, 70, "x"], [90, 28, 65.5, "y"], [0, 0, 0, "z"]] });

function mean(frame: DataFrame, column: string): number {
  const values = frame.column(column);
  return values.reduce((a, v) => a + v, 0) / values.length;
}

describe("explanations", () => {
  test("KernelSHAP of a linear model equals w·(x − background mean) for every feature, and adds up to the prediction", async () => {
    const explained = await kernelShap(linear, ROWS, BACKGROUND, ["a", "b", "c"]);
    explained.forEach((row, r) => {
      LINEAR.features.forEach((f, i) => close(row.attributions[f]!, LINEAR.weights[i]! * (ROWS.column(f)[r]! - mean(BACKGROUND, f))));
      close(row.prediction, predictLinear(LINEAR, ROWS)[r]!);
      close(row.base_value + Object.values(row.attributions).reduce((a, v) => a + v, 0), row.prediction);
    });
    const exact = linearShap(LINEAR, ROWS, BACKGROUND);
    exact.forEach((row, r) => {
      for (const f of LINEAR.features) close(row.attributions[f]!, explained[r]!.attributions[f]!);
      close(row.base_value, explained[r]!.base_value);
    });
  });

  test("sampled KernelSHAP (more features than coalitions to enumerate) stays exact on a linear model", async () => {
    const features = Array.from({ length: 12 }, (_, i) => `x${i}`);
    const model: LinearModel = { features, weights: features.map((_, i) => i - 5.5), bias: 1 };
    const rand = seededRandom(3);
    const background = DataFrame.fromJSON({ columns: features, data: Array.from({ length: 5 }, () => features.map(() => rand() * 10)) });
    const rows = DataFrame.fromJSON({ columns: features, data: [features.map((_, i) => i)] });
    const [row] = await kernelShap(async (frame) => predictLinear(model, frame), rows, background, features, { samples: 300, seed: 1 });
    features.forEach((f, i) => close(row!.attributions[f]!, model.weights[i]! * (i - mean(background, f)), 1e-6));
  });

  test("an interaction is shared equally: x1·x2 against a zero background gives each half", async () => {
    const product: Predictor = async (frame) => frame.column("x1").map((v, i) => v * frame.column("x2")[i]!);
    const [row] = await kernelShap(product, DataFrame.fromJSON({ columns: ["x1", "x2"], data: [[3, 4]] }), DataFrame.fromJSON({ columns: ["x1", "x2"], data: [[0, 0]] }), ["x1", "x2"]);
    assert.deepEqual([row!.prediction, row!.base_value], [12, 0]);
    close(row!.attributions.x1!, 6);
    close(row!.attributions.x2!, 6);
  });

  test("columns that are not features keep the explained row's values in every coalition", async () => {
    const seen = new Set<unknown>();
    const predictor: Predictor = async (frame) => {
      frame.values("site").forEach((v) => seen.add(v));
      return predictLinear(LINEAR, frame);
    };
    await kernelShap(predictor, ROWS.select(["a", "b", "c", "site"]), BACKGROUND, ["a", "b"]);
    assert.deepEqual([...seen].sort(), ["x", "y", "z"]);
  });

  test("permutation importance: a feature the model ignores scores 0, the others about 2·w²·Var(x) in MSE", async () => {
    const rand = seededRandom(11);
    const rows = Array.from({ length: 60 }, () => [rand() * 100, 20 + rand() * 10, rand() * 50]);
    const model: LinearModel = { features: ["a", "b", "c"], weights: [0.1, -0.5, 0], bias: 2 };
    const data = DataFrame.fromJSON({ columns: ["a", "b", "c", "y"], data: rows.map((r) => [...r, 2 + 0.1 * r[0]! - 0.5 * r[1]!]) });
    const result = await permutationImportance(async (frame) => predictLinear(model, frame), data, {
      features: ["a", "b", "c"],
      target: "y",
      metric: "mse",
      repeats: 200,
      seed: 5,
    });
    assert.equal(result.metric, "mse");
    close(result.baseline, 0, 1e-9);
    assert.deepEqual(result.features.map((f) => f.feature), ["a", "b", "c"]);
    const c = result.features.find((f) => f.feature === "c")!;
    assert.deepEqual([c.importance, c.std], [0, 0]);
    for (const [feature, w] of [["a", 0.1], ["b", -0.5]] as const) {
      const x = data.column(feature);
      const m = x.reduce((a, v) => a + v, 0) / x.length;
      const expected = 2 * w * w * (x.reduce((a, v) => a + (v - m) ** 2, 0) / x.length);
      const found = result.features.find((f) => f.feature === feature)!.importance;
      assert.ok(Math.abs(found - expected) / expected < 0.15, `${feature}: ${found} vs ${expected}`);
    }
  });

  test("a batch beyond maxBatchRows is refused before anything is predicted", async () => {
    let calls = 0;
    const counting: Predictor = async (frame) => {
      calls += 1;
      return predictLinear(LINEAR, frame);
    };
    await assert.rejects(
      kernelShap(counting, ROWS, BACKGROUND, ["a", "b", "c"], { maxBatchRows: 100 }),
      /would predict 141 rows \(7 coalitions × 20 background rows\), more than 100/,
    );
    assert.equal(calls, 0);
  });

  test("explanations repeat for a seed", async () => {
    const features = Array.from({ length: 12 }, (_, i) => `x${i}`);
    const frame = DataFrame.fromJSON({ columns: features, data: [features.map((_, i) => i), features.map(() => 1)] });
    const square: Predictor = async (f) => f.column("x3").map((v, i) => v * v + f.column("x7")[i]!);
    const one = await kernelShap(square, frame.select(features), frame, features, { samples: 100, seed: 9 });
    const two = await kernelShap(square, frame.select(features), frame, features, { samples: 100, seed: 9 });
    assert.deepEqual(one, two);
  });
});
