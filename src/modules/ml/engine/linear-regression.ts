/**
 * Ordinary least squares for small feature sets: the model behind the
 * examples (the shell scripts fit the same model in Python; the ONNX example
 * exports it with {@link linearRegressionOnnx}).
 *
 * @module
 */
import type { DataFrame } from "./dataframe.ts";
import { ValueError } from "./errors.ts";

/** A fitted linear model: `y = bias + Σ weights[i] · x[i]`. */
export interface LinearModel {
  /** Feature columns, in weight order. */
  features: string[];
  /** One weight per feature. */
  weights: number[];
  /** The intercept. */
  bias: number;
}

/**
 * Fits `target ~ features` by least squares (normal equations, a 1e-9 ridge
 * for stability); rows with a missing value in any used column are skipped.
 *
 * @throws {ValueError} with fewer usable rows than `minSamples` (default 1), or collinear features.
 */
export function fitLinearRegression(
  data: DataFrame,
  options: { features: readonly string[]; target: string; minSamples?: number },
): LinearModel {
  const columns = options.features.map((f) => data.column(f));
  const y = data.column(options.target);
  const rows: number[] = [];
  for (let r = 0; r < data.rowCount; r++) {
    if (!Number.isNaN(y[r]!) && columns.every((c) => !Number.isNaN(c[r]!))) rows.push(r);
  }
  const minSamples = options.minSamples ?? 1;
  if (rows.length < minSamples) throw new ValueError(`Insufficient training data: ${rows.length} < ${minSamples}`);
  const width = columns.length + 1;
  const gram = Array.from({ length: width }, () => new Float64Array(width + 1));
  for (const r of rows) {
    const x = [1, ...columns.map((c) => c[r]!)];
    for (let i = 0; i < width; i++) {
      for (let j = 0; j < width; j++) gram[i]![j]! += x[i]! * x[j]!;
      gram[i]![width]! += x[i]! * y[r]!;
    }
  }
  for (let i = 0; i < width; i++) gram[i]![i]! += 1e-9;
  const [bias = 0, ...weights] = solveLinearSystem(gram);
  return { features: [...options.features], weights, bias };
}

/** The model's predictions for `data`. */
export function predictLinear(model: LinearModel, data: DataFrame): Float64Array {
  const out = new Float64Array(data.rowCount).fill(model.bias);
  model.features.forEach((feature, i) => data.column(feature).forEach((x, r) => (out[r]! += model.weights[i]! * x)));
  return out;
}

/**
 * Solves `A·x = b` given as augmented rows `[A | b]` (n rows of n + 1), by
 * Gaussian elimination with partial pivoting; the rows are overwritten.
 *
 * @throws {ValueError} when the matrix is singular.
 */
export function solveLinearSystem(rows: Float64Array[]): number[] {
  const n = rows.length;
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(rows[r]![col]!) > Math.abs(rows[pivot]![col]!)) pivot = r;
    if (Math.abs(rows[pivot]![col]!) < 1e-12) throw new ValueError("Singular matrix: features are collinear or constant");
    [rows[col], rows[pivot]] = [rows[pivot]!, rows[col]!];
    for (let r = col + 1; r < n; r++) {
      const factor = rows[r]![col]! / rows[col]![col]!;
      for (let c = col; c <= n; c++) rows[r]![c]! -= factor * rows[col]![c]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let sum = rows[r]![n]!;
    for (let c = r + 1; c < n; c++) sum -= rows[r]![c]! * x[c]!;
    x[r] = sum / rows[r]![r]!;
  }
  return x;
}
