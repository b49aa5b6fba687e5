import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { featureDrift, featureReference, ksPValue, ksStatistic, psi, sortedSample } from "../../src/observability/drift.ts";

/** A deterministic pseudo-random sequence (LCG) in [0, 1). */
function uniform(seed: number, n: number): number[] {
  let state = seed;
  return Array.from({ length: n }, () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

describe("input drift", () => {
  it("finds no drift between two samples of one distribution", () => {
    const reference = featureReference(uniform(1, 5000));
    const drift = featureDrift(reference, uniform(2, 1000));
    assert.ok(drift.psi < 0.02, JSON.stringify(drift));
    assert.ok(drift.ks < 0.06, JSON.stringify(drift));
    assert.ok(drift.ks_p_value > 0.05, JSON.stringify(drift));
    assert.equal(drift.n_reference, 2000);
    assert.equal(drift.n_current, 1000);
  });

  it("finds large drift when the inputs shift", () => {
    const reference = featureReference(uniform(1, 5000));
    const drift = featureDrift(reference, uniform(2, 1000).map((v) => v + 0.5));
    assert.ok(drift.psi > 0.25, JSON.stringify(drift));
    assert.ok(Math.abs(drift.ks - 0.5) < 0.05, JSON.stringify(drift));
    assert.ok(drift.ks_p_value < 1e-6);
  });

  it("computes the KS statistic exactly on small samples", () => {
    assert.equal(ksStatistic([1, 2, 3, 4], [1, 2, 3, 4]), 0);
    assert.equal(ksStatistic([1, 2, 3, 4], [5, 6, 7, 8]), 1);
    assert.equal(ksStatistic([1, 2, 3, 4], [3, 4, 5, 6]), 0.5);
  });

  it("gives KS p-values near the known asymptotic ones", () => {
    // Kolmogorov distribution: Q(1.36) ≈ 0.049 (the classic 5% critical value).
    const n = 10_000;
    const d = 1.36 / Math.sqrt((n * n) / (2 * n));
    assert.ok(Math.abs(ksPValue(d, n, n) - 0.049) < 0.003, String(ksPValue(d, n, n)));
    assert.equal(ksPValue(0, 10, 10), 1);
  });

  it("is PSI 0 for identical samples and keeps bins populated on small samples", () => {
    const values = [1, 2, 3, 4, 5, 6, 7, 8];
    assert.equal(psi(featureReference(values), values), 0);
    assert.ok(psi(featureReference(values), [2, 4, 6, 8]) < 0.1);
  });

  it("keeps at most a bounded, evenly spaced sorted sample, dropping non-finite values", () => {
    const sample = sortedSample([...Array.from({ length: 10_000 }, (_, i) => 10_000 - i), NaN, Infinity], 100);
    assert.equal(sample.length, 100);
    assert.equal(sample[0], 1);
    assert.equal(sample[99], 10_000);
    assert.deepEqual(sample, [...sample].sort((a, b) => a - b));
  });
});
