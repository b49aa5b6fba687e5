import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { IndexError, KeyError, ValueError } from "../../../../src/modules/ml/engine/errors.ts";
import { pyFormat } from "../../../../src/modules/ml/engine/py-format.ts";

const files = { config_file: "/tmp/d/config.json", data_file: "/tmp/d/data.csv", geo_file: "" };
const label = (e: unknown): string => `${(e as Error).name}: ${(e as Error).message}`;

describe("Python str.format semantics", () => {
  test("substitutes named placeholders, empty values included", () => {
    assert.equal(
      pyFormat("run --config {config_file} --data {data_file} --geo '{geo_file}'", files),
      "run --config /tmp/d/config.json --data /tmp/d/data.csv --geo ''",
    );
  });

  test("turns doubled braces into literal braces", () => {
    assert.equal(pyFormat("awk '{{print $1}}' {data_file}", files), "awk '{print $1}' /tmp/d/data.csv");
  });

  test("fails an unknown name with KeyError: 'name'", () => {
    assert.throws(() => pyFormat("python {script_dir}/train.py", files), (e) => {
      assert.ok(e instanceof KeyError);
      assert.equal(label(e), "KeyError: 'script_dir'");
      return true;
    });
  });

  test("fails a bare {} and a numeric field with IndexError", () => {
    assert.throws(() => pyFormat("echo {}", files), (e) => e instanceof IndexError &&
      label(e) === "IndexError: Replacement index 0 out of range for positional args tuple");
    assert.throws(() => pyFormat("echo {1}", files), IndexError);
  });

  test("fails unbalanced braces with ValueError", () => {
    assert.throws(() => pyFormat("echo }", files), (e) => e instanceof ValueError &&
      e.message === "Single '}' encountered in format string");
    assert.throws(() => pyFormat("echo {", files), (e) => e instanceof ValueError &&
      e.message === "Single '{' encountered in format string");
    assert.throws(() => pyFormat("echo {data_file", files), (e) => e instanceof ValueError &&
      e.message === "expected '}' before end of string");
  });

  test("applies conversions and string format specs", () => {
    assert.equal(pyFormat("{geo_file!r}", files), "''");
    assert.equal(pyFormat("[{geo_file:>3}]", files), "[   ]");
    assert.equal(pyFormat("{data_file:.4}", files), "/tmp");
  });
});
