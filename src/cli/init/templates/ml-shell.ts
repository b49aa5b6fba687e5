/** `ml-shell`: training and prediction by Python scripts (standard library only) through the shell runner. */
import type { ProjectTemplate } from "../template.ts";
import { ENV_IMPORT } from "./_test-prelude.ts";
import { mlService, mlTest, ML_USAGE } from "./ml.ts";

const TRAIN = `#!/usr/bin/env python3
"""Fit disease_cases ~ rainfall + mean_temperature by least squares; write the model as JSON."""
import argparse, csv, json

parser = argparse.ArgumentParser()
parser.add_argument("--config"); parser.add_argument("--data"); parser.add_argument("--model")
args = parser.parse_args()
with open(args.data, newline="") as handle:
    rows = [{k: float(v) for k, v in row.items()} for row in csv.DictReader(handle)]
xs = [(1.0, r["rainfall"], r["mean_temperature"]) for r in rows]
ys = [r["disease_cases"] for r in rows]
# normal equations X'X b = X'y, solved by Gaussian elimination
a = [[sum(x[i] * x[j] for x in xs) for j in range(3)] + [sum(x[i] * y for x, y in zip(xs, ys))] for i in range(3)]
for c in range(3):
    p = max(range(c, 3), key=lambda r: abs(a[r][c])); a[c], a[p] = a[p], a[c]
    for r in range(3):
        if r != c:
            f = a[r][c] / a[c][c]; a[r] = [u - f * v for u, v in zip(a[r], a[c])]
coefficients = [a[i][3] / a[i][i] for i in range(3)]
with open(args.model, "w") as handle:
    json.dump({"coefficients": coefficients}, handle)
`;

const PREDICT = `#!/usr/bin/env python3
"""Add a sample_0 column of predicted disease cases to the future rows."""
import argparse, csv, json

parser = argparse.ArgumentParser()
for name in ("--config", "--model", "--historic", "--future", "--output", "--geo"):
    parser.add_argument(name)
args = parser.parse_args()
with open(args.model) as handle:
    b = json.load(handle)["coefficients"]
with open(args.future, newline="") as handle:
    reader = csv.DictReader(handle)
    columns, rows = reader.fieldnames, list(reader)
with open(args.output, "w", newline="") as handle:
    writer = csv.writer(handle)
    writer.writerow(columns + ["sample_0"])
    for row in rows:
        value = b[0] + b[1] * float(row["rainfall"]) + b[2] * float(row["mean_temperature"])
        writer.writerow([row[c] for c in columns] + [value])
`;

// The generated code reads import.meta.url, spelt in two parts below so the build does not rewrite it as a URL of this file.

/** `chapkit init --template ml-shell`: train/predict by external scripts through the shell runner. */
export const mlShellTemplate: ProjectTemplate = {
  name: "ml-shell",
  description: "train/predict by external Python scripts (any language works) through the shell runner",
  usage: `${ML_USAGE} Training and prediction run \`scripts/train.py\` and \`scripts/predict.py\` ` +
    "with Python 3 (`PYTHON` chooses the interpreter); replace them with scripts in any language.",
  aptPackages: ["python3"],
  files: () => ({ "scripts/train.py": TRAIN, "scripts/predict.py": PREDICT }),
  main: ({ name, title }) => `/**
 * ${title}: training and prediction by the scripts in scripts/.
 *
 * Environment: PORT (default 8000), DATABASE_URL (default sqlite:./${name}.db), PYTHON (default python3).
 */
${ENV_IMPORT}
import { fileURLToPath } from "node:url";
import { Type } from "@sinclair/typebox";
import { MLServiceBuilder } from "chapkit";
import { ShellModelRunner } from "chapkit/ml";

const scripts = fileURLToPath(new URL("./scripts/", import.meta.${"url"}).href);
const python = process.env.PYTHON ?? "python3";

/** Each command runs in a fresh temporary directory with the {placeholders} filled in. */
export const runner: ShellModelRunner = new ShellModelRunner({
  trainCommand: \`\${python} "\${scripts}train.py" --config {config_file} --data {data_file} --model {model_file}\`,
  predictCommand:
    \`\${python} "\${scripts}predict.py" --config {config_file} --model {model_file} --future {future_file} --output {output_file}\`,
  modelFormat: "json",
});

${mlService({ name, title, summary: "Disease cases from weather data, modelled by scripts", configTitle: "ShellConfig", runner: "runner" })}`,
  test: mlTest,
};
