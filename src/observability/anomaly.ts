/** Options of {@link EwmaDetector}. */
export interface EwmaOptions {
  /** Weight of each new value in the moving mean and variance (default 0.1). */
  alpha?: number;
  /** A value this many moving standard deviations above the moving mean is anomalous (default 3). */
  zThreshold?: number;
  /** Values seen before any is judged (default 10). */
  warmup?: number;
}

/** The verdict on one value. */
export interface EwmaVerdict {
  /** Whether the series is in an anomaly (entered above `zThreshold`, left below half of it). */
  anomalous: boolean;
  /** The value's z-score against the mean and deviation before it (0 during warm-up). */
  z: number;
  /** The value at which a z-score reaches `zThreshold` now. */
  bound: number;
}

/**
 * Anomaly detection on one series (p95 latency, error ratio…) by an
 * exponentially weighted moving mean and variance: a value whose z-score
 * reaches `zThreshold` starts an anomaly, which ends when z-scores fall below
 * half of it (hysteresis). Only rises count: a series getting better is not
 * an anomaly.
 */
export class EwmaDetector {
  readonly #alpha: number;
  readonly #zThreshold: number;
  readonly #warmup: number;
  #mean = 0;
  #variance = 0;
  #n = 0;
  #anomalous = false;

  /** Creates a detector with no history. */
  constructor(options: EwmaOptions = {}) {
    this.#alpha = Math.min(1, Math.max(0.001, options.alpha ?? 0.1));
    this.#zThreshold = options.zThreshold ?? 3;
    this.#warmup = options.warmup ?? 10;
  }

  /** Judges `value` against the history, then adds it to the history. */
  observe(value: number): EwmaVerdict {
    const sd = Math.sqrt(this.#variance);
    const judged = this.#n >= this.#warmup;
    // A flat history has no spread: any rise of more than 1e-9 counts as far out.
    const z = !judged ? 0 : sd > 0 ? (value - this.#mean) / sd : value > this.#mean + 1e-9 ? Infinity : 0;
    const bound = this.#mean + this.#zThreshold * sd;
    if (judged) {
      if (!this.#anomalous && z >= this.#zThreshold) this.#anomalous = true;
      else if (this.#anomalous && z < this.#zThreshold / 2) this.#anomalous = false;
    }
    if (this.#n === 0) {
      this.#mean = value;
    } else {
      const diff = value - this.#mean;
      const increment = this.#alpha * diff;
      this.#mean += increment;
      this.#variance = (1 - this.#alpha) * (this.#variance + diff * increment);
    }
    this.#n += 1;
    return { anomalous: this.#anomalous, z, bound };
  }
}
