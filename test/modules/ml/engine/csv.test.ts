import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DataFrame } from "../../../../src/modules/ml/engine/dataframe.ts";

describe("DataFrame CSV", () => {
  test("writes a header, \\n line ends and floats with .0 like pandas", () => {
    const df = DataFrame.fromJSON({
      columns: ["rainfall", "mean_temperature", "disease_cases"],
      data: [[100.5, 25, 12], [85.2, 27.1, 8]],
    });
    assert.equal(df.toCSV(), "rainfall,mean_temperature,disease_cases\n100.5,25.0,12\n85.2,27.1,8\n");
  });

  test("writes null and NaN as empty fields and booleans as True/False", () => {
    const df = DataFrame.fromJSON({
      columns: ["n", "flag", "label"],
      data: [[1, true, "a"], [null, false, null]],
    });
    assert.equal(df.toCSV(), "n,flag,label\n1.0,True,a\n,False,\n");
  });

  test("quotes minimally and doubles quotes", () => {
    const df = DataFrame.fromJSON({
      columns: ["text", "a,b"],
      data: [['say "hi"', "x,y"], ["line\nbreak", "plain"]],
    });
    assert.equal(df.toCSV(), 'text,"a,b"\n"say ""hi""","x,y"\n"line\nbreak",plain\n');
  });

  test("writes Python float reprs for small and large numbers", () => {
    const df = DataFrame.fromColumns({ x: new Float64Array([0.00001, 1e16, 123456789.5, -0.5]) });
    assert.equal(df.toCSV(), "x\n1e-05\n1e+16\n123456789.5\n-0.5\n");
  });

  test("infers ints, floats, booleans, strings and nulls when reading", () => {
    const df = DataFrame.fromCSV("i,f,g,b,s,e\n1,1.5,2,True,x,\n2,3,,False,,\n");
    assert.deepEqual(df.dtypes, { i: "int", f: "float", g: "float", b: "bool", s: "object", e: "float" });
    assert.deepEqual(df.toJSON().data, [[1, 1.5, 2, true, "x", null], [2, 3, null, false, null, null]]);
  });

  test("round-trips quoting, nulls and booleans", () => {
    const original = DataFrame.fromJSON({
      columns: ["name", "value", "ok", "note"],
      data: [["a,b", 1.5, true, 'he said "x"'], ["multi\nline", null, false, null], ["", 2, true, "plain"]],
    });
    const back = DataFrame.fromCSV(original.toCSV());
    assert.deepEqual(back.toJSON(), {
      columns: ["name", "value", "ok", "note"],
      data: [["a,b", 1.5, true, 'he said "x"'], ["multi\nline", null, false, null], [null, 2, true, "plain"]],
    });
    assert.equal(back.toCSV(), original.toCSV());
  });

  test("reads \\r\\n line ends and skips blank lines", () => {
    const df = DataFrame.fromCSV("a,b\r\n1,x\r\n\r\n2,y\r\n");
    assert.deepEqual(df.toJSON(), { columns: ["a", "b"], data: [[1, "x"], [2, "y"]] });
  });

  test("writes a lone empty field as a quoted empty string", () => {
    const df = DataFrame.fromJSON({ columns: ["a"], data: [[null], ["x"]] });
    assert.equal(df.toCSV(), 'a\n""\nx\n');
  });
});
