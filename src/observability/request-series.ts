/** Requests of one time slot: count, server errors, and latency bucket counts. */
export interface SeriesSlot {
  /** Slot start, epoch milliseconds. */
  start: number;
  /** Requests answered. */
  count: number;
  /** Requests answered 5xx. */
  errors: number;
  /** Sum of durations, seconds. */
  sum: number;
  /** Per-bucket (non-cumulative) counts over {@link RequestSeries.bounds}, plus one overflow cell. */
  buckets: Float64Array;
}

/** A summary of a stretch of time. */
export interface SeriesSummary {
  /** Requests answered. */
  count: number;
  /** Requests per second over the stretch. */
  rate: number;
  /** Share of 5xx answers (0 without requests). */
  errorRatio: number;
  /** Median latency in seconds (interpolated within buckets; 0 without requests). */
  p50: number;
  /** 95th-percentile latency in seconds. */
  p95: number;
}

/**
 * Request counts, server errors and latency buckets over fixed time slots
 * (default 10 s, one hour kept), so health thresholds and the status page
 * can read p95 latency, error ratio and rate over a recent window without
 * scraping. Recording is a few array updates.
 */
export class RequestSeries {
  /** Latency bucket bounds in seconds. */
  readonly bounds: readonly number[];
  /** Slot length in milliseconds. */
  readonly slotMs: number;
  readonly #slots: SeriesSlot[];
  #head = 0;

  /** Keeps `retainMs` (default one hour) of `slotMs` slots. */
  constructor(bounds: readonly number[], options: { slotMs?: number; retainMs?: number } = {}) {
    this.bounds = bounds;
    this.slotMs = Math.max(1, options.slotMs ?? 10_000);
    const length = Math.max(1, Math.ceil((options.retainMs ?? 3_600_000) / this.slotMs));
    this.#slots = Array.from({ length }, () => this.#empty(-Infinity));
  }

  #empty(start: number): SeriesSlot {
    return { start, count: 0, errors: 0, sum: 0, buckets: new Float64Array(this.bounds.length + 1) };
  }

  #slotAt(now: number): SeriesSlot {
    const start = now - (now % this.slotMs);
    const head = this.#slots[this.#head]!;
    if (head.start === start) return head;
    this.#head = (this.#head + 1) % this.#slots.length;
    const slot = this.#slots[this.#head]!;
    slot.start = start;
    slot.count = 0;
    slot.errors = 0;
    slot.sum = 0;
    slot.buckets.fill(0);
    return slot;
  }

  /** Records one answered request. */
  record(seconds: number, status: number, now: number = Date.now()): void {
    const slot = this.#slotAt(now);
    slot.count += 1;
    slot.sum += seconds;
    if (status >= 500) slot.errors += 1;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    slot.buckets[i]! += 1;
  }

  /** The slots that started within the last `windowMs`, oldest first. */
  slots(windowMs: number, now: number = Date.now()): SeriesSlot[] {
    const since = now - windowMs;
    return this.#slots.filter((slot) => slot.start > since - this.slotMs && slot.start <= now)
      .sort((a, b) => a.start - b.start);
  }

  /** Counts, rate, error ratio and latency quantiles over the last `windowMs`. */
  summary(windowMs: number, now: number = Date.now()): SeriesSummary {
    return this.summarise(this.slots(windowMs, now), windowMs);
  }

  /** The summary of some slots spanning `spanMs`. */
  summarise(slots: readonly SeriesSlot[], spanMs: number): SeriesSummary {
    const buckets = new Float64Array(this.bounds.length + 1);
    let count = 0;
    let errors = 0;
    for (const slot of slots) {
      count += slot.count;
      errors += slot.errors;
      for (let i = 0; i < buckets.length; i++) buckets[i]! += slot.buckets[i]!;
    }
    return {
      count,
      rate: count / Math.max(spanMs / 1000, 1e-9),
      errorRatio: count === 0 ? 0 : errors / count,
      p50: this.quantile(buckets, count, 0.5),
      p95: this.quantile(buckets, count, 0.95),
    };
  }

  /** The `q` quantile of bucket counts, interpolated linearly as Prometheus' `histogram_quantile` does. */
  quantile(buckets: Float64Array, count: number, q: number): number {
    if (count === 0) return 0;
    const rank = q * count;
    let cumulative = 0;
    for (let i = 0; i < buckets.length; i++) {
      const inBucket = buckets[i]!;
      if (cumulative + inBucket >= rank && inBucket > 0) {
        // Past the last bound: the last finite bound is the best answer, as in Prometheus.
        if (i >= this.bounds.length) return this.bounds[this.bounds.length - 1] ?? 0;
        const lower = i === 0 ? 0 : this.bounds[i - 1]!;
        const upper = this.bounds[i]!;
        return lower + (upper - lower) * ((rank - cumulative) / inBucket);
      }
      cumulative += inBucket;
    }
    return this.bounds[this.bounds.length - 1] ?? 0;
  }
}
