/**
 * ShellWorkspaceRunner: the chapkit 1.x shell contract (contract-chapcore
 * §9.1), for model scripts written for chapkit 1.x. Each operation runs in a
 * fresh directory pre-filled with a copy of the project; the training
 * workspace, zipped, is the model.
 *
 * @module
 */
import { access, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import type { Logger } from "../../../core/logging.ts";
import type { DataFrame } from "./dataframe.ts";
import { RuntimeError } from "./errors.ts";
import { type FeatureCollection, withoutNullMembers } from "./geojson.ts";
import { pyJsonDumps } from "./py-json.ts";
import { runScript } from "./_script.ts";
import { withTempDir } from "./_temp-dir.ts";
import {
  binaryModel,
  type ConfigData,
  modelBytes,
  type PredictContext,
  type TrainContext,
  type TrainedModel,
  type WorkspacePredictContext,
  type WorkspaceRunner,
} from "./runner.ts";
import {
  type ConfigFormat,
  configYaml,
  copyProject,
  csvCrlf,
  readPredictionsCsv,
  unzipInto,
  type Workspace,
  zipDirectory,
} from "./workspace.ts";
import { processEnvironment } from "../../../runtime/env.ts";

/** Options of {@link ShellWorkspaceRunner}. */
export interface ShellWorkspaceRunnerOptions {
  /** Training command, run in the workspace; placeholders `{data_file}` (`data.csv`) and `{geo_file}` (`geo.json` or empty). */
  trainCommand: string;
  /**
   * Prediction command; placeholders `{historic_file}` (`historic.csv`),
   * `{future_file}` (`future.csv`), `{output_file}` (`predictions.csv`) and
   * `{geo_file}`. Any other name fails the job with `KeyError`.
   */
  predictCommand: string;
  /** The project copied into every workspace (default: the working directory). */
  projectDir?: string;
  /** Layout of `config.yml` (default `flat`). */
  configFormat?: ConfigFormat;
  /** Parent of the workspaces (default `CHAPKIT_TEMP_DIR`, else the system temp dir). */
  tempDir?: string;
  /** Extra environment variables for the scripts (they see the service's environment minus secrets, as the seed shell runner's do). */
  env?: Record<string, string>;
  /** Bytes of stdout and of stderr kept per script (default 1 MiB each). */
  maxOutputBytes?: number;
  /** Where script output is logged (debug level). */
  logger?: Logger;
}

interface ScriptResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs shell commands in workspaces (`chapkit_ml_train_*` /
 * `chapkit_ml_predict_*`): the project copy (without virtualenvs, caches,
 * VCS, build output and databases), `config.yml`, CRLF CSVs and `geo.json`,
 * with relative placeholders. Failure semantics (§8.3): a training script
 * that exits non-zero still yields a workspace, marked `failed`; a
 * prediction script that exits non-zero but wrote `predictions.csv` yields
 * predictions and a `failed` prediction workspace; a missing
 * `predictions.csv` fails the job.
 *
 * @example
 * ```ts
 * import { ShellWorkspaceRunner } from "./shell-workspace-runner.ts";
 * const runner = new ShellWorkspaceRunner({
 *   trainCommand: "python scripts/train_model.py --data {data_file}",
 *   predictCommand: "python scripts/predict_model.py --historic {historic_file} --future {future_file} --output {output_file}",
 *   configFormat: "chap_core",
 * });
 * ```
 */
export class ShellWorkspaceRunner<C = ConfigData> implements WorkspaceRunner<C> {
  /** The chap profile stores this runner's training workspace zip as the model. */
  readonly layout = "workspace" as const;
  readonly #options: ShellWorkspaceRunnerOptions;

  /** Creates a runner for the given commands. */
  constructor(options: ShellWorkspaceRunnerOptions) {
    this.#options = options;
  }

  #tempDir(): string {
    return this.#options.tempDir ?? processEnvironment().CHAPKIT_TEMP_DIR ?? tmpdir();
  }

  async #prepare(dir: string, config: C): Promise<void> {
    await copyProject(this.#options.projectDir ?? process.cwd(), dir);
    await writeFile(join(dir, "config.yml"), configYaml(config as Record<string, unknown>, this.#options.configFormat));
  }

  /** Trains in a fresh workspace; a non-zero exit is recorded, not thrown. */
  trainWorkspace(ctx: TrainContext<C>): Promise<Workspace> {
    return withTempDir("chapkit_ml_train_", this.#tempDir(), async (dir) => {
      await this.#prepare(dir, ctx.config);
      await writeFile(join(dir, "data.csv"), csvCrlf(ctx.data));
      const geoFile = await writeGeo(dir, ctx.geo);
      const result = await this.#run("train", this.#options.trainCommand, { data_file: "data.csv", geo_file: geoFile }, dir, ctx.signal);
      return workspaceOf(await zipDirectory(dir), result);
    });
  }

  /** Restores the training workspace, writes fresh inputs, predicts, and zips the prediction workspace. */
  predictWorkspace(ctx: WorkspacePredictContext<C>): Promise<{ predictions: DataFrame; workspace: Workspace }> {
    return withTempDir("chapkit_ml_predict_", this.#tempDir(), async (dir) => {
      await unzipInto(ctx.workspace, dir);
      if (ctx.historic) await writeFile(join(dir, "historic.csv"), csvCrlf(ctx.historic));
      await writeFile(join(dir, "future.csv"), csvCrlf(ctx.future));
      const geoFile = await writeGeo(dir, ctx.geo);
      const files = {
        historic_file: ctx.historic ? "historic.csv" : "",
        future_file: "future.csv",
        output_file: "predictions.csv",
        geo_file: geoFile,
      };
      const result = await this.#run("predict", this.#options.predictCommand, files, dir, ctx.signal);
      const output = join(dir, "predictions.csv");
      if (!(await exists(output))) throw new RuntimeError(`Prediction script did not create output file at ${output}`);
      const predictions = readPredictionsCsv(await readFile(output, "utf8"));
      return { predictions, workspace: workspaceOf(await zipDirectory(dir), result) };
    });
  }

  /** The seed profile's view: the training workspace zip is the model's bytes (`application/zip`). */
  async train(ctx: TrainContext<C>): Promise<TrainedModel> {
    const workspace = await this.trainWorkspace(ctx);
    if (workspace.status === "failed") {
      throw new RuntimeError(`Training script failed with exit code ${workspace.exitCode}: ${workspace.stderr}`);
    }
    return binaryModel(workspace.bytes, "application/zip");
  }

  /** The seed profile's view: predicts from a model that is a training workspace zip. */
  async predict(ctx: PredictContext<C>): Promise<DataFrame> {
    const { predictions } = await this.predictWorkspace({
      config: ctx.config,
      workspace: modelBytes(ctx.model),
      historic: ctx.historic,
      future: ctx.future,
      geo: ctx.geo,
      signal: ctx.signal,
    });
    return predictions;
  }

  async #run(what: string, template: string, files: Record<string, string>, cwd: string, signal: AbortSignal): Promise<ScriptResult> {
    const result = await runScript(what, template, files, { cwd, signal }, this.#options);
    return { code: result.exitCode, stdout: result.stdout, stderr: result.stderr };
  }
}

function workspaceOf(bytes: Uint8Array, result: ScriptResult): Workspace {
  return {
    bytes,
    status: result.code === 0 ? "success" : "failed",
    exitCode: result.code,
    stdout: result.stdout,
    stderr: result.stderr,
  };
}

async function writeGeo(dir: string, geo: FeatureCollection | null): Promise<string> {
  if (!geo) return "";
  await writeFile(join(dir, "geo.json"), pyJsonDumps(withoutNullMembers(geo)));
  return "geo.json";
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
