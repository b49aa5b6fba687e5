// The workspace layout of in-process runners (functional runners): built in memory, no scripts, no project copy.
import type { DataFrame } from "./dataframe.ts";
import { RuntimeError } from "./errors.ts";
import type { FeatureCollection } from "./geojson.ts";
import { pyJsonDumps } from "./py-json.ts";
import { isBinaryModel, type ModelRunner, runPredict, runTrain, type TrainContext, type TrainedModel } from "./runner.ts";
import { configYaml, csvCrlf, unzipFiles, type Workspace, zipFiles } from "./workspace.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const strToU8 = (text: string): Uint8Array => encoder.encode(text);
const strFromU8 = (bytes: Uint8Array): string => decoder.decode(bytes);

const JSON_MODEL = "model.json";
const BINARY_MODEL = "model.bin";

function scriptless(bytes: Uint8Array): Workspace {
  return { bytes, status: "success", exitCode: null, stdout: null, stderr: null };
}

function modelFiles(model: TrainedModel): Record<string, Uint8Array> {
  return isBinaryModel(model) ? { [BINARY_MODEL]: model.bytes } : { [JSON_MODEL]: strToU8(JSON.stringify(model.value)) };
}

function geoFiles(geo: FeatureCollection | null): Record<string, Uint8Array> {
  return geo ? { "geo.json": strToU8(pyJsonDumps(geo)) } : {};
}

/** Trains and zips `config.yml`, `data.csv`, `model.json` (or `model.bin`) and `geo.json`. */
export async function trainInMemoryWorkspace<C>(runner: ModelRunner<C>, ctx: TrainContext<C>): Promise<Workspace> {
  const model = await runTrain(runner, ctx);
  return scriptless(zipFiles({
    "config.yml": strToU8(configYaml(ctx.config as Record<string, unknown>)),
    "data.csv": strToU8(csvCrlf(ctx.data)),
    ...modelFiles(model),
    ...geoFiles(ctx.geo),
  }));
}

/** The model inside a training workspace zip. @throws {RuntimeError} when it holds none. */
export function modelFromWorkspace(workspace: Uint8Array): { model: TrainedModel; files: Record<string, Uint8Array> } {
  const files = unzipFiles(workspace);
  const json = files[JSON_MODEL];
  if (json) {
    try {
      return { model: { value: JSON.parse(strFromU8(json)) }, files };
    } catch (error) {
      throw new RuntimeError(`Model file ${JSON_MODEL} is corrupted: ${(error as Error).message}`);
    }
  }
  const binary = files[BINARY_MODEL];
  if (binary) return { model: { bytes: binary, contentType: "application/octet-stream" }, files };
  throw new RuntimeError("Training workspace holds no model file");
}

/** Input of {@link predictInMemoryWorkspace}. */
export interface MemoryPredictInput<C> {
  config: C;
  workspace: Uint8Array;
  modelKey: string;
  historic: DataFrame | null;
  future: DataFrame;
  geo: FeatureCollection | null;
  signal: AbortSignal;
}

/** Predicts with the model of a training workspace and zips the prediction workspace. */
export async function predictInMemoryWorkspace<C>(
  runner: ModelRunner<C>,
  input: MemoryPredictInput<C>,
): Promise<{ predictions: DataFrame; workspace: Workspace }> {
  const { model, files } = modelFromWorkspace(input.workspace);
  const predictions = await runPredict(runner, {
    config: input.config,
    model,
    modelKey: input.modelKey,
    historic: input.historic,
    future: input.future,
    geo: input.geo,
    signal: input.signal,
  });
  const kept: Record<string, Uint8Array> = {};
  for (const name of ["config.yml", JSON_MODEL, BINARY_MODEL]) if (files[name]) kept[name] = files[name];
  return {
    predictions,
    workspace: scriptless(zipFiles({
      ...kept,
      ...(input.historic ? { "historic.csv": strToU8(csvCrlf(input.historic)) } : {}),
      "future.csv": strToU8(csvCrlf(input.future)),
      ...geoFiles(input.geo),
      "predictions.csv": strToU8(csvCrlf(predictions)),
    })),
  };
}
