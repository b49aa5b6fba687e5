/** One measured figure of a benchmark run. */
export interface BenchRow {
  suite: string;
  case: string;
  /** Store the figure was measured on (`bun:sqlite`, `postgres`, `-`). */
  store: string;
  metric: string;
  value: number;
  unit: string;
  /** The baseline's figure measured side by side in the same run, when there is one. */
  baseline_value?: number;
  /** value / baseline_value, oriented so that > 1 is better for chapkit when `higherIsBetter`. */
  ratio?: number;
}

/** What a suite receives. */
export interface SuiteContext {
  /** Shrunken data sizes for a run under 3 minutes. */
  quick: boolean;
  /** PostgreSQL URL, or undefined when PostgreSQL is not reachable. */
  postgresUrl: string | undefined;
  /** Progress output. */
  log(message: string): void;
}

/** A benchmark suite under bench/suites. */
export interface Suite {
  name: string;
  description: string;
  run(context: SuiteContext): Promise<BenchRow[]>;
}

/** A row comparing chapkit's figure with a baseline figure. */
export function compare(
  base: Omit<BenchRow, "value" | "baseline_value" | "ratio">,
  value: number,
  baseline: number,
  higherIsBetter: boolean,
): BenchRow {
  const ratio = higherIsBetter ? value / baseline : baseline / value;
  return { ...base, value: round(value), baseline_value: round(baseline), ratio: Number(ratio.toPrecision(3)) };
}

/** Rounds to a few significant decimals for the table. */
export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
