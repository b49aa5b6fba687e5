/**
 * ShellModelRunner: trains and predicts by running external scripts (Python,
 * R, anything) that exchange files with chapkit, exactly as Python Chapkit's
 * ShellModelRunner does.
 *
 * @module
 */
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../../../core/logging.ts";
import { DataFrame } from "./dataframe.ts";
import { RuntimeError } from "./errors.ts";
import { type FeatureCollection, withoutNullMembers } from "./geojson.ts";
import { pyJsonDumps } from "./py-json.ts";
import { runScript } from "./_script.ts";
import { withTempDir } from "./_temp-dir.ts";
import {
  binaryModel,
  type ConfigData,
  isBinaryModel,
  type ModelRunner,
  type PredictContext,
  type TrainContext,
  type TrainedModel,
} from "./runner.ts";

/** Options of {@link ShellModelRunner}. */
export interface ShellModelRunnerOptions {
  /**
   * Training command; placeholders `{config_file}`, `{data_file}`,
   * `{model_file}`, `{geo_file}` (empty without geo). Python `str.format`
   * rules: `{{`/`}}` for literal braces, any other name fails the job.
   */
  trainCommand: string;
  /**
   * Prediction command; placeholders `{config_file}`, `{model_file}`,
   * `{historic_file}` (empty without historic), `{future_file}`,
   * `{output_file}`, `{geo_file}` (empty without geo).
   */
  predictCommand: string;
  /** Extension of the model file, `model.{modelFormat}` (default `pickle`); only the name changes. */
  modelFormat?: string;
  /** Parent of the temp dirs (default: the system temp dir). */
  tempDir?: string;
  /**
   * Extra environment variables for the scripts. The scripts see the
   * service's environment minus secrets (`DATABASE_URL` and names holding
   * SECRET, TOKEN, KEY or PASSWORD) plus these, which are passed as given.
   */
  env?: Record<string, string>;
  /** Bytes of stdout and of stderr kept for the log and error messages (default 1 MiB each). */
  maxOutputBytes?: number;
  /** Where script output is logged (debug level). */
  logger?: Logger;
}

/**
 * Runs shell commands in a fresh temp dir per operation
 * (`chapkit_ml_train_XXXXXXXX` / `chapkit_ml_predict_XXXXXXXX`, the cwd of
 * the command, always removed). The config is written as `config.json`
 * (Python `json.dumps(indent=2)` style), frames as CSV (pandas `to_csv`
 * style), geo as `geo.json`. The model file's bytes are the trained model
 * (`application/octet-stream`) and are written back verbatim for predict.
 *
 * Failures: `RuntimeError: Training script failed with exit code {code}: {stderr}`,
 * `RuntimeError: Training script did not create model file at {path}`, and the
 * `Prediction script …` / `… output file …` equivalents; an unknown placeholder
 * gives `KeyError: 'name'`. Aborting the signal kills the script's process group.
 *
 * @example
 * ```ts
 * import { ShellModelRunner } from "./shell-runner.ts";
 * const runner = new ShellModelRunner({
 *   trainCommand: "python3 scripts/train_model.py --config {config_file} --data {data_file} --model {model_file}",
 *   predictCommand: "python3 scripts/predict_model.py --config {config_file} --model {model_file} " +
 *     "--future {future_file} --output {output_file}",
 * });
 * ```
 */
export class ShellModelRunner<C = ConfigData> implements ModelRunner<C> {
  readonly #options: ShellModelRunnerOptions;

  /** Creates a runner for the given commands. */
  constructor(options: ShellModelRunnerOptions) {
    this.#options = options;
  }

  /** Writes the inputs, runs the training command and returns the model file's bytes. */
  train(ctx: TrainContext<C>): Promise<TrainedModel> {
    return withTempDir("chapkit_ml_train_", this.#options.tempDir, async (dir) => {
      const files = {
        config_file: join(dir, "config.json"),
        data_file: join(dir, "data.csv"),
        model_file: join(dir, `model.${this.#options.modelFormat ?? "pickle"}`),
        geo_file: ctx.geo ? join(dir, "geo.json") : "",
      };
      await writeFile(files.config_file, pyJsonDumps(ctx.config));
      await writeFile(files.data_file, ctx.data.toCSV());
      await writeGeo(files.geo_file, ctx.geo);
      await this.#run("Training", this.#options.trainCommand, files, dir, ctx.signal);
      if (!(await isFile(files.model_file))) {
        throw new RuntimeError(`Training script did not create model file at ${files.model_file}`);
      }
      return binaryModel(new Uint8Array(await readFile(files.model_file)));
    });
  }

  /**
   * Writes the inputs and the model bytes, runs the prediction command and
   * reads `predictions.csv` back with pandas-like type inference. A JSON
   * model value (a hand-made artifact) is written as JSON text.
   */
  predict(ctx: PredictContext<C>): Promise<DataFrame> {
    return withTempDir("chapkit_ml_predict_", this.#options.tempDir, async (dir) => {
      const files = {
        config_file: join(dir, "config.json"),
        model_file: join(dir, `model.${this.#options.modelFormat ?? "pickle"}`),
        historic_file: ctx.historic ? join(dir, "historic.csv") : "",
        future_file: join(dir, "future.csv"),
        output_file: join(dir, "predictions.csv"),
        geo_file: ctx.geo ? join(dir, "geo.json") : "",
      };
      await writeFile(files.config_file, pyJsonDumps(ctx.config));
      await writeFile(files.model_file, isBinaryModel(ctx.model) ? ctx.model.bytes : JSON.stringify(ctx.model.value));
      if (ctx.historic) await writeFile(files.historic_file, ctx.historic.toCSV());
      await writeFile(files.future_file, ctx.future.toCSV());
      await writeGeo(files.geo_file, ctx.geo);
      await this.#run("Prediction", this.#options.predictCommand, files, dir, ctx.signal);
      if (!(await isFile(files.output_file))) {
        throw new RuntimeError(`Prediction script did not create output file at ${files.output_file}`);
      }
      return DataFrame.fromCSV(await readFile(files.output_file, "utf8"));
    });
  }

  async #run(
    what: "Training" | "Prediction",
    template: string,
    files: Record<string, string>,
    cwd: string,
    signal: AbortSignal,
  ): Promise<void> {
    const result = await runScript(what.toLowerCase(), template, files, { cwd, signal }, this.#options);
    if (result.exitCode !== 0) {
      throw new RuntimeError(`${what} script failed with exit code ${result.exitCode}: ${result.stderr}`);
    }
  }
}

async function writeGeo(path: string, geo: FeatureCollection | null): Promise<void> {
  if (geo && path) await writeFile(path, pyJsonDumps(withoutNullMembers(geo)));
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
