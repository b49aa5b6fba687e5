/**
 * Model explanations: per-feature attributions of single predictions
 * (KernelSHAP for any model, exact Shapley values for linear models) and
 * permutation importance of the model as a whole. Every function works
 * through a {@link Predictor}, so any runner can be explained; a predictor
 * is called on whole batches (one call per explained row, one per feature),
 * which keeps subprocess and worker runners affordable.
 *
 * Attributions follow the interventional Shapley definition: a feature
 * "absent" from a coalition takes its values from the background rows, and
 * a coalition's value is the mean prediction over them. The base value is
 * the mean prediction with every feature from the background; the
 * attributions of a row add up to its prediction minus the base value.
 *
 * @module
 */
import { type Cell, DataFrame } from "./dataframe.ts";
import { ValueError } from "./errors.ts";
import { type LinearModel, solveLinearSystem } from "./linear-regression.ts";
import { seededRandom } from "../../../core/seeded-random.ts";

/** Predicts one numeric output per row of a frame (NaN for a missing prediction). */
export type Predictor = (frame: DataFrame) => Promise<Float64Array>;

/** The attributions of one explained row. */
export interface RowAttribution {
  /** The row's index in the explained frame. */
  row: number;
  /** The model's prediction for the row. */
  prediction: number;
  /** The mean prediction over the background (every feature absent). */
  base_value: number;
  /** Feature → its share of `prediction - base_value`. */
  attributions: Record<string, number>;
}

/** Options of {@link kernelShap}. */
export interface KernelShapOptions {
  /**
   * The most coalitions evaluated per row (default 2048). With `2^M - 2`
   * coalitions or fewer (M features) all are enumerated, which gives exact
   * Shapley values; above that they are sampled by the Shapley kernel.
   */
  samples?: number;
  /** Seed of the coalition sampling (default 0). */
  seed?: number;
  /** Stops between rows when aborted. */
  signal?: AbortSignal;
  /** The most rows one prediction call may hold, `(coalitions + 2) × background` (default 1 000 000). */
  maxBatchRows?: number;
}

/** One feature's permutation importance. */
export interface FeatureImportance {
  feature: string;
  /** The mean increase of the error metric when the feature's column is shuffled. */
  importance: number;
  /** The standard deviation of that increase over the repeats. */
  std: number;
}

/** What {@link permutationImportance} answers. */
export interface PermutationImportance {
  metric: ErrorMetric;
  /** The metric on the unshuffled data. */
  baseline: number;
  repeats: number;
  /** Most important first. */
  features: FeatureImportance[];
}

/** Error metrics permutation importance can use. */
export type ErrorMetric = "mse" | "rmse" | "mae";


function checkFeatures(frame: DataFrame, features: readonly string[], what: string): void {
  const missing = features.filter((f) => !frame.has(f));
  if (missing.length > 0) throw new ValueError(`The ${what} has no column ${missing.join(", ")}`);
}

function binomial(n: number, k: number): number {
  let out = 1;
  for (let i = 1; i <= k; i++) out = (out * (n - k + i)) / i;
  return out;
}

/** The coalitions to evaluate (as feature masks) and their regression weights. */
function coalitions(m: number, samples: number, random: () => number): { masks: boolean[][]; weights: number[] } {
  const masks: boolean[][] = [];
  const weights: number[] = [];
  if (m <= 30 && 2 ** m - 2 <= samples) {
    for (let code = 1; code < 2 ** m - 1; code++) {
      const mask = Array.from({ length: m }, (_, i) => (code & (1 << i)) !== 0);
      const size = mask.filter(Boolean).length;
      masks.push(mask);
      weights.push((m - 1) / (binomial(m, size) * size * (m - size)));
    }
    return { masks, weights };
  }
  // Sizes drawn in proportion to the kernel's total weight of each size; each draw with its complement.
  const sizeWeights = Array.from({ length: m - 1 }, (_, i) => (m - 1) / ((i + 1) * (m - i - 1)));
  const total = sizeWeights.reduce((a, b) => a + b, 0);
  while (masks.length < samples) {
    let pick = random() * total;
    let size = 1;
    while (size < m - 1 && pick >= sizeWeights[size - 1]!) pick -= sizeWeights[size++ - 1]!;
    const order = Array.from({ length: m }, (_, i) => i);
    for (let i = 0; i < size; i++) {
      const j = i + Math.floor(random() * (m - i));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const mask = new Array<boolean>(m).fill(false);
    for (let i = 0; i < size; i++) mask[order[i]!] = true;
    masks.push(mask, mask.map((v) => !v));
    weights.push(1, 1);
  }
  return { masks, weights };
}

/** Mean of `values` in consecutive groups of `size`. */
function groupMeans(values: Float64Array, size: number): number[] {
  const out: number[] = [];
  for (let start = 0; start < values.length; start += size) {
    let sum = 0;
    for (let i = start; i < start + size; i++) sum += values[i]!;
    out.push(sum / size);
  }
  return out;
}

/**
 * KernelSHAP attributions of each row of `rows` to `features`, against the
 * `background` rows. Columns that are not features keep the explained row's
 * values. For a model additive in its features (a linear model) the result
 * is exact whether coalitions are enumerated or sampled.
 *
 * @throws {ValueError} when a feature column is missing, the background is empty, or one row's batch would exceed `maxBatchRows`.
 */
export async function kernelShap(
  predict: Predictor,
  rows: DataFrame,
  background: DataFrame,
  features: readonly string[],
  options: KernelShapOptions = {},
): Promise<RowAttribution[]> {
  checkFeatures(rows, features, "frame to explain");
  checkFeatures(background, features, "background");
  if (background.rowCount === 0) throw new ValueError("The background has no rows");
  if (features.length === 0) throw new ValueError("No feature to attribute to");
  const m = features.length;
  const columns = rows.columns;
  const featureAt = features.map((f) => columns.indexOf(f));
  const backgroundCells = features.map((f) => background.values(f));
  const b = background.rowCount;
  const { masks, weights } = coalitions(m, Math.max(2, options.samples ?? 2048), seededRandom(options.seed ?? 0));
  const batchRows = (masks.length + 1) * b + 1;
  const maxBatchRows = options.maxBatchRows ?? 1_000_000;
  if (batchRows > maxBatchRows) {
    throw new ValueError(
      `Explaining a row would predict ${batchRows} rows (${masks.length + 1} coalitions × ${b} background rows), ` +
        `more than ${maxBatchRows}: use fewer samples or background rows`,
    );
  }
  const out: RowAttribution[] = [];
  const all = rows.rows();
  for (let r = 0; r < all.length; r++) {
    options.signal?.throwIfAborted();
    const x = all[r]!;
    // Coalition order: empty, then every mask, then full; each repeated over the background.
    const batch: Cell[][] = [];
    for (const mask of [new Array<boolean>(m).fill(false), ...masks]) {
      for (let k = 0; k < b; k++) {
        const row = [...x];
        mask.forEach((present, i) => {
          if (!present) row[featureAt[i]!] = backgroundCells[i]![k]!;
        });
        batch.push(row);
      }
    }
    batch.push([...x]);
    const predicted = await predict(new DataFrame(columns, batch));
    const fx = predicted[predicted.length - 1]!;
    const values = groupMeans(predicted.subarray(0, predicted.length - 1), b);
    const base = values[0]!;
    const attributions = m === 1 ? [fx - base] : solveShapley(masks, weights, values.slice(1), base, fx);
    out.push({ row: r, prediction: fx, base_value: base, attributions: Object.fromEntries(features.map((f, i) => [f, attributions[i]!])) });
  }
  return out;
}

// Weighted least squares with Σφ = f(x) − base, the last feature eliminated by the constraint.
function solveShapley(masks: boolean[][], weights: number[], values: number[], base: number, fx: number): number[] {
  const m = masks[0]!.length;
  const k = m - 1;
  const gram = Array.from({ length: k }, () => new Float64Array(k + 1));
  masks.forEach((mask, s) => {
    const last = mask[k] ? 1 : 0;
    const y = values[s]! - base - last * (fx - base);
    const x = mask.slice(0, k).map((present) => (present ? 1 : 0) - last);
    const w = weights[s]!;
    for (let i = 0; i < k; i++) {
      if (x[i] === 0) continue;
      for (let j = 0; j < k; j++) gram[i]![j]! += w * x[i]! * x[j]!;
      gram[i]![k]! += w * x[i]! * y;
    }
  });
  for (let i = 0; i < k; i++) gram[i]![i]! += 1e-12;
  const phi = solveLinearSystem(gram);
  phi.push(fx - base - phi.reduce((a, v) => a + v, 0));
  return phi;
}

/**
 * Exact attributions of a linear model (`bias + Σ wᵢ·xᵢ`) to its
 * features: `wᵢ · (xᵢ − mean of xᵢ over the background)`, which are its
 * Shapley values when a feature's absence draws it from the background.
 *
 * @throws {ValueError} when a model feature is missing from the rows or the background.
 */
export function linearShap(model: LinearModel, rows: DataFrame, background: DataFrame): RowAttribution[] {
  checkFeatures(rows, model.features, "frame to explain");
  checkFeatures(background, model.features, "background");
  if (background.rowCount === 0) throw new ValueError("The background has no rows");
  const means = model.features.map((f) => {
    const column = background.column(f);
    return column.reduce((a, v) => a + v, 0) / column.length;
  });
  const base = model.bias + model.weights.reduce((sum, w, i) => sum + w * means[i]!, 0);
  const columns = model.features.map((f) => rows.column(f));
  return Array.from({ length: rows.rowCount }, (_, r) => {
    const attributions = Object.fromEntries(model.features.map((f, i) => [f, model.weights[i]! * (columns[i]![r]! - means[i]!)]));
    const prediction = base + Object.values(attributions).reduce((a, v) => a + v, 0);
    return { row: r, prediction, base_value: base, attributions };
  });
}

function score(metric: ErrorMetric, predicted: Float64Array, actual: Float64Array, offset = 0): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < actual.length; i++) {
    const p = predicted[offset + i]!;
    const a = actual[i]!;
    if (Number.isNaN(p) || Number.isNaN(a)) continue;
    sum += metric === "mae" ? Math.abs(p - a) : (p - a) ** 2;
    n += 1;
  }
  if (n === 0) return NaN;
  return metric === "rmse" ? Math.sqrt(sum / n) : sum / n;
}

/**
 * Permutation importance: for each feature, the increase of the error
 * metric (default `rmse`) when that column is shuffled, averaged over
 * `repeats` shuffles (default 5) with a seeded generator.
 *
 * @throws {ValueError} when a feature or the target column is missing, or no row has a target and a prediction.
 */
export async function permutationImportance(
  predict: Predictor,
  data: DataFrame,
  options: { features: readonly string[]; target: string; metric?: ErrorMetric; repeats?: number; seed?: number; signal?: AbortSignal },
): Promise<PermutationImportance> {
  checkFeatures(data, [...options.features, options.target], "data");
  const metric = options.metric ?? "rmse";
  const repeats = Math.max(1, options.repeats ?? 5);
  const random = seededRandom(options.seed ?? 0);
  const actual = data.column(options.target);
  const baseline = score(metric, await predict(data), actual);
  if (Number.isNaN(baseline)) throw new ValueError(`No row of data has both ${options.target} and a prediction`);
  const columns = data.columns;
  const rows = data.rows();
  const n = rows.length;
  const features: FeatureImportance[] = [];
  for (const feature of options.features) {
    options.signal?.throwIfAborted();
    const at = columns.indexOf(feature);
    const batch: Cell[][] = [];
    for (let rep = 0; rep < repeats; rep++) {
      const order = Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      rows.forEach((row, i) => {
        const copy = [...row];
        copy[at] = rows[order[i]!]![at]!;
        batch.push(copy);
      });
    }
    const predicted = await predict(new DataFrame(columns, batch));
    const increases = Array.from({ length: repeats }, (_, rep) => score(metric, predicted, actual, rep * n) - baseline);
    const mean = increases.reduce((a, v) => a + v, 0) / repeats;
    const std = Math.sqrt(increases.reduce((a, v) => a + (v - mean) ** 2, 0) / repeats);
    features.push({ feature, importance: mean, std });
  }
  features.sort((a, b) => b.importance - a.importance);
  return { metric, baseline, repeats, features };
}
