import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DataFrame } from "../../../../src/modules/ml/engine/dataframe.ts";
import { ValueError } from "../../../../src/modules/ml/engine/errors.ts";
import { FeatureCatalog, type FeatureFunction } from "../../../../src/modules/ml/engine/features.ts";

const log1p: FeatureFunction = ({ number, inputs }) => number(inputs[0]!).map(Math.log1p);
const product: FeatureFunction = ({ number, inputs }) => {
  const [a, b] = inputs.map((name) => number(name));
  return a!.map((x, i) => x * b![i]!);
};
const scale: FeatureFunction = ({ number, inputs, params }) => number(inputs[0]!).map((x) => x * Number(params.by));

function catalog(): FeatureCatalog {
  return new FeatureCatalog()
    .function("log1p", log1p)
    .function("product", product)
    .function("scale", scale)
    .define({ name: "weather", version: 1, features: [{ name: "log_rain", fn: "log1p", inputs: ["rainfall"] }] })
    .define({
      name: "weather",
      version: 2,
      features: [
        { name: "log_rain", fn: "log1p", inputs: ["rainfall"] },
        { name: "wet_heat", fn: "product", inputs: ["log_rain", "mean_temperature"] },
        { name: "temp_f", fn: "scale", inputs: ["mean_temperature"], params: { by: 1.8 } },
      ],
    });
}

const FRAME = DataFrame.fromJSON({ columns: ["rainfall", "mean_temperature", "location"], data: [[0, 20, "a"], [Math.E - 1, 30, "b"]] });

describe("feature sets", () => {
  test("a name alone resolves to its highest version, name@n to that version", () => {
    const features = catalog();
    assert.equal(features.find("weather")?.version, 2);
    assert.equal(features.find("weather@1")?.features.length, 1);
    assert.equal(features.find("weather@3"), undefined);
    assert.deepEqual(features.list().map((s) => `${s.name}@${s.version}`), ["weather@2", "weather@1"]);
  });

  test("the frozen set keeps definitions, raw inputs and a SHA-256 of each function's source", () => {
    const stored = catalog().freeze("weather");
    assert.deepEqual(stored.inputs, ["rainfall", "mean_temperature"]);
    assert.deepEqual(stored.features.map((f) => [f.name, f.fn, f.inputs]), [
      ["log_rain", "log1p", ["rainfall"]],
      ["wet_heat", "product", ["log_rain", "mean_temperature"]],
      ["temp_f", "scale", ["mean_temperature"]],
    ]);
    for (const feature of stored.features) assert.match(feature.code, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(JSON.parse(JSON.stringify(stored)), stored);
  });

  test("applying a set adds its columns in order, later features reading earlier ones", () => {
    const out = catalog().apply(catalog().freeze("weather@2"), FRAME);
    assert.deepEqual(out.columns, ["rainfall", "mean_temperature", "location", "log_rain", "wet_heat", "temp_f"]);
    assert.deepEqual(Array.from(out.column("log_rain")), [0, 1]);
    assert.deepEqual(Array.from(out.column("wet_heat")), [0, 30]);
    assert.deepEqual(Array.from(out.column("temp_f")), [36, 54]);
  });

  test("a function sees only its declared inputs", () => {
    let seen: readonly string[] = [];
    const features = new FeatureCatalog()
      .function("peek", ({ frame }) => {
        seen = frame.columns;
        return frame.values(frame.columns[0]!);
      })
      .define({ name: "p", version: 1, features: [{ name: "copy", fn: "peek", inputs: ["rainfall"] }] });
    features.apply(features.freeze("p"), FRAME);
    assert.deepEqual(seen, ["rainfall"]);
  });

  test("a function whose source changed since the set was stored is refused, unless code checks are off", () => {
    const stored = catalog().freeze("weather@1");
    const changed = new FeatureCatalog().function("log1p", ({ number, inputs }) => number(inputs[0]!).map((x) => Math.log(x + 1)));
    assert.throws(() => changed.apply(stored, FRAME), (error) =>
      error instanceof ValueError &&
      /^Function log1p of feature log_rain of feature set weather@1 changed since the model was trained \(sha256:/.test(error.message));
    const lenient = new FeatureCatalog({ checkCode: false }).function("log1p", ({ number, inputs }) => number(inputs[0]!).map((x) => Math.log(x + 1)));
    assert.deepEqual(Array.from(lenient.apply(stored, FRAME).column("log_rain")), [0, 1]);
  });

  test("a missing function, a missing input column or a wrong length is a clear error", () => {
    const stored = catalog().freeze("weather@1");
    assert.throws(() => new FeatureCatalog().apply(stored, FRAME), /Function log1p of feature log_rain of feature set weather@1 is not registered/);
    assert.throws(() => catalog().apply(stored, FRAME.select(["location"])), /Input column rainfall of feature log_rain of feature set weather@1 is missing/);
    const short = new FeatureCatalog().function("short", () => [1]).define({ name: "s", version: 1, features: [{ name: "x", fn: "short", inputs: [] }] });
    assert.throws(() => short.apply(short.freeze("s"), FRAME), /returned 1 values for 2 rows/);
  });

  test("definitions naming unknown functions, later features, taken versions or bad versions are refused", () => {
    const features = catalog();
    assert.throws(() => features.define({ name: "x", version: 1, features: [{ name: "a", fn: "nope", inputs: [] }] }), /unregistered function nope/);
    assert.throws(
      () => features.define({ name: "x", version: 1, features: [{ name: "a", fn: "log1p", inputs: ["b"] }, { name: "b", fn: "log1p", inputs: ["r"] }] }),
      /feature a reads b, computed later/,
    );
    assert.throws(() => features.define({ name: "weather", version: 2, features: [{ name: "a", fn: "log1p", inputs: ["r"] }] }), /already defined/);
    assert.throws(() => features.define({ name: "x", version: 0, features: [{ name: "a", fn: "log1p", inputs: ["r"] }] }), /positive integer/);
    assert.throws(() => features.function("log1p", log1p), /already registered/);
    assert.throws(() => features.freeze("nope"), (error) => error instanceof ValueError && /Feature set nope is not defined/.test(error.message));
  });
});
