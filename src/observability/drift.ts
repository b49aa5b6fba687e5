/**
 * Input-drift statistics of one numeric feature against its training
 * distribution: the population stability index over the training deciles,
 * and the two-sample Kolmogorov-Smirnov statistic with its p-value.
 */

/** A feature's training distribution, kept small: a sorted sample of at most a few thousand values. */
export interface FeatureReference {
  /** Sorted training values (evenly spaced order statistics when the column was larger). */
  sorted: number[];
  /** Training rows seen. */
  count: number;
}

/** Drift of one feature. */
export interface FeatureDrift {
  /** Population stability index (0 same; above 0.1 moderate, above 0.25 large drift, by common practice). */
  psi: number;
  /** Kolmogorov-Smirnov statistic: the largest gap between the two empirical CDFs (0–1). */
  ks: number;
  /** Asymptotic p-value of the KS statistic (small: the inputs do not come from the training distribution). */
  ks_p_value: number;
  /** Training values compared. */
  n_reference: number;
  /** Recent prediction inputs compared. */
  n_current: number;
}

/** At most this many values are kept per reference or recent-input sample. */
export const SAMPLE_LIMIT = 2000;

/** Evenly spaced order statistics of `values` (finite ones), at most `limit`, sorted. */
export function sortedSample(values: Iterable<number>, limit = SAMPLE_LIMIT): number[] {
  const finite: number[] = [];
  for (const value of values) if (Number.isFinite(value)) finite.push(value);
  finite.sort((a, b) => a - b);
  if (finite.length <= limit) return finite;
  return Array.from({ length: limit }, (_, i) => finite[Math.floor((i * (finite.length - 1)) / (limit - 1))]!);
}

/** The training reference of one column. */
export function featureReference(values: Iterable<number>): FeatureReference {
  let count = 0;
  const all: number[] = [];
  for (const value of values) {
    count += 1;
    all.push(value);
  }
  return { sorted: sortedSample(all), count };
}

function quantileOf(sorted: readonly number[], q: number): number {
  const position = q * (sorted.length - 1);
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}

function binOf(edges: readonly number[], value: number): number {
  let i = 0;
  while (i < edges.length && value > edges[i]!) i++;
  return i;
}

const EPSILON = 1e-4;

/**
 * PSI of `current` against quantile bins of the reference: deciles, or fewer
 * bins (at least 2, about 5 values each) when either sample is small, since
 * empty bins would dominate the index. A floor of 1e-4 per bin share avoids log(0).
 */
export function psi(reference: FeatureReference, current: readonly number[]): number {
  if (reference.sorted.length === 0 || current.length === 0) return NaN;
  const bins = Math.min(10, Math.max(2, Math.floor(Math.min(reference.sorted.length, current.length) / 5)));
  const edges = Array.from({ length: bins - 1 }, (_, i) => quantileOf(reference.sorted, (i + 1) / bins));
  const expected = new Float64Array(bins);
  const actual = new Float64Array(bins);
  for (const value of reference.sorted) expected[binOf(edges, value)]! += 1;
  for (const value of current) actual[binOf(edges, value)]! += 1;
  let total = 0;
  for (let i = 0; i < bins; i++) {
    const e = Math.max(expected[i]! / reference.sorted.length, EPSILON);
    const a = Math.max(actual[i]! / current.length, EPSILON);
    total += (a - e) * Math.log(a / e);
  }
  return total;
}

/** The two-sample KS statistic of two sorted samples. */
export function ksStatistic(a: readonly number[], b: readonly number[]): number {
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < a.length && j < b.length) {
    const x = Math.min(a[i]!, b[j]!);
    while (i < a.length && a[i]! <= x) i++;
    while (j < b.length && b[j]! <= x) j++;
    d = Math.max(d, Math.abs(i / a.length - j / b.length));
  }
  return d;
}

/** The asymptotic p-value of a two-sample KS statistic `d` for sample sizes `n` and `m`. */
export function ksPValue(d: number, n: number, m: number): number {
  if (n === 0 || m === 0) return NaN;
  const en = Math.sqrt((n * m) / (n + m));
  const lambda = (en + 0.12 + 0.11 / en) * d;
  if (lambda < 1e-3) return 1;
  let sum = 0;
  for (let k = 1; k <= 100; k++) {
    const term = 2 * (k % 2 === 1 ? 1 : -1) * Math.exp(-2 * k * k * lambda * lambda);
    sum += term;
    if (Math.abs(term) < 1e-10) break;
  }
  return Math.min(1, Math.max(0, sum));
}

/** PSI and KS of recent inputs against a training reference. */
export function featureDrift(reference: FeatureReference, current: readonly number[]): FeatureDrift {
  const sorted = sortedSample(current);
  const ks = ksStatistic(reference.sorted, sorted);
  return {
    psi: psi(reference, sorted),
    ks,
    ks_p_value: ksPValue(ks, reference.sorted.length, sorted.length),
    n_reference: reference.sorted.length,
    n_current: sorted.length,
  };
}
