/**
 * A runner made of two functions, the simplest way to serve a model.
 *
 * @module
 */
import type { DataFrame } from "./dataframe.ts";
import type { FeatureCollection } from "./geojson.ts";
import type { ModelSignature } from "./io-schema.ts";
import type { LinearModel } from "./linear-regression.ts";
import {
  binaryModel,
  type ConfigData,
  isBinaryModel,
  jsonModel,
  type ModelRunner,
  type PredictContext,
  type PredictedRows,
  type TrainContext,
  type TrainedModel,
} from "./runner.ts";

/** Input of a functional runner's `onPredict`: the model is what `onTrain` returned. */
export interface FunctionalPredictInput<C, M> {
  /** The stored config data. */
  config: C;
  /** What `onTrain` returned (the bytes for a binary model). */
  model: M;
  /** Optional historic frame. */
  historic: DataFrame | null;
  /** The frame to predict for. */
  future: DataFrame;
  /** Optional GeoJSON. */
  geo: FeatureCollection | null;
  /** Aborted when the job is cancelled. */
  signal: AbortSignal;
}

/** Options of {@link functionalRunner}. */
export interface FunctionalRunnerOptions<C, M> {
  /** Trains; returns a JSON value, or a Uint8Array stored as a binary payload. */
  onTrain(input: TrainContext<C>): Promise<M> | M;
  /** Predicts with what `onTrain` returned (the same JSON value, or the bytes). */
  onPredict(input: FunctionalPredictInput<C, M>): Promise<DataFrame> | DataFrame;
  /**
   * Predicts as rows become ready (an async generator of frames or row
   * objects), for `$predict-stream`; `onPredict` still serves `$predict`.
   */
  onPredictStream?(input: FunctionalPredictInput<C, M>): AsyncIterable<PredictedRows>;
  /** Content type of binary models (default `application/octet-stream`). */
  contentType?: string;
  /** The `future` columns the model reads (KServe V2 metadata, warm-up rows). */
  inputColumns?: readonly string[];
  /** The columns predictions add (KServe V2 metadata). */
  outputColumns?: readonly string[];
  /** The version of the model code, recorded in lineage with every model and prediction. */
  codeVersion?: string;
  /** Input, target and output columns of the models (checked before jobs start and before predictions are stored). */
  signature?: ModelSignature;
  /** The coefficients of a linear model (exact explanations), or null when the model is not linear. */
  linearModel?(model: M): LinearModel | null;
}

/**
 * Wraps a pair of functions as a {@link ModelRunner}. `onTrain`'s return
 * value is the model: a Uint8Array becomes a binary payload, anything else is
 * stored as a JSON value; `onPredict` receives it back as it was returned.
 *
 * @example
 * ```ts
 * import { functionalRunner } from "./functional-runner.ts";
 * const runner = functionalRunner({
 *   onTrain: ({ data }) => ({ mean: data.column("disease_cases").reduce((a, b) => a + b, 0) / data.rowCount }),
 *   onPredict: ({ model, future }) =>
 *     future.withColumn("sample_0", new Float64Array(future.rowCount).fill(model.mean)),
 * });
 * ```
 */
export function functionalRunner<C = ConfigData, M = unknown>(
  options: FunctionalRunnerOptions<C, M>,
): ModelRunner<C> {
  return {
    layout: "workspace",
    ...(options.inputColumns ? { inputColumns: options.inputColumns } : {}),
    ...(options.outputColumns ? { outputColumns: options.outputColumns } : {}),
    ...(options.codeVersion ? { codeVersion: options.codeVersion } : {}),
    ...(options.signature ? { signature: options.signature } : {}),
    ...(options.linearModel
      ? {
        linearModel: (model: TrainedModel): LinearModel | null =>
          options.linearModel!((isBinaryModel(model) ? model.bytes : model.value) as M),
      }
      : {}),
    async train(ctx: TrainContext<C>): Promise<TrainedModel> {
      const model = await options.onTrain(ctx);
      return model instanceof Uint8Array ? binaryModel(model, options.contentType) : jsonModel(model);
    },
    async predict(ctx: PredictContext<C>): Promise<DataFrame> {
      const model = (isBinaryModel(ctx.model) ? ctx.model.bytes : ctx.model.value) as M;
      const { config, historic, future, geo, signal } = ctx;
      return await options.onPredict({ config, model, historic, future, geo, signal });
    },
    ...(options.onPredictStream
      ? {
        predictStream(ctx: PredictContext<C>): AsyncIterable<PredictedRows> {
          const model = (isBinaryModel(ctx.model) ? ctx.model.bytes : ctx.model.value) as M;
          const { config, historic, future, geo, signal } = ctx;
          return options.onPredictStream!({ config, model, historic, future, geo, signal });
        },
      }
      : {}),
  };
}
