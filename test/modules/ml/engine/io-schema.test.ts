import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DataFrame } from "../../../../src/modules/ml/engine/dataframe.ts";
import {
  assertColumns,
  assertOutputs,
  checkColumns,
  type ColumnSpec,
  ModelInputError,
  ModelOutputError,
  rowSample,
} from "../../../../src/modules/ml/engine/io-schema.ts";

const SPECS: ColumnSpec[] = [
  { name: "rainfall", type: "number", minimum: 0 },
  { name: "month", type: "integer", minimum: 1, maximum: 12 },
  { name: "region", type: "string", enum: ["north", "south"] },
  { name: "humidity", nullable: true },
  { name: "urban", type: "boolean" },
];

describe("model signatures", () => {
  test("a frame that matches its declaration has no problems", () => {
    const frame = DataFrame.fromJSON({
      columns: ["rainfall", "month", "region", "humidity", "urban", "extra"],
      data: [[1.5, 1, "north", null, true, "x"], [0, 12, "south", 70, false, "y"]],
    });
    assert.deepEqual(checkColumns(frame, SPECS), []);
  });

  test("every offending column is reported with its kind, count, first rows and values", () => {
    const frame = DataFrame.fromJSON({
      columns: ["rainfall", "month", "region", "urban", "extra"],
      data: [
        [1, 13, "north", true, 0],
        ["wet", 2, "east", true, 0],
        [-2, 2.5, "south", "yes", 0],
        [null, 3, "north", false, 0],
      ],
    });
    const problems = checkColumns(frame, SPECS, { extra: "forbid" });
    const summary = problems.map((p) => [p.column, p.problem, p.count, p.rows, p.values]);
    assert.deepEqual(summary, [
      ["rainfall", "type", 1, [1], ["wet"]],
      ["rainfall", "range", 1, [2], [-2]],
      ["rainfall", "null", 1, [3], [null]],
      ["month", "range", 1, [0], [13]],
      ["month", "type", 1, [2], [2.5]],
      ["region", "enum", 1, [1], ["east"]],
      ["humidity", "missing", 0, [], []],
      ["urban", "type", 1, [2], ["yes"]],
      ["extra", "unexpected", 0, [], []],
    ]);
    assert.equal(problems[0]!.expected, "number, not null, >= 0");
  });

  test("the row sample holds the first three offending rows in full", () => {
    const frame = DataFrame.fromJSON({ columns: ["rainfall", "note"], data: [[1, "a"], [-1, "b"], [-2, "c"], [-3, "d"], [-4, "e"]] });
    const problems = checkColumns(frame, [{ name: "rainfall", minimum: 0 }]);
    assert.deepEqual(problems[0]!.rows, [1, 2, 3, 4]);
    assert.deepEqual(rowSample(frame, problems), [
      { row: 1, values: { rainfall: -1, note: "b" } },
      { row: 2, values: { rainfall: -2, note: "c" } },
      { row: 3, values: { rainfall: -3, note: "d" } },
    ]);
  });

  test("NaN in a float column counts as null", () => {
    const frame = DataFrame.fromColumns({ x: new Float64Array([1, NaN]) });
    assert.deepEqual(checkColumns(frame, [{ name: "x" }]).map((p) => [p.problem, p.rows]), [["null", [1]]]);
    assert.deepEqual(checkColumns(frame, [{ name: "x", nullable: true }]), []);
  });

  test("assertColumns throws a 422 problem listing the columns, a row sample and field errors", () => {
    const frame = DataFrame.fromJSON({ columns: ["rainfall"], data: [["wet"]] });
    assert.throws(() => assertColumns(frame, [{ name: "rainfall" }, { name: "month", type: "integer" }], { loc: ["body", "future"] }), (error) => {
      assert.ok(error instanceof ModelInputError);
      const body = error.toProblem("/api/v1/ml/$predict");
      assert.equal(body.status, 422);
      assert.equal(body.type, "urn:chapkit:error:invalid-model-input");
      assert.equal(body.detail, "2 columns of future do not match the model's signature: rainfall (type: 1 row, expected number, not null); month (missing)");
      assert.deepEqual((body.columns as { column: string }[]).map((c) => c.column), ["rainfall", "month"]);
      assert.deepEqual(body.sample, [{ row: 0, values: { rainfall: "wet" } }]);
      assert.deepEqual((body.errors as { loc: unknown[]; type: string }[]).map((e) => [e.loc.join("."), e.type]), [
        ["body.future.columns.rainfall", "column_type"],
        ["body.future.columns.month", "column_missing"],
      ]);
      return true;
    });
  });

  test("predictions missing a declared output, or holding a wrong value, fail the output check", () => {
    const predictions = DataFrame.fromJSON({ columns: ["sample_0"], data: [[1], ["x"]] });
    assert.doesNotThrow(() => assertOutputs(predictions, { inputs: [] }));
    assert.throws(
      () => assertOutputs(predictions, { inputs: [], outputs: [{ name: "sample_0" }, { name: "sample_1" }] }),
      (error) =>
        error instanceof ModelOutputError && error.name === "ModelOutputError" &&
        error.message === "The predictions do not match the model's declared outputs: sample_0 (type: 1 row, expected number, not null); sample_1 (missing)",
    );
  });
});
