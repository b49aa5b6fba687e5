/** A small load helper: run an async operation many times at a fixed concurrency and summarise latencies. */

/** Options of {@link load}. */
export interface LoadOptions {
  /** How many times to run the operation in total. */
  requests: number;
  /** How many run at once (default 8). */
  concurrency?: number;
}

/** What {@link load} measured; latencies in milliseconds. */
export interface LoadReport {
  requests: number;
  /** Runs that threw (their errors are in `errors`, at most 10). */
  failed: number;
  errors: unknown[];
  totalMs: number;
  /** Completed runs per second. */
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * Runs `operation(i)` `requests` times with `concurrency` workers and reports
 * throughput and latency percentiles. For performance tests and benchmarks;
 * keep its numbers out of assertions (they depend on the machine).
 */
export async function load(operation: (i: number) => Promise<unknown>, options: LoadOptions): Promise<LoadReport> {
  const latencies: number[] = [];
  const errors: unknown[] = [];
  let failed = 0;
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < options.requests) {
      const i = next++;
      const t = performance.now();
      try {
        await operation(i);
        latencies.push(performance.now() - t);
      } catch (error) {
        failed++;
        if (errors.length < 10) errors.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));
  const totalMs = performance.now() - started;
  latencies.sort((a, b) => a - b);
  return {
    requests: options.requests,
    failed,
    errors,
    totalMs,
    perSecond: latencies.length / (totalMs / 1000),
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? 0,
  };
}
