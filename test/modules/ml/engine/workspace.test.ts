import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { strToU8, zipSync } from "fflate";
import { DataFrame } from "../../../../src/modules/ml/engine/dataframe.ts";
import { RuntimeError } from "../../../../src/modules/ml/engine/errors.ts";
import { configYaml, csvCrlf, readPredictionsCsv, unzipFiles, unzipInto, zipFiles } from "../../../../src/modules/ml/engine/workspace.ts";

describe("workspace files", () => {
  test("writes CSV as Python's csv module does: CRLF, minimal quoting, empty nulls, True/False, floats with .0", () => {
    const frame = DataFrame.fromJSON({
      columns: ["location", "cases", "rain", "flag"],
      data: [["a,b", 1, 2.5, true], ['say "hi"', 2, 3, false], ["c", null, null, null]],
    });
    assert.equal(csvCrlf(frame), 'location,cases,rain,flag\r\n"a,b",1.0,2.5,True\r\n"say ""hi""",2.0,3.0,False\r\nc,,,\r\n');
  });

  test("reads predictions per column: empty is null, yes/no are booleans, ints, floats, other mixes strings", () => {
    const frame = readPredictionsCsv("a,b,c,d,e\r\n1,1.5,yes,x,\r\n2,2,NO,3,\r\n");
    assert.deepEqual(frame.toJSON(), {
      columns: ["a", "b", "c", "d", "e"],
      data: [[1, 1.5, true, "x", null], [2, 2, false, "3", null]],
    });
  });

  test("lays config.yml out flat or as chap-core's model config", () => {
    const config = { prediction_periods: 3, additional_continuous_covariates: ["x"], lags: 2, name: "a: b" };
    assert.equal(configYaml(config), "prediction_periods: 3\nadditional_continuous_covariates:\n  - x\nlags: 2\nname: 'a: b'\n");
    assert.equal(
      configYaml(config, "chap_core"),
      "prediction_periods: 3\nadditional_continuous_covariates:\n  - x\nuser_option_values:\n  lags: 2\n  name: 'a: b'\n",
    );
  });

  test("zips files and reads them back; a corrupt archive is a RuntimeError", () => {
    const zip = zipFiles({ "a.txt": strToU8("alpha"), "dir/b.csv": strToU8("b") });
    assert.deepEqual(Object.keys(unzipFiles(zip)).sort(), ["a.txt", "dir/b.csv"]);
    assert.throws(() => unzipFiles(zip.slice(0, 20)), RuntimeError);
  });

  test("restores a workspace into a directory and refuses entries that leave it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "chapkit-unzip-"));
    try {
      await unzipInto(zipFiles({ "scripts/train.py": strToU8("print(1)") }), dir);
      assert.equal(await readFile(join(dir, "scripts", "train.py"), "utf8"), "print(1)");
      await assert.rejects(unzipInto(zipSync({ "../escape.txt": strToU8("x") }), dir), /leaves the workspace/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
