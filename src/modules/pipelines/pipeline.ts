import { ConfigurationError } from "../../core/errors.ts";
import type { DataFrame, DataFrameJSON } from "../ml/engine/dataframe.ts";
import type { MissedPolicy } from "../jobs/scheduler.ts";
import type { SearchSpace } from "../experiments/search-space.ts";
import type { ServiceContext } from "../../http/module.ts";

/** What a pipeline's data function receives. */
export interface PipelineDataContext {
  /** The service context (managers, the store). */
  context: ServiceContext;
  /** The pipeline run this data is for. */
  pipelineRunId: string;
  /** Aborted when the start job is canceled. */
  signal: AbortSignal;
}

/** A holdout metric: built in by name, or computed by a function of the actual and predicted values. */
export type PipelineMetric =
  | "rmse"
  | "mae"
  | "r2"
  | { name: string; goal: "minimize" | "maximize"; compute(actual: Float64Array, predicted: Float64Array): number };

/** A retraining pipeline declared in code: train → evaluate on a holdout → register → promote. */
export interface PipelineDefinition {
  /** Unique name: lower-case letters, digits, `-`, `_` and `.`. */
  name: string;
  /** The registry model each run registers a version of. */
  model: string;
  /** The name of the config the model trains under (looked up at each run). */
  config: string;
  /** The training data of a run (its last rows are the holdout unless `holdout` gives one). */
  data(context: PipelineDataContext): Promise<DataFrame | DataFrameJSON> | DataFrame | DataFrameJSON;
  /** The column the holdout is scored against. */
  target: string;
  /** The column predictions hold (default `sample_0`). */
  prediction?: string;
  /**
   * The holdout: the last `fraction` of the data's rows (default 0.2; at least one row is left
   * on each side), or a function giving a frame of its own (then training uses all the data).
   */
  holdout?: { fraction: number } | ((context: PipelineDataContext) => Promise<DataFrame | DataFrameJSON> | DataFrame | DataFrameJSON);
  /** The holdout metric (default `rmse`); `r2` is maximized, `rmse` and `mae` minimized. */
  metric?: PipelineMetric;
  /** The alias a better candidate is promoted to (default `champion`). */
  alias?: string;
  /** How much better than the champion a candidate must score to be promoted (default 0: strictly better). */
  minImprovement?: number;
  /** Trains by hyperparameter search instead of one training: the best trial becomes the candidate. */
  search?: SearchSpace & { metric: string; goal?: "minimize" | "maximize"; concurrency?: number };
  /** A cron schedule (croner syntax, UTC unless a time zone is given) that runs the pipeline. */
  schedule?: string | { cron: string; timezone?: string; missed?: MissedPolicy };
}

const NAME = /^[a-z0-9][a-z0-9_.-]{0,99}$/;

/**
 * Checks a pipeline where it is declared and returns it.
 *
 * @throws {ConfigurationError} for a bad name, holdout fraction or improvement.
 * @example
 * ```ts ignore
 * const retrain = definePipeline({
 *   name: "dengue-retrain",
 *   model: "dengue",
 *   config: "dengue-base",
 *   data: async () => loadCases(),
 *   target: "disease_cases",
 *   schedule: "0 3 * * *",
 * });
 * ```
 */
export function definePipeline(definition: PipelineDefinition): PipelineDefinition {
  if (!NAME.test(definition.name)) {
    throw new ConfigurationError(`Pipeline name "${definition.name}" must be lower-case letters, digits, "-", "_" and "." (at most 100)`);
  }
  const holdout = definition.holdout;
  if (holdout !== undefined && typeof holdout !== "function" && !(holdout.fraction > 0 && holdout.fraction < 1)) {
    throw new ConfigurationError(`Pipeline "${definition.name}": holdout.fraction must be between 0 and 1`);
  }
  if (definition.minImprovement !== undefined && !(definition.minImprovement >= 0)) {
    throw new ConfigurationError(`Pipeline "${definition.name}": minImprovement must be a number ≥ 0`);
  }
  return definition;
}

/** A metric's name and direction. */
export function metricOf(metric: PipelineMetric | undefined): { name: string; goal: "minimize" | "maximize" } {
  const chosen = metric ?? "rmse";
  if (typeof chosen === "object") return { name: chosen.name, goal: chosen.goal };
  return { name: chosen, goal: chosen === "r2" ? "maximize" : "minimize" };
}

/** Scores predictions against actual values with the pipeline's metric. */
export function score(metric: PipelineMetric | undefined, actual: Float64Array, predicted: Float64Array): number {
  const chosen = metric ?? "rmse";
  if (typeof chosen === "object") return chosen.compute(actual, predicted);
  const n = actual.length;
  if (n === 0) return Number.NaN;
  let squared = 0;
  let absolute = 0;
  let mean = 0;
  for (let i = 0; i < n; i++) {
    const error = predicted[i]! - actual[i]!;
    squared += error * error;
    absolute += Math.abs(error);
    mean += actual[i]!;
  }
  mean /= n;
  if (chosen === "rmse") return Math.sqrt(squared / n);
  if (chosen === "mae") return absolute / n;
  let total = 0;
  for (let i = 0; i < n; i++) total += (actual[i]! - mean) ** 2;
  return total === 0 ? (squared === 0 ? 1 : 0) : 1 - squared / total;
}

/** Whether a candidate's score beats the champion's (none beats nothing) by more than `minImprovement`. */
export function beats(
  candidate: number,
  champion: number | null,
  goal: "minimize" | "maximize",
  minImprovement = 0,
): boolean {
  if (!Number.isFinite(candidate)) return false;
  if (champion === null || !Number.isFinite(champion)) return true;
  return goal === "minimize" ? candidate < champion - minImprovement : candidate > champion + minImprovement;
}
