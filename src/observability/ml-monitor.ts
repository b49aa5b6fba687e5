import { type FeatureDrift, featureDrift, featureReference, type FeatureReference, SAMPLE_LIMIT } from "./drift.ts";
import { DEFAULT_SECONDS_BUCKETS, type Registry } from "./metrics.ts";
import { RequestSeries } from "./request-series.ts";

/** Options of {@link MlMonitor}. */
export interface MlMonitorOptions {
  /** Models tracked at most; the least recently used is forgotten (default 20). */
  maxModels?: number;
  /** Share of predictions whose inputs and outputs are kept as artifacts, 0–1 (default 0: none). */
  sampleRate?: number;
  /** Feedback pairs per model that MAE and RMSE are computed over (default 1000). */
  feedbackWindow?: number;
}

/** Numeric columns of a frame, by name. */
export type NumericColumns = Record<string, ArrayLike<number>>;

/** What `GET /api/v1/ml/$monitoring` reports for one model. */
export interface ModelReport {
  /** The trained-model artifact. */
  model_artifact_id: string;
  /** Prediction runs, ever (while tracked). */
  predictions: number;
  /** Prediction runs that failed. */
  errors: number;
  /** `errors / predictions` (0 without predictions). */
  error_rate: number;
  /** Rows predicted. */
  rows: number;
  /** Prediction runs per minute over the last hour. */
  predictions_per_minute: number;
  /** Median and 95th-percentile run time over the last hour, seconds. */
  latency_p50_seconds: number;
  latency_p95_seconds: number;
  /** When this process trained the model (ISO 8601), or null when it was trained elsewhere or before a restart. */
  trained_at: string | null;
  /** Drift of each numeric training feature seen in recent prediction inputs (empty without a training profile). */
  drift: Record<string, FeatureDrift>;
  /** Accuracy from feedback: pairs, mean absolute and root-mean-square error (null before feedback). */
  feedback: { n: number; mae: number; rmse: number } | null;
}

interface ModelState {
  id: string;
  predictions: number;
  errors: number;
  rows: number;
  runs: RequestSeries;
  trainedAt: string | null;
  profile: Record<string, FeatureReference> | null;
  recent: Map<string, number[]>;
  feedback: [number, number][];
}

function pushBounded(list: number[], values: ArrayLike<number>, limit: number): void {
  for (let i = 0; i < values.length; i++) {
    const value = Number(values[i]);
    if (Number.isFinite(value)) list.push(value);
  }
  if (list.length > limit) list.splice(0, list.length - limit);
}

/**
 * Per-model monitoring of a model service, kept in memory: run counts,
 * errors, rows and run-time quantiles of predictions; the distribution of
 * each numeric training feature (recorded when this process trains a model)
 * and the drift of recent prediction inputs from it (PSI and KS); MAE and
 * RMSE from ground truth sent back later. It knows nothing of DataFrames or
 * HTTP: the ML module hands it plain numeric columns.
 */
export class MlMonitor {
  readonly #models = new Map<string, ModelState>();
  readonly #maxModels: number;
  readonly #feedbackWindow: number;
  /** Share of predictions kept as sample artifacts. */
  readonly sampleRate: number;

  /** Creates an empty monitor. */
  constructor(options: MlMonitorOptions = {}) {
    this.#maxModels = Math.max(1, options.maxModels ?? 20);
    this.#feedbackWindow = Math.max(1, options.feedbackWindow ?? 1000);
    this.sampleRate = Math.min(1, Math.max(0, options.sampleRate ?? 0));
  }

  #model(id: string): ModelState {
    let state = this.#models.get(id);
    if (state) {
      this.#models.delete(id);
    } else {
      state = {
        id,
        predictions: 0,
        errors: 0,
        rows: 0,
        runs: new RequestSeries(DEFAULT_SECONDS_BUCKETS, { slotMs: 60_000 }),
        trainedAt: null,
        profile: null,
        recent: new Map(),
        feedback: [],
      };
    }
    this.#models.set(id, state);
    while (this.#models.size > this.#maxModels) this.#models.delete(this.#models.keys().next().value!);
    return state;
  }

  /** Records the training data of a model: a reference distribution per numeric column. */
  recordTraining(modelId: string, columns: NumericColumns): void {
    const state = this.#model(modelId);
    state.profile = Object.fromEntries(Object.entries(columns).map(([name, values]) => [name, featureReference(Array.from(values))]));
    state.trainedAt = new Date().toISOString();
  }

  /** Records one prediction run: its time, outcome, rows and (when it succeeded) its numeric inputs. */
  recordPrediction(modelId: string, run: { seconds: number; ok: boolean; rows: number; inputs?: NumericColumns }): void {
    const state = this.#model(modelId);
    state.predictions += 1;
    if (!run.ok) state.errors += 1;
    state.rows += run.rows;
    state.runs.record(run.seconds, run.ok ? 200 : 500);
    for (const [name, values] of Object.entries(run.inputs ?? {})) {
      if (state.profile && !(name in state.profile)) continue;
      let list = state.recent.get(name);
      if (!list) state.recent.set(name, list = []);
      pushBounded(list, values, SAMPLE_LIMIT);
    }
  }

  /** Whether this prediction's inputs and outputs should be kept as a sample. */
  shouldSample(random: () => number = Math.random): boolean {
    return this.sampleRate > 0 && random() < this.sampleRate;
  }

  /** Adds ground truth for earlier predictions; returns the model's accuracy over the window. */
  recordFeedback(modelId: string, predicted: readonly number[], actual: readonly number[]): { n: number; mae: number; rmse: number } {
    const state = this.#model(modelId);
    for (let i = 0; i < predicted.length; i++) state.feedback.push([predicted[i]!, actual[i]!]);
    if (state.feedback.length > this.#feedbackWindow) state.feedback.splice(0, state.feedback.length - this.#feedbackWindow);
    return accuracy(state.feedback)!;
  }

  /** The report of every tracked model, most recently used first. */
  report(): ModelReport[] {
    return [...this.#models.values()].reverse().map((state) => {
      const summary = state.runs.summary(3_600_000);
      const drift: Record<string, FeatureDrift> = {};
      for (const [name, reference] of Object.entries(state.profile ?? {})) {
        const recent = state.recent.get(name);
        if (recent && recent.length > 0 && reference.sorted.length > 0) drift[name] = featureDrift(reference, recent);
      }
      return {
        model_artifact_id: state.id,
        predictions: state.predictions,
        errors: state.errors,
        error_rate: state.predictions === 0 ? 0 : state.errors / state.predictions,
        rows: state.rows,
        predictions_per_minute: summary.rate * 60,
        latency_p50_seconds: summary.p50,
        latency_p95_seconds: summary.p95,
        trained_at: state.trainedAt,
        drift,
        feedback: accuracy(state.feedback),
      };
    });
  }

  /**
   * Registers `chapkit_ml_feature_psi{model,feature}`,
   * `chapkit_ml_feature_ks{model,feature}`, `chapkit_ml_model_mae{model}` and
   * `chapkit_ml_model_rmse{model}`, rebuilt from the tracked models at each
   * scrape (so forgotten models leave no series: cardinality stays bounded).
   */
  registerMetrics(registry: Registry): void {
    const psi = registry.gauge({
      name: "chapkit_ml_feature_psi",
      help: "Population stability index of recent prediction inputs against the training data, per model and feature.",
      labelNames: ["model", "feature"],
    });
    const ks = registry.gauge({
      name: "chapkit_ml_feature_ks",
      help: "Kolmogorov-Smirnov statistic of recent prediction inputs against the training data, per model and feature.",
      labelNames: ["model", "feature"],
    });
    const mae = registry.gauge({ name: "chapkit_ml_model_mae", help: "Mean absolute error over the feedback window, per model.", labelNames: ["model"] });
    const rmse = registry.gauge({ name: "chapkit_ml_model_rmse", help: "Root-mean-square error over the feedback window, per model.", labelNames: ["model"] });
    psi.collect(() => {
      for (const gauge of [psi, ks, mae, rmse]) gauge.reset();
      for (const report of this.report()) {
        for (const [feature, drift] of Object.entries(report.drift)) {
          psi.set(drift.psi, report.model_artifact_id, feature);
          ks.set(drift.ks, report.model_artifact_id, feature);
        }
        if (report.feedback) {
          mae.set(report.feedback.mae, report.model_artifact_id);
          rmse.set(report.feedback.rmse, report.model_artifact_id);
        }
      }
    });
  }
}

function accuracy(pairs: readonly [number, number][]): { n: number; mae: number; rmse: number } | null {
  if (pairs.length === 0) return null;
  let absolute = 0;
  let squared = 0;
  for (const [predicted, actual] of pairs) {
    absolute += Math.abs(predicted - actual);
    squared += (predicted - actual) ** 2;
  }
  return { n: pairs.length, mae: absolute / pairs.length, rmse: Math.sqrt(squared / pairs.length) };
}
