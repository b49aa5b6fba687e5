import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ValidationError } from "../../../../src/core/errors.ts";
import { DataFrame } from "../../../../src/modules/ml/engine/dataframe.ts";
import { KeyError, ValueError } from "../../../../src/modules/ml/engine/errors.ts";

const wire = {
  columns: ["rainfall", "mean_temperature", "disease_cases"],
  data: [[100.5, 25.3, 12], [85.2, 27.1, null], [90, 26, 9]],
};

describe("DataFrame", () => {
  test("builds from wire JSON and reports shape and dtypes", () => {
    const df = DataFrame.fromJSON(wire);
    assert.deepEqual(df.columns, ["rainfall", "mean_temperature", "disease_cases"]);
    assert.equal(df.rowCount, 3);
    assert.deepEqual(df.dtypes, { rainfall: "float", mean_temperature: "float", disease_cases: "float" });
    assert.equal(DataFrame.fromJSON({ columns: ["n"], data: [[1], [2]] }).dtype("n"), "int");
    assert.equal(DataFrame.fromJSON({ columns: ["b"], data: [[true], [false]] }).dtype("b"), "bool");
    assert.equal(DataFrame.fromJSON({ columns: ["s"], data: [["a"], [1]] }).dtype("s"), "object");
  });

  test("rejects non-string column names with their loc", () => {
    assert.throws(() => DataFrame.fromJSON({ columns: ["a", 3], data: [] }, { loc: ["body", "data"] }), (e) => {
      assert.ok(e instanceof ValidationError);
      assert.deepEqual(e.errors[0]!.loc, ["body", "data", "columns", 1]);
      assert.equal(e.errors[0]!.type, "string_type");
      return true;
    });
  });

  test("rejects rows whose length differs from the columns", () => {
    assert.throws(() => DataFrame.fromJSON({ columns: ["a", "b"], data: [[1, 2], [1]] }), (e) => {
      assert.ok(e instanceof ValidationError);
      assert.equal(e.status, 422);
      assert.deepEqual(e.errors.map((x) => x.loc), [["body", "data", 1]]);
      return true;
    });
    assert.throws(() => new DataFrame(["a", "b"], [[1]]), ValueError);
  });

  test("rejects missing columns and data members", () => {
    assert.throws(() => DataFrame.fromJSON({}), (e) => {
      assert.ok(e instanceof ValidationError);
      assert.deepEqual(e.errors.map((x) => [x.loc, x.type]), [
        [["body", "columns"], "missing"],
        [["body", "data"], "missing"],
      ]);
      return true;
    });
  });

  test("gives a numeric column as a Float64Array with NaN for null", () => {
    const cases = DataFrame.fromJSON(wire).column("disease_cases");
    assert.ok(cases instanceof Float64Array);
    assert.equal(cases[0], 12);
    assert.ok(Number.isNaN(cases[1]!));
  });

  test("fails on unknown and non-numeric columns like pandas", () => {
    const df = DataFrame.fromJSON({ columns: ["name"], data: [["x"]] });
    assert.throws(() => df.column("nope"), (e) => e instanceof KeyError && e.message === "'nope'");
    assert.throws(() => df.column("name"), ValueError);
    assert.throws(
      () => df.select(["name", "humidity"]),
      (e) => e instanceof KeyError && `${e.name}: ${e.message}` === `KeyError: "['humidity'] not in index"`,
    );
  });

  test("selects columns in the requested order", () => {
    const df = DataFrame.fromJSON(wire).select(["disease_cases", "rainfall"]);
    assert.deepEqual(df.toJSON(), { columns: ["disease_cases", "rainfall"], data: [[12, 100.5], [null, 85.2], [9, 90]] });
  });

  test("adds a column without changing the original frame", () => {
    const df = DataFrame.fromJSON(wire);
    const out = df.withColumn("sample_0", new Float64Array([1.5, 2, NaN]));
    assert.deepEqual(out.columns, [...wire.columns, "sample_0"]);
    assert.deepEqual(df.columns, wire.columns);
    assert.equal(out.dtype("sample_0"), "float");
    assert.deepEqual(out.toJSON().data[2], [90, 26, 9, null]);
    assert.throws(() => df.withColumn("x", [1, 2]), ValueError);
  });

  test("replaces an existing column in place", () => {
    const df = DataFrame.fromJSON(wire).withColumn("rainfall", ["a", "b", "c"]);
    assert.deepEqual(df.columns, wire.columns);
    assert.deepEqual(df.values("rainfall"), ["a", "b", "c"]);
  });

  test("gives rows and records", () => {
    const df = DataFrame.fromJSON({ columns: ["a", "b"], data: [[1, "x"], [2, null]] });
    assert.deepEqual(df.rows(), [[1, "x"], [2, null]]);
    assert.deepEqual(df.records(), [{ a: 1, b: "x" }, { a: 2, b: null }]);
    assert.deepEqual(DataFrame.fromRecords(df.records()).toJSON(), df.toJSON());
    assert.deepEqual(DataFrame.fromColumns({ a: [1, 2], b: new Float64Array([0.5, 1]) }).toJSON(), {
      columns: ["a", "b"],
      data: [[1, 0.5], [2, 1]],
    });
  });

  test("renders NaN and infinities as null in JSON", () => {
    const df = DataFrame.fromColumns({ x: new Float64Array([NaN, Infinity, 1]) });
    assert.equal(JSON.stringify(df), '{"columns":["x"],"data":[[null],[null],[1]]}');
  });
});
