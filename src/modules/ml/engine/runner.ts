/**
 * The model runner interface: what the ML module calls to train and predict,
 * whatever the model is (a function pair, a class, a shell script, ONNX).
 *
 * How the ML module stores a {@link TrainedModel} in the trained-model
 * artifact (`{ml_type: "trained_model", config_id, model}`):
 * - `{ value }` → `model` is `value` (a JSON value); no binary payload;
 * - `{ bytes, contentType }` → the artifact's binary payload is
 *   `{bytes, contentType}` and `model` renders as the bytes placeholder.
 *
 * Loading it back for `$predict`: an artifact with a payload gives
 * `{ bytes, contentType }`, otherwise `{ value: data.model }`.
 *
 * @module
 */
import { type Cell, DataFrame, type DataFrameJSON } from "./dataframe.ts";
import type { FeatureCollection } from "./geojson.ts";
import type { ModelSignature } from "./io-schema.ts";
import type { LinearModel } from "./linear-regression.ts";
import type { Workspace } from "./workspace.ts";

/** A trained model as a JSON value. */
export interface JsonModel {
  /** The JSON value stored as the artifact's `model`. */
  readonly value: unknown;
}

/** A trained model as opaque bytes (a shell script's model file, an ONNX graph). */
export interface BinaryModel {
  /** The model bytes, stored verbatim as the artifact's payload. */
  readonly bytes: Uint8Array;
  /** Their media type, e.g. `application/octet-stream` or `application/onnx`. */
  readonly contentType: string;
}

/** What `train` returns and `predict` receives: a JSON value or a binary payload. */
export type TrainedModel = JsonModel | BinaryModel;

/** The stored config data handed to runners (a generic object, not the typed schema). */
export type ConfigData = Record<string, unknown>;

/** Input of {@link ModelRunner.train}. */
export interface TrainContext<C = ConfigData> {
  /** The stored config data. */
  config: C;
  /** The training frame. */
  data: DataFrame;
  /** Optional GeoJSON, null when not supplied. */
  geo: FeatureCollection | null;
  /** Aborted when the job is cancelled; runners stop their work and reject. */
  signal: AbortSignal;
  /**
   * Evaluation figures a runner may fill while training (`ctx.metrics.rmse = 1.2`);
   * the registry keeps them with the version. Absent where nothing records them.
   */
  metrics?: Record<string, number>;
  /**
   * Records a metric while or after training: `step` orders a series (epoch,
   * iteration; default the next step of that metric, from 0). The last value
   * of each metric also lands in `metrics`. The ML module's train job records
   * the series in the run (`/api/v1/runs`, curves) when the experiments
   * module is installed; {@link runTrain} supplies one in direct calls.
   * @throws {RangeError} when `value` is not a finite number.
   */
  logMetric?(name: string, value: number, step?: number): void;
  /** Records a hyperparameter the runner chose or derived (kept in the run's params beside the config). */
  logParam?(name: string, value: unknown): void;
}

/**
 * What a streaming runner yields: a chunk of rows as a {@link DataFrame}
 * (or DataFrame-JSON), or one row as an object keyed by column name.
 */
export type PredictedRows = DataFrame | DataFrameJSON | Record<string, Cell>;

/** Input of {@link ModelRunner.predict}. */
export interface PredictContext<C = ConfigData> {
  /** The stored config data of the model's config. */
  config: C;
  /** The trained model, as loaded from its artifact. */
  model: TrainedModel;
  /** A stable key of the model (its artifact id), for runners that cache loaded models. */
  modelKey?: string;
  /** Optional historic frame, null when not supplied. */
  historic: DataFrame | null;
  /** The frame to predict for. */
  future: DataFrame;
  /** Optional GeoJSON, null when not supplied. */
  geo: FeatureCollection | null;
  /** Aborted when the job is cancelled. */
  signal: AbortSignal;
}

/**
 * A model runner. The ML module calls it only through {@link runTrain} and
 * {@link runPredict}, which call `onInit` before and `onCleanup` after every
 * operation. A runner's error fails the job with `"<error.name>: <message>"`.
 */
export interface ModelRunner<C = ConfigData> {
  /** Trains on `ctx.data` and returns what `predict` receives as `ctx.model`; throwing fails the job. */
  train(ctx: TrainContext<C>): Promise<TrainedModel>;
  /** Predicts; the frame usually is `future` plus `sample_0`. */
  predict(ctx: PredictContext<C>): Promise<DataFrame>;
  /**
   * Predicts as rows become ready: an async iterable of row chunks (or single
   * rows), which `$predict-stream` sends on as they come. Runners without it
   * are streamed too, in one chunk once `predict` returns.
   */
  predictStream?(ctx: PredictContext<C>): AsyncIterable<PredictedRows>;
  /** Called before each train/predict. */
  onInit?(): Promise<void> | void;
  /** Called after each train/predict, even when it failed. */
  onCleanup?(): Promise<void> | void;
  /** Releases long-lived resources (worker pools) at service shutdown. */
  close?(): Promise<void>;
  /**
   * The `future` columns the model reads, in order, when its inputs are
   * tabular: KServe V2 metadata lists them as input tensors, and warm-up
   * predicts one row of zeros in them.
   */
  readonly inputColumns?: readonly string[];
  /** The columns predictions add (default `sample_0`), for KServe V2 metadata. */
  readonly outputColumns?: readonly string[];
  /**
   * The version of the model code (a release, a git commit), recorded with
   * every model and prediction it produces beside the service's version.
   */
  readonly codeVersion?: string;
  /**
   * The input columns (with types), training targets and output columns of
   * the models this runner trains: requests are checked against it before a
   * job starts (422) and predictions before they are stored. A `$train` may
   * give its own, which is kept with the trained model.
   */
  readonly signature?: ModelSignature;
  /**
   * The model's coefficients when its prediction (first output column) is
   * linear in its input columns, for exact explanations; null when it is not.
   */
  linearModel?(model: TrainedModel): LinearModel | null;
  /** Facts about how the runner runs (execution provider, batching), shown in model metadata. */
  runtimeInfo?(): Promise<Record<string, unknown>>;
  /**
   * How the chap profile stores what this runner trains (contract-chapcore
   * §8.6, §9.2): `workspace` zips the model with its inputs (`config.yml`,
   * `data.csv`, `model.json` or `model.bin`) and adds a level-2 prediction
   * workspace; `object` (default) stores the model itself.
   */
  readonly layout?: "workspace" | "object";
}

/** Input of {@link WorkspaceRunner.predictWorkspace}. */
export interface WorkspacePredictContext<C = ConfigData> {
  /** The stored config data of the model's config. */
  config: C;
  /** The training workspace zip. */
  workspace: Uint8Array;
  /** The historic frame (may have no rows). */
  historic: DataFrame | null;
  /** The frame to predict for. */
  future: DataFrame;
  /** Optional GeoJSON. */
  geo: FeatureCollection | null;
  /** Aborted when the job is cancelled. */
  signal: AbortSignal;
}

/**
 * A runner that works in a directory (the chapkit 1.x shell contract): the
 * training workspace itself is the model, and a script's failure is recorded
 * in the workspace's status rather than failing the job.
 */
export interface WorkspaceRunner<C = ConfigData> extends ModelRunner<C> {
  /** Trains in a fresh workspace and returns it zipped. */
  trainWorkspace(ctx: TrainContext<C>): Promise<Workspace>;
  /** Restores the training workspace, predicts, and returns the predictions with the prediction workspace. */
  predictWorkspace(ctx: WorkspacePredictContext<C>): Promise<{ predictions: DataFrame; workspace: Workspace }>;
}

/** Whether a runner implements the workspace contract. */
export function isWorkspaceRunner<C>(runner: ModelRunner<C>): runner is WorkspaceRunner<C> {
  const candidate = runner as Partial<WorkspaceRunner<C>>;
  return typeof candidate.trainWorkspace === "function" && typeof candidate.predictWorkspace === "function";
}

/** A JSON-valued trained model. */
export function jsonModel(value: unknown): JsonModel {
  return { value: value === undefined ? null : value };
}

/** A binary trained model (default type `application/octet-stream`). */
export function binaryModel(bytes: Uint8Array, contentType = "application/octet-stream"): BinaryModel {
  return { bytes, contentType };
}

/** Whether a trained model is a binary payload. */
export function isBinaryModel(model: TrainedModel): model is BinaryModel {
  return (model as BinaryModel).bytes instanceof Uint8Array;
}

/**
 * The model's bytes.
 *
 * @throws {TypeError} when the model is a JSON value.
 */
export function modelBytes(model: TrainedModel): Uint8Array {
  if (!isBinaryModel(model)) throw new TypeError("This runner needs a binary model, but the model is a JSON value");
  return model.bytes;
}

/**
 * `logMetric` and `logParam` that keep the last value of each metric in
 * `metrics` (when given) and nothing else: what a train call without a run
 * recorder gets.
 */
export function metricRecorders(
  metrics?: Record<string, number>,
): { logMetric(name: string, value: number, step?: number): void; logParam(name: string, value: unknown): void } {
  return {
    logMetric(name: string, value: number): void {
      checkMetric(name, value);
      if (metrics) metrics[name] = value;
    },
    logParam(): void {},
  };
}

/**
 * Checks a logged metric: a non-empty name of at most 250 characters and a finite value.
 * @throws {RangeError} otherwise.
 */
export function checkMetric(name: string, value: number, step?: number): void {
  if (typeof name !== "string" || name.length === 0 || name.length > 250) {
    throw new RangeError(`A metric name must be 1 to 250 characters, got ${JSON.stringify(name)}`);
  }
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new RangeError(`Metric ${name} must be a finite number, got ${String(value)}`);
  }
  if (step !== undefined && (!Number.isSafeInteger(step) || step < 0)) {
    throw new RangeError(`The step of metric ${name} must be a non-negative integer, got ${String(step)}`);
  }
}

/**
 * Runs `runner.train` between `onInit` and `onCleanup` (in `finally`) and
 * checks its result. This is what the ML module's train job calls.
 */
export async function runTrain<C>(runner: ModelRunner<C>, ctx: TrainContext<C>): Promise<TrainedModel> {
  ctx.signal.throwIfAborted();
  await runner.onInit?.();
  try {
    const model = await runner.train(ctx.logMetric && ctx.logParam ? ctx : { ...metricRecorders(ctx.metrics), ...ctx });
    if (typeof model !== "object" || model === null || !("value" in model || isBinaryModel(model))) {
      throw new TypeError("A runner's train must return a TrainedModel ({ value } or { bytes, contentType })");
    }
    return model;
  } finally {
    await runner.onCleanup?.();
  }
}

/**
 * Runs `runner.predict` between `onInit` and `onCleanup` (in `finally`);
 * a plain `{columns, data}` result is converted to a {@link DataFrame}.
 * This is what the ML module's predict job calls.
 */
export async function runPredict<C>(runner: ModelRunner<C>, ctx: PredictContext<C>): Promise<DataFrame> {
  ctx.signal.throwIfAborted();
  await runner.onInit?.();
  try {
    const result: unknown = await runner.predict(ctx);
    if (result instanceof DataFrame) return result;
    return DataFrame.fromJSON(result, { loc: ["predictions"] });
  } finally {
    await runner.onCleanup?.();
  }
}

/**
 * The base of class-based runners: implement `train` and `predict`, and
 * override `onInit`/`onCleanup` to acquire and release per-operation
 * resources; {@link runTrain}/{@link runPredict} call them around each operation.
 *
 * @example
 * ```ts
 * import { BaseModelRunner, jsonModel, type TrainContext, type PredictContext } from "./runner.ts";
 * import type { DataFrame } from "./dataframe.ts";
 * class MeanRunner extends BaseModelRunner {
 *   async train({ data }: TrainContext) {
 *     const cases = data.column("disease_cases");
 *     return jsonModel({ mean: cases.reduce((a, b) => a + b, 0) / cases.length });
 *   }
 *   async predict({ model, future }: PredictContext): Promise<DataFrame> {
 *     const { mean } = (model as { value: { mean: number } }).value;
 *     return future.withColumn("sample_0", new Float64Array(future.rowCount).fill(mean));
 *   }
 * }
 * ```
 */
export abstract class BaseModelRunner<C = ConfigData> implements ModelRunner<C> {
  /** Called before each train/predict; does nothing unless overridden. */
  onInit(): Promise<void> | void {}
  /** Called after each train/predict, even on failure; does nothing unless overridden. */
  onCleanup(): Promise<void> | void {}
  /** Trains on `ctx.data` and returns what `predict` receives as `ctx.model`; throwing fails the job. */
  abstract train(ctx: TrainContext<C>): Promise<TrainedModel>;
  /** Predicts for `ctx.future` with the trained `ctx.model`; the frame usually is `future` plus `sample_0`. */
  abstract predict(ctx: PredictContext<C>): Promise<DataFrame>;
}
