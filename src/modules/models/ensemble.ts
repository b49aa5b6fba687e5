/**
 * Ensembles: a model version made of other versions, whose predictions are
 * combined column by column (mean, weighted mean, median, or a stacking
 * model fitted on the members' predictions). The definition is stored as
 * the version's artifact (`ml_type: "ensemble"`); serving lives with the ML
 * module, which predicts each member and calls {@link combinePredictions}.
 *
 * @module
 */

/** How member predictions are combined. */
export type EnsembleMethod = "mean" | "weighted_mean" | "median" | "stacking";

/** The ensemble methods, in documentation order. */
export const ENSEMBLE_METHODS: readonly EnsembleMethod[] = ["mean", "weighted_mean", "median", "stacking"];

/** One member: a pinned version, with its weight (weighted mean). */
export interface EnsembleMember {
  name: string;
  version: string;
  /** Weight in a weighted mean (positive); ignored by the other methods. */
  weight?: number;
}

/** A stacking model: `bias + Σ weights[i] · member_i`, fitted on the members' predictions. */
export interface Stacker {
  /** One weight per member, in member order. */
  weights: number[];
  bias: number;
}

/** An ensemble as stored in its artifact (`ml_type: "ensemble"`). */
export interface EnsembleSpec {
  method: EnsembleMethod;
  members: EnsembleMember[];
  /** The prediction columns combined (each member must produce them). */
  outputs: string[];
  /** The fitted stacking model (method `stacking`). */
  stacker?: Stacker;
}

/** Whether artifact data holds an ensemble. */
export function isEnsembleData(data: unknown): data is { ml_type: "ensemble"; ensemble: EnsembleSpec; signature?: unknown } {
  return typeof data === "object" && data !== null && (data as { ml_type?: unknown }).ml_type === "ensemble";
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  values.sort((a, b) => a - b);
  const mid = values.length >> 1;
  return values.length % 2 === 1 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
}

/**
 * Combines one output column's member predictions (`members[m][row]`) row
 * by row. Mean, weighted mean and median skip a member's NaN (missing)
 * prediction in that row; a row where every member is missing gives NaN. A
 * stacking model needs every member's prediction and gives NaN otherwise.
 *
 * @throws {TypeError} when the members' lengths differ, or `stacking` has no stacker.
 */
export function combinePredictions(spec: EnsembleSpec, members: readonly Float64Array[]): Float64Array {
  const rows = members[0]?.length ?? 0;
  if (members.some((m) => m.length !== rows)) throw new TypeError("Ensemble members predicted different numbers of rows");
  const out = new Float64Array(rows);
  const weights = spec.members.map((m) => spec.method === "weighted_mean" ? m.weight ?? 1 : 1);
  for (let r = 0; r < rows; r++) {
    if (spec.method === "stacking") {
      const stacker = spec.stacker;
      if (!stacker) throw new TypeError("A stacking ensemble needs its fitted stacker");
      out[r] = members.reduce((sum, m, i) => sum + stacker.weights[i]! * m[r]!, stacker.bias);
    } else if (spec.method === "median") {
      out[r] = median(members.map((m) => m[r]!).filter((v) => !Number.isNaN(v)));
    } else {
      let sum = 0;
      let total = 0;
      members.forEach((m, i) => {
        const v = m[r]!;
        if (Number.isNaN(v)) return;
        sum += weights[i]! * v;
        total += weights[i]!;
      });
      out[r] = total > 0 ? sum / total : NaN;
    }
  }
  return out;
}
