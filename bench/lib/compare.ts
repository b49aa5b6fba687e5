// `bun bench --compare FILE`: each ratio of this run against the same row of a
// saved run; a ratio that fell by more than the allowed share is a regression.
import type { BenchRow } from "./types.ts";

/** One row present in both runs. */
export interface RatioChange {
  key: string;
  saved: number;
  current: number;
  /** (saved − current) / saved: positive when chapkit got worse relative to its baseline. */
  drop: number;
}

/** What a comparison found. */
export interface Comparison {
  /** Rows whose ratio fell by more than the threshold. */
  regressions: RatioChange[];
  /** Every compared row. */
  compared: RatioChange[];
  /** Rows of the saved run that this run lacks. */
  missing: string[];
}

/** The identity of a row across runs. */
export function rowKey(row: BenchRow): string {
  return `${row.suite} | ${row.case} | ${row.store} | ${row.metric}`;
}

/**
 * Compares the ratios (chapkit against its same-run baseline, > 1 better) of
 * `current` with those of `saved`. Ratios, not absolute figures, are compared:
 * they survive a change of machine or load. `maxDrop` is a share (0.1 = 10 %).
 */
export function compareRuns(saved: readonly BenchRow[], current: readonly BenchRow[], maxDrop: number): Comparison {
  const now = new Map(current.map((row) => [rowKey(row), row]));
  const compared: RatioChange[] = [];
  const missing: string[] = [];
  for (const row of saved) {
    if (row.ratio === undefined || !(row.ratio > 0)) continue;
    const key = rowKey(row);
    const match = now.get(key);
    if (!match || match.ratio === undefined) {
      missing.push(key);
      continue;
    }
    compared.push({ key, saved: row.ratio, current: match.ratio, drop: (row.ratio - match.ratio) / row.ratio });
  }
  return { regressions: compared.filter((change) => change.drop > maxDrop), compared, missing };
}

/** A readable report of a comparison. */
export function comparisonReport(result: Comparison, maxDrop: number, file: string): string {
  const lines = [`compared ${result.compared.length} ratios with ${file} (regression: a ratio ${Math.round(maxDrop * 100)}% or more below the saved one)`];
  for (const change of result.regressions) {
    lines.push(`REGRESSION ${change.key}: ratio ${change.saved} -> ${change.current} (-${(change.drop * 100).toFixed(1)}%)`);
  }
  if (result.missing.length > 0) lines.push(`not in this run: ${result.missing.length} rows of the saved run`);
  lines.push(result.regressions.length === 0 ? "no regression" : `${result.regressions.length} regression(s)`);
  return lines.join("\n");
}
