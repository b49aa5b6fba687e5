/**
 * ML shell: training and prediction by external scripts
 * (`examples/scripts/train_model.py` and `predict_model.py`, Python standard
 * library only) over `rainfall`, `mean_temperature` and `humidity`, with
 * config fields `min_samples` (default 3) and `model_type` (default
 * `"linear_regression"`). The model file's bytes are stored verbatim.
 *
 *   bun examples/ml_shell.ts        # or: deno run -A examples/ml_shell.ts
 *
 * Environment: `PORT` (default 8000), `DATABASE_URL` (default in-memory SQLite), `PYTHON` (default `python3`).
 */
import { Type } from "@sinclair/typebox";
import { fileURLToPath } from "node:url";
import { MLServiceBuilder } from "chapkit";
import { ShellModelRunner } from "chapkit/ml";

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
const scripts = fileURLToPath(new URL("./scripts/", import.meta.url).href);
const python = env.PYTHON ?? "python3";

/** The config schema of this service. */
export const ShellConfig = Type.Object({
  min_samples: Type.Integer({ default: 3, title: "Min Samples" }),
  model_type: Type.String({ default: "linear_regression", title: "Model Type" }),
}, { title: "ShellConfig", additionalProperties: true });

/** The runner: each command runs in a fresh temp dir with the placeholders filled in. */
export const runner: ShellModelRunner = new ShellModelRunner({
  trainCommand: `${python} "${scripts}train_model.py" --config {config_file} --data {data_file} --model {model_file}`,
  predictCommand:
    `${python} "${scripts}predict_model.py" --config {config_file} --model {model_file} --future {future_file} --output {output_file}`,
  modelFormat: "json",
});

if (import.meta.main) {
  const service = await new MLServiceBuilder({
    info: {
      display_name: "Shell ML Service",
      version: "1.0.0",
      summary: "Language-agnostic models: training and prediction by external scripts",
      author: "ML Team",
      author_assessed_status: "yellow",
    },
    configSchema: ShellConfig,
    runner,
    ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
  }).withMonitoring().listen(Number(env.PORT ?? 8000));
  console.log(`ML shell service on ${service.url} (docs at ${service.url}/docs)`);
}
