import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { after, before, describe, test } from "node:test";
import { Type } from "@sinclair/typebox";
import { unzipSync } from "fflate";
import type { Driver } from "../../../src/db/driver.ts";
import { ShellWorkspaceRunner } from "../../../src/modules/ml/engine/shell-workspace-runner.ts";
import { isExcludedFromWorkspace } from "../../../src/modules/ml/engine/workspace.ts";
import { MLServiceBuilder } from "../../../src/service/ml-service-builder.ts";
import type { ServiceApp } from "../../../src/service/lifecycle.ts";
import { memoryStore } from "../../_support/stores.ts";
import { call, finished, json, type Json } from "./_support.ts";

const python = process.env.PYTHON ?? "python3";

const TRAIN = `import csv, sys
config = open("config.yml").read()
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
raw = open(sys.argv[1], "rb").read()
assert b"\\r\\n" in raw, "data.csv must use CRLF"
if "fail_train: true" in config:
    print("about to fail")
    sys.stderr.write("training refused\\n")
    sys.exit(4)
cases = [float(r["disease_cases"]) for r in rows]
open("model.txt", "w").write(str(sum(cases) / len(cases)))
print("trained on", len(rows), "rows")
`;

const PREDICT = `import csv, sys
historic, future, output = sys.argv[1], sys.argv[2], sys.argv[3]
config = open("config.yml").read()
if "no_output: true" in config:
    sys.exit(0)
mean = float(open("model.txt").read())
rows = list(csv.DictReader(open(future, newline="")))
with open(output, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["time_period", "location", "sample_0", "flag"])
    for r in rows:
        w.writerow([r["time_period"], r["location"], mean, "yes"])
if "fail_after_output: true" in config:
    sys.exit(3)
`;

const TRAINING = { columns: ["time_period", "location", "disease_cases"], data: [["2024-01", "a", 10], ["2024-02", "a", 30]] };
const FUTURE = { columns: ["time_period", "location"], data: [["2024-03", "a"]] };

describe("ShellWorkspaceRunner through the chap profile", () => {
  const store = memoryStore();
  let project: string;
  let temp: string;
  let driver: Driver;
  let app: ServiceApp;

  before(async () => {
    project = await mkdtemp(join(tmpdir(), "chapkit-project-"));
    temp = await mkdtemp(join(tmpdir(), "chapkit-ws-"));
    await mkdir(join(project, "scripts"));
    await writeFile(join(project, "scripts", "train.py"), TRAIN);
    await writeFile(join(project, "scripts", "predict.py"), PREDICT);
    await mkdir(join(project, "__pycache__"));
    await writeFile(join(project, "__pycache__", "x.pyc"), "cache");
    await mkdir(join(project, ".venv"));
    await writeFile(join(project, ".venv", "pyvenv.cfg"), "home");
    await writeFile(join(project, "chapkit.db"), "db");
    await writeFile(join(project, "README.md"), "readme");
    driver = await store.open();
    app = await new MLServiceBuilder({
      info: { id: "shell-model", display_name: "Shell model", period_type: "monthly" },
      configSchema: Type.Object({ depth: Type.Integer({ default: 1 }) }, { title: "ShellConfig" }),
      runner: new ShellWorkspaceRunner({
        trainCommand: `${python} scripts/train.py {data_file}`,
        predictCommand: `${python} scripts/predict.py {historic_file} {future_file} {output_file}`,
        projectDir: project,
        tempDir: temp,
        configFormat: "chap_core",
      }),
      logging: false,
      profile: "chap",
    }).withDatabase(driver).build();
  });

  after(async () => {
    await app.chapkit.close();
    await driver.close();
    await store.cleanup();
    await rm(project, { recursive: true, force: true });
    await rm(temp, { recursive: true, force: true });
  });

  async function train(data: Json = {}): Promise<{ configId: string; artifact: Json }> {
    const config = await json(await call(app, "POST", "/api/v1/configs", { name: "shell", data }), 201);
    const submitted = await json(await call(app, "POST", "/api/v1/ml/$train", { config_id: config.id, data: TRAINING }), 202);
    const job = await finished(app, String(submitted.job_id));
    assert.equal(job.status, "completed", String(job.error));
    return { configId: String(config.id), artifact: await json(await call(app, "GET", `/api/v1/artifacts/${submitted.artifact_id}`), 200) };
  }

  async function predict(trainingId: string): Promise<{ job: Json; artifactId: string }> {
    const submitted = await json(await call(app, "POST", "/api/v1/ml/$predict", { artifact_id: trainingId, historic: TRAINING, future: FUTURE }), 202);
    return { job: await finished(app, String(submitted.job_id)) as unknown as Json, artifactId: String(submitted.artifact_id) };
  }

  async function zipOf(id: string): Promise<Record<string, string>> {
    const bytes = new Uint8Array(await (await call(app, "GET", `/api/v1/artifacts/${id}/$download`)).arrayBuffer());
    return Object.fromEntries(Object.entries(unzipSync(bytes)).map(([name, content]) => [name, new TextDecoder().decode(content)]));
  }

  test("trains in a copy of the project without caches, venvs or databases, with config.yml in chap_core format", async () => {
    const { artifact } = await train({ depth: 5, extra: "x" });
    const data = artifact.data as Json;
    const metadata = data.metadata as Json;
    assert.equal(metadata.status, "success");
    assert.equal(metadata.exit_code, 0);
    assert.match(String(metadata.stdout), /trained on 2 rows/);
    const files = await zipOf(String(artifact.id));
    assert.deepEqual(Object.keys(files).sort(), ["README.md", "config.yml", "data.csv", "model.txt", "scripts/predict.py", "scripts/train.py"]);
    assert.equal(files["model.txt"], "20.0");
    assert.equal(files["data.csv"], "time_period,location,disease_cases\r\n2024-01,a,10\r\n2024-02,a,30\r\n");
    assert.equal(
      files["config.yml"],
      "prediction_periods: 3\nadditional_continuous_covariates: []\nuser_option_values:\n  depth: 5\n  extra: x\n",
    );
    assert.deepEqual(await readdir(temp), []);
  });

  test("restores the training workspace to predict and stores a level-2 prediction workspace", async () => {
    const { artifact } = await train();
    const { job, artifactId } = await predict(String(artifact.id));
    assert.equal(job.status, "completed", String(job.error));
    const prediction = await json(await call(app, "GET", `/api/v1/artifacts/${artifactId}`), 200);
    assert.deepEqual((prediction.data as Json).content, { columns: ["time_period", "location", "sample_0", "flag"], data: [["2024-03", "a", 20, true]] });
    const tree = await json(await call(app, "GET", `/api/v1/artifacts/${artifactId}/$tree`), 200);
    const [workspace] = tree.children as Json[];
    assert.equal((workspace!.data as Json).type, "ml_prediction_workspace");
    const files = await zipOf(String(workspace!.id));
    assert.ok("historic.csv" in files && "future.csv" in files && "predictions.csv" in files && "model.txt" in files);
  });

  test("completes a training whose script fails, marks the artifact failed, and fails the later prediction", async () => {
    const { artifact } = await train({ fail_train: true });
    const metadata = (artifact.data as Json).metadata as Json;
    assert.equal(metadata.status, "failed");
    assert.equal(metadata.exit_code, 4);
    assert.equal(metadata.stderr, "training refused\n");
    const { job } = await predict(String(artifact.id));
    assert.equal(job.status, "failed");
    assert.equal(job.error, `ValueError: Cannot predict using failed training artifact ${artifact.id}. Training script exited with code 4.`);
  });

  test("keeps predictions written by a failing prediction script and marks only the workspace failed", async () => {
    const { artifact } = await train({ fail_after_output: true });
    const { job, artifactId } = await predict(String(artifact.id));
    assert.equal(job.status, "completed", String(job.error));
    const tree = await json(await call(app, "GET", `/api/v1/artifacts/${artifactId}/$tree`), 200);
    assert.equal(((tree.data as Json).metadata as Json).status, "success");
    const [workspace] = tree.children as Json[];
    assert.equal(((workspace!.data as Json).metadata as Json).status, "failed");
    assert.equal(((workspace!.data as Json).metadata as Json).exit_code, 3);
  });

  test("fails the prediction job when the script writes no predictions.csv", async () => {
    const { artifact } = await train({ no_output: true });
    const { job } = await predict(String(artifact.id));
    assert.equal(job.status, "failed");
    assert.match(String(job.error), /^RuntimeError: Prediction script did not create output file at \/.*chapkit_ml_predict_\w{8}\/predictions\.csv$/);
  });

  test("names what a workspace copy leaves out", () => {
    for (const name of [".venv", "venv", "__pycache__", "x.pyc", "x.pyo", "pkg.egg-info", ".git", "node_modules", "build", "dist", "lib.so", "a.db", "b.sqlite", "c.sqlite3", ".idea"]) {
      assert.ok(isExcludedFromWorkspace(name), name);
    }
    for (const name of ["main.py", "scripts", "README.md", "data"]) assert.ok(!isExcludedFromWorkspace(name), name);
  });
});
