import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { DataFrame } from "../../../../src/modules/ml/engine/dataframe.ts";
import { KeyError, RuntimeError } from "../../../../src/modules/ml/engine/errors.ts";
import { isBinaryModel, runPredict, runTrain, type TrainedModel } from "../../../../src/modules/ml/engine/runner.ts";
import { ShellModelRunner } from "../../../../src/modules/ml/engine/shell-runner.ts";

const scripts = fileURLToPath(new URL("../../../../examples/scripts/", import.meta.url).href);
const trainCommand = `python3 ${scripts}train_model.py --config {config_file} --data {data_file} --model {model_file}`;
const predictCommand = `python3 ${scripts}predict_model.py --config {config_file} --model {model_file} ` +
  "--future {future_file} --output {output_file}";
const config = { min_samples: 3, model_type: "linear_regression" };
const training = DataFrame.fromJSON({
  columns: ["rainfall", "mean_temperature", "humidity", "disease_cases"],
  data: [[100.5, 25.3, 75.05, 12], [85.2, 27.1, 70, 8], [120, 24, 80.5, 15], [95, 26, 72, 10], [110, 25.5, 78, 13]],
});
const future = DataFrame.fromJSON({
  columns: ["rainfall", "mean_temperature", "humidity"],
  data: [[110, 26, 77], [90, 28, 71], [125, 24, 82]],
});
const signal = new AbortController().signal;
const label = (e: unknown): string => `${(e as Error).name}: ${(e as Error).message}`;

let base = "";
before(async () => {
  base = await mkdtemp(join(tmpdir(), "chapkit-shell-test-"));
});
after(async () => {
  await rm(base, { recursive: true, force: true });
});

function runner(trainCmd: string, predictCmd = "true"): ShellModelRunner {
  return new ShellModelRunner({ trainCommand: trainCmd, predictCommand: predictCmd, tempDir: base });
}

// A killed process may stay a zombie until its (re)parent reaps it; that is not running.
async function isRunning(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  return stat !== "" && !/^\d+ \(.*\) [ZX]/s.test(stat);
}

async function text(model: TrainedModel): Promise<string> {
  assert.ok(isBinaryModel(model));
  assert.equal(model.contentType, "application/octet-stream");
  return new TextDecoder().decode(model.bytes);
}

describe("ShellModelRunner", () => {
  test("trains and predicts with the example Python scripts", async () => {
    const shell = runner(trainCommand, predictCommand);
    const model = await runTrain(shell, { config, data: training, geo: null, signal });
    const saved = JSON.parse(await text(model));
    assert.equal(saved.model_type, "linear_regression");
    assert.equal(saved.coefficients.length, 3);
    const predictions = await runPredict(shell, { config, model, historic: null, future, geo: null, signal });
    assert.deepEqual(predictions.columns, ["rainfall", "mean_temperature", "humidity", "sample_0"]);
    assert.equal(predictions.rowCount, 3);
    const expected = future.rows().map(([r, t, h]) =>
      saved.intercept + saved.coefficients[0] * (r as number) + saved.coefficients[1] * (t as number) +
      saved.coefficients[2] * (h as number)
    );
    predictions.column("sample_0").forEach((value, i) => assert.ok(Math.abs(value - expected[i]!) < 1e-9));
    assert.deepEqual(await readdir(base), []);
  });

  test("reports a failing script with its exit code and stderr", async () => {
    const shell = runner(trainCommand);
    const data = training.select(["rainfall", "mean_temperature", "disease_cases"]);
    await assert.rejects(runTrain(shell, { config, data, geo: null, signal }), (e) => {
      assert.ok(e instanceof RuntimeError);
      assert.equal(
        label(e),
        "RuntimeError: Training script failed with exit code 1: Loaded config: min_samples=3, model_type=linear_regression\n" +
          "ERROR: Training failed: \"['humidity'] not in index\"\n",
      );
      return true;
    });
    await assert.rejects(
      runner("true", "echo oops >&2; exit 3").predict({ config, model: { bytes: new Uint8Array(1), contentType: "x" }, historic: null, future, geo: null, signal }),
      (e) => label(e) === "RuntimeError: Prediction script failed with exit code 3: oops\n",
    );
    assert.deepEqual(await readdir(base), []);
  });

  test("fails when the training script writes no model file", async () => {
    await assert.rejects(runner("true").train({ config, data: training, geo: null, signal }), (e) => {
      assert.ok(e instanceof RuntimeError);
      assert.match(e.message, /^Training script did not create model file at .*\/chapkit_ml_train_[a-z0-9_]{8}\/model\.pickle$/);
      return true;
    });
  });

  test("fails when the prediction script writes no output file", async () => {
    const model = { bytes: new Uint8Array([1]), contentType: "application/octet-stream" };
    await assert.rejects(runner("true", "true").predict({ config, model, historic: null, future, geo: null, signal }), (e) => {
      assert.ok(e instanceof RuntimeError);
      assert.match(e.message, /^Prediction script did not create output file at .*\/chapkit_ml_predict_[a-z0-9_]{8}\/predictions\.csv$/);
      return true;
    });
    assert.deepEqual(await readdir(base), []);
  });

  test("stores the model file's bytes verbatim and writes them back verbatim", async () => {
    const write = `python3 -c "import sys; open(sys.argv[1], 'wb').write(bytes(range(256)))" {model_file}`;
    const echo = `python3 -c "import sys; open(sys.argv[2], 'w').write('hex\\nx' + open(sys.argv[1], 'rb').read().hex() + '\\n')" ` +
      "{model_file} {output_file}";
    const shell = runner(write, echo);
    const model = await shell.train({ config, data: training, geo: null, signal });
    assert.ok(isBinaryModel(model));
    assert.deepEqual(model.bytes, Uint8Array.from({ length: 256 }, (_, i) => i));
    const out = await shell.predict({ config, model, historic: null, future, geo: null, signal });
    assert.equal(out.values("hex")[0], "x" + Buffer.from(model.bytes).toString("hex"));
  });

  test("writes config.json like Python json.dumps(indent=2) and runs in the temp dir", async () => {
    const shell = runner("cp {config_file} {model_file}; pwd >> {model_file}");
    const model = await shell.train({ config: { name: "Zürich", min_samples: 3, weights: [0.5, 2] }, data: training, geo: null, signal });
    const [json, cwd] = (await text(model)).split("}", 2).map((part, i) => (i === 0 ? `${part}}` : part.trim()));
    assert.equal(json, '{\n  "name": "Z\\u00fcrich",\n  "min_samples": 3,\n  "weights": [\n    0.5,\n    2\n  ]\n}');
    assert.match(cwd!, /\/chapkit_ml_train_[a-z0-9_]{8}$/);
  });

  test("writes data.csv and future.csv as CSV and reads predictions back", async () => {
    const copy = runner("cp {data_file} {model_file}", "cp {future_file} {output_file}");
    const model = await copy.train({ config, data: training, geo: null, signal });
    assert.equal(await text(model), training.toCSV());
    assert.match(await text(model), /^rainfall,mean_temperature,humidity,disease_cases\n100\.5,25\.3,75\.05,12\n85\.2,27\.1,70\.0,8\n/);
    const back = await copy.predict({ config, model, historic: null, future, geo: null, signal });
    assert.deepEqual(back.toJSON(), future.toJSON());
  });

  test("passes geo and historic files only when given", async () => {
    const geo = { type: "FeatureCollection" as const, features: [{ type: "Feature" as const, geometry: null, properties: { id: 1 }, id: null as never }] };
    const shell = runner("printf '[%s]' '{geo_file}' > {model_file}", "printf 'h,g\\nx%s,y%s\\n' '{historic_file}' '{geo_file}' > {output_file}");
    assert.equal(await text(await shell.train({ config, data: training, geo: null, signal })), "[]");
    const withGeo = runner("cat {geo_file} > {model_file}");
    assert.equal(
      await text(await withGeo.train({ config, data: training, geo, signal })),
      '{\n  "type": "FeatureCollection",\n  "features": [\n    {\n      "type": "Feature",\n      "geometry": null,\n' +
        '      "properties": {\n        "id": 1\n      }\n    }\n  ]\n}',
    );
    const model = { bytes: new Uint8Array(0), contentType: "application/octet-stream" };
    const none = await shell.predict({ config, model, historic: null, future, geo: null, signal });
    assert.deepEqual(none.toJSON().data, [["x", "y"]]);
    const both = await shell.predict({ config, model, historic: training, future, geo, signal });
    assert.match(String(both.values("h")[0]), /\/chapkit_ml_predict_[a-z0-9_]{8}\/historic\.csv$/);
    assert.match(String(both.values("g")[0]), /\/geo\.json$/);
  });

  test("fails an unknown placeholder with KeyError and removes the temp dir", async () => {
    await assert.rejects(
      runner("python {script_dir}/train.py").train({ config, data: training, geo: null, signal }),
      (e) => e instanceof KeyError && label(e) === "KeyError: 'script_dir'",
    );
    assert.deepEqual(await readdir(base), []);
  });

  test("kills the script's process group when aborted", async () => {
    const pidFile = join(base, "..", `chapkit-shell-pid-${process.pid}`);
    const controller = new AbortController();
    const shell = runner(`sleep 30 & echo $! > ${pidFile}; wait`);
    const pending = shell.train({ config, data: training, geo: null, signal: controller.signal });
    let pid = 0;
    while (!pid) {
      await new Promise((r) => setTimeout(r, 20));
      pid = Number(await readFile(pidFile, "utf8").catch(() => "0"));
    }
    controller.abort();
    await assert.rejects(pending, (e) => (e as Error).name === "AbortError");
    await rm(pidFile, { force: true });
    assert.ok(!(await isRunning(pid)), `process ${pid} still runs`);
    assert.deepEqual(await readdir(base), []);
  });

  test("leaves no chapkit_ml_* directories in the system temp dir", async () => {
    const list = async () => (await readdir(tmpdir())).filter((n) => n.startsWith("chapkit_ml_"));
    const existing = new Set(await list());
    const shell = new ShellModelRunner({ trainCommand, predictCommand });
    const model = await shell.train({ config, data: training, geo: null, signal });
    await shell.predict({ config, model, historic: null, future, geo: null, signal });
    await assert.rejects(shell.predict({ config, model, historic: null, future: training.select(["rainfall"]), geo: null, signal }));
    assert.deepEqual((await list()).filter((n) => !existing.has(n)), []);
  });
});
