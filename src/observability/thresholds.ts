import { EwmaDetector, type EwmaOptions } from "./anomaly.ts";
import type { Monitoring } from "./monitoring.ts";
import { unrefTimer } from "../core/timers.ts";

/** A health state, best first. */
export type HealthState = "healthy" | "degraded" | "unhealthy";

/** The values at or above which a check turns degraded or unhealthy (either may be left out). */
export interface ThresholdLevels {
  /** At or above: degraded. */
  degraded?: number;
  /** At or above: unhealthy. */
  unhealthy?: number;
}

/**
 * Declared health thresholds. None is active unless declared here; each
 * declared one becomes a health check of its name in `/api/v1/health`.
 */
export interface HealthThresholds {
  /** p95 request latency over the window, seconds (check `latency_p95`). */
  latencyP95Seconds?: ThresholdLevels;
  /** Share of 5xx answers over the window, 0–1 (check `error_ratio`). */
  errorRatio?: ThresholdLevels;
  /** Pending jobs (check `job_queue_depth`). */
  jobQueueDepth?: ThresholdLevels;
  /** Busy share of the PostgreSQL pool, 0–1 (check `pool_saturation`). */
  poolSaturation?: ThresholdLevels;
  /** Event-loop lag, seconds (check `event_loop_lag`). */
  eventLoopLagSeconds?: ThresholdLevels;
  /** Resident memory, bytes (check `memory`). */
  memoryBytes?: ThresholdLevels;
  /** Window of the latency and error checks, seconds (default 60). */
  windowSeconds?: number;
  /** Requests the window needs before latency and error ratio are judged (default 10). */
  minRequests?: number;
  /**
   * Hysteresis: a check leaves a state only when its value falls below that
   * state's threshold by this fraction (default 0.1, so a 1 s threshold
   * clears below 0.9 s). A value hovering at a threshold does not flap.
   */
  hysteresis?: number;
  /**
   * Anomaly detection (EWMA + z-score) on p95 latency and error ratio, one
   * value per evaluation over the window. Anomalies are reported as changes
   * of `anomaly_latency` / `anomaly_error_ratio` (so they raise alerts) but do
   * not change the health answer. Off unless declared.
   */
  anomalies?: EwmaOptions & { latency?: boolean; errorRatio?: boolean };
}

/** One threshold check's verdict. */
export interface ThresholdResult {
  /** The check's name (`latency_p95`, `error_ratio`…). */
  name: string;
  /** Its state after hysteresis. */
  state: HealthState;
  /** The measured value (NaN when it could not be measured). */
  value: number;
  /** Why, when not healthy. */
  message?: string;
}

/** A threshold check that changed state: what alerts announce. */
export interface ThresholdChange extends ThresholdResult {
  /** The state it left. */
  previous: HealthState;
  /** The threshold that was crossed (of the new state, or of the state left when it recovered). */
  threshold: number;
  /** When, epoch milliseconds. */
  at: number;
}

const RANK: Record<HealthState, number> = { healthy: 0, degraded: 1, unhealthy: 2 };
const STATES: HealthState[] = ["healthy", "degraded", "unhealthy"];

interface Definition {
  name: string;
  levels: ThresholdLevels;
  unit: string;
  measure(): Promise<number> | number;
  describe(value: number): string;
}

function levelOf(levels: ThresholdLevels, state: HealthState): number | undefined {
  return state === "healthy" ? undefined : levels[state];
}

/** The state a value maps to without hysteresis. */
function rawState(levels: ThresholdLevels, value: number): HealthState {
  if (levels.unhealthy !== undefined && value >= levels.unhealthy) return "unhealthy";
  if (levels.degraded !== undefined && value >= levels.degraded) return "degraded";
  return "healthy";
}

/** Moves from `current` as `value` says: up at once, down only past the hysteresis band. */
export function nextState(current: HealthState, levels: ThresholdLevels, value: number, hysteresis: number): HealthState {
  const target = rawState(levels, value);
  let state = current;
  if (RANK[target] > RANK[state]) return target;
  while (RANK[state] > RANK[target]) {
    const bound = levelOf(levels, state);
    if (bound !== undefined && value >= bound * (1 - hysteresis)) break;
    state = STATES[RANK[state] - 1]!;
  }
  return state;
}

function fixed(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(3)));
}

/**
 * Evaluates the declared thresholds against the service's own measurements
 * (request series, job counts, pool, event-loop lag, memory) every
 * `intervalMs`, keeps each check's state with hysteresis, and reports state
 * changes (for alerts). Health answers read the last evaluation, so a probe
 * never waits for a measurement.
 */
export class ThresholdMonitor {
  readonly #definitions: Definition[];
  readonly #anomalies: { name: string; detector: EwmaDetector; measure(): number | null; describe(v: number): string }[] = [];
  readonly #hysteresis: number;
  readonly #results = new Map<string, ThresholdResult>();
  readonly #listeners: ((change: ThresholdChange) => void)[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #evaluating: Promise<void> | undefined;

  /** Declares the checks of `thresholds` over `monitoring`'s measurements. */
  constructor(monitoring: Monitoring, thresholds: HealthThresholds) {
    this.#hysteresis = Math.min(0.9, Math.max(0, thresholds.hysteresis ?? 0.1));
    const windowMs = (thresholds.windowSeconds ?? 60) * 1000;
    const minRequests = thresholds.minRequests ?? 10;
    const series = monitoring.requests;
    const window = `over the last ${fixed(windowMs / 1000)} s`;
    const defs: (Definition | false)[] = [
      !!thresholds.latencyP95Seconds && {
        name: "latency_p95",
        levels: thresholds.latencyP95Seconds,
        unit: "s",
        measure: () => {
          const summary = series.summary(windowMs);
          return summary.count < minRequests ? 0 : summary.p95;
        },
        describe: (v) => `p95 latency ${fixed(v)} s ${window}`,
      },
      !!thresholds.errorRatio && {
        name: "error_ratio",
        levels: thresholds.errorRatio,
        unit: "",
        measure: () => {
          const summary = series.summary(windowMs);
          return summary.count < minRequests ? 0 : summary.errorRatio;
        },
        describe: (v) => `${fixed(v * 100)}% of requests failed ${window}`,
      },
      !!thresholds.jobQueueDepth && {
        name: "job_queue_depth",
        levels: thresholds.jobQueueDepth,
        unit: "",
        measure: async () => {
          await monitoring.jobs.refresh();
          return monitoring.jobs.child("pending").get();
        },
        describe: (v) => `${fixed(v)} jobs pending`,
      },
      !!thresholds.poolSaturation && {
        name: "pool_saturation",
        levels: thresholds.poolSaturation,
        unit: "",
        measure: async () => {
          await monitoring.dbPool.refresh();
          const max = monitoring.dbPool.child("max").get();
          return max === 0 ? 0 : monitoring.dbPool.child("active").get() / max;
        },
        describe: (v) => `${fixed(v * 100)}% of the database pool busy`,
      },
      !!thresholds.eventLoopLagSeconds && {
        name: "event_loop_lag",
        levels: thresholds.eventLoopLagSeconds,
        unit: "s",
        measure: () => monitoring.lag.seconds,
        describe: (v) => `event loop ${fixed(v)} s late`,
      },
      !!thresholds.memoryBytes && {
        name: "memory",
        levels: thresholds.memoryBytes,
        unit: "bytes",
        measure: () => (globalThis as { process?: { memoryUsage?(): { rss: number } } }).process?.memoryUsage?.().rss ?? 0,
        describe: (v) => `resident memory ${fixed(v)} bytes`,
      },
    ];
    this.#definitions = defs.filter((d): d is Definition => d !== false);
    const anomalies = thresholds.anomalies;
    if (anomalies) {
      const judged = (pick: (summary: ReturnType<typeof series.summary>) => number) => (): number | null => {
        const summary = series.summary(windowMs);
        return summary.count < minRequests ? null : pick(summary);
      };
      if (anomalies.latency !== false) {
        this.#anomalies.push({
          name: "anomaly_latency",
          detector: new EwmaDetector(anomalies),
          measure: judged((summary) => summary.p95),
          describe: (v) => `p95 latency ${fixed(v)} s ${window} is far above its recent average`,
        });
      }
      if (anomalies.errorRatio !== false) {
        this.#anomalies.push({
          name: "anomaly_error_ratio",
          detector: new EwmaDetector(anomalies),
          measure: judged((summary) => summary.errorRatio),
          describe: (v) => `${fixed(v * 100)}% of requests failed ${window}, far above the recent average`,
        });
      }
      for (const anomaly of this.#anomalies) this.#results.set(anomaly.name, { name: anomaly.name, state: "healthy", value: 0 });
    }
    for (const def of this.#definitions) this.#results.set(def.name, { name: def.name, state: "healthy", value: 0 });
  }

  /** The names of the declared threshold checks (anomaly detectors are not health checks). */
  get names(): string[] {
    return this.#definitions.map((def) => def.name);
  }

  #evaluateAnomalies(): void {
    for (const anomaly of this.#anomalies) {
      const value = anomaly.measure();
      if (value === null) continue;
      const verdict = anomaly.detector.observe(value);
      const previous = this.#results.get(anomaly.name)!;
      const state: HealthState = verdict.anomalous ? "degraded" : "healthy";
      const result: ThresholdResult = { name: anomaly.name, state, value };
      if (state !== "healthy") result.message = `${anomaly.describe(value)} (z-score ${fixed(verdict.z)})`;
      this.#results.set(anomaly.name, result);
      if (state !== previous.state) {
        const change: ThresholdChange = {
          ...result,
          ...(state === "healthy" ? { message: `${anomaly.describe(value).replace(/,? far above.*$|is far above.*$/, "")}: back to normal` } : {}),
          previous: previous.state,
          threshold: verdict.bound,
          at: Date.now(),
        };
        for (const listener of this.#listeners) listener(change);
      }
    }
  }

  /** Calls `listener` on every state change. */
  onChange(listener: (change: ThresholdChange) => void): void {
    this.#listeners.push(listener);
  }

  /** The last verdict of a check. */
  result(name: string): ThresholdResult | undefined {
    return this.#results.get(name);
  }

  /** Measures every check once and applies the state changes. */
  evaluate(): Promise<void> {
    this.#evaluating ??= this.#evaluate().finally(() => (this.#evaluating = undefined));
    return this.#evaluating;
  }

  async #evaluate(): Promise<void> {
    this.#evaluateAnomalies();
    for (const def of this.#definitions) {
      let value: number;
      try {
        value = await def.measure();
      } catch {
        value = NaN;
      }
      const previous = this.#results.get(def.name)!;
      const state = Number.isNaN(value) ? previous.state : nextState(previous.state, def.levels, value, this.#hysteresis);
      const bound = levelOf(def.levels, state);
      const result: ThresholdResult = { name: def.name, state, value };
      if (state !== "healthy") {
        result.message = `${def.describe(value)}: at or above the ${state} threshold ${fixed(bound!)}${def.unit ? ` ${def.unit}` : ""}`;
      }
      this.#results.set(def.name, result);
      if (state !== previous.state) {
        const threshold = bound ?? levelOf(def.levels, previous.state) ?? 0;
        const change: ThresholdChange = {
          ...result,
          ...(state === "healthy" ? { message: `${def.describe(value)}: recovered` } : {}),
          previous: previous.state,
          threshold,
          at: Date.now(),
        };
        for (const listener of this.#listeners) listener(change);
      }
    }
  }

  /** Evaluates every `intervalMs` (default 10 000) until {@link ThresholdMonitor.stop}; the timer does not keep the process alive. */
  start(intervalMs = 10_000): void {
    if (this.#timer !== undefined || this.#definitions.length + this.#anomalies.length === 0) return;
    this.#timer = setInterval(() => void this.evaluate(), intervalMs);
    unrefTimer(this.#timer);
  }

  /** Stops evaluating. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
