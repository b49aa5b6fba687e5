import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { pyJsonDumps } from "../../../../src/modules/ml/engine/py-json.ts";
import { pyFloatRepr } from "../../../../src/modules/ml/engine/py-repr.ts";

describe("Python json.dumps(indent=2)", () => {
  test("pretty-prints with two spaces, ': ' after keys and stored key order", () => {
    assert.equal(
      pyJsonDumps({ min_samples: 3, model_type: "linear_regression", nested: { a: [1, 2.5], b: [], c: {} } }),
      '{\n  "min_samples": 3,\n  "model_type": "linear_regression",\n  "nested": {\n    "a": [\n      1,\n' +
        '      2.5\n    ],\n    "b": [],\n    "c": {}\n  }\n}',
    );
  });

  test("escapes non-ASCII characters as \\uXXXX", () => {
    assert.equal(pyJsonDumps({ name: "Zürich 🌧", q: 'a"b\\\n' }), '{\n  "name": "Z\\u00fcrich \\ud83c\\udf27",\n  "q": "a\\"b\\\\\\n"\n}');
  });

  test("prints floats like Python", () => {
    assert.equal(pyJsonDumps([1e-7, 0.1, 1e22, true, null], null), "[1e-07, 0.1, 10000000000000000000000, true, null]");
    assert.equal(pyFloatRepr(12), "12.0");
    assert.equal(pyFloatRepr(1.5e16), "1.5e+16");
    assert.equal(pyFloatRepr(0.0001), "0.0001");
  });
});
