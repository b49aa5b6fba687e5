/**
 * A small metrics registry that writes the Prometheus text format (0.0.4) and
 * OpenMetrics 1.0. It has no dependencies and runs unchanged on Bun and Deno.
 * Series with the same label values share one child object, so the hot path
 * (`child(...).observe(v)`) is a map lookup and a few additions.
 */

/** The two exposition formats a scrape can ask for. */
export type ExpositionFormat = "prometheus" | "openmetrics";

/** `Content-Type` of each exposition format. */
export const CONTENT_TYPES: Readonly<Record<ExpositionFormat, string>> = {
  prometheus: "text/plain; version=0.0.4; charset=utf-8",
  openmetrics: "application/openmetrics-text; version=1.0.0; charset=utf-8",
};

/** The kinds of metric the registry writes. */
export type MetricType = "counter" | "gauge" | "histogram";

/** What every metric is declared with. */
export interface MetricOptions {
  /** `snake_case`, base units (`_seconds`, `_bytes`); counters end in `_total`. */
  name: string;
  /** One line saying what the metric measures. */
  help: string;
  /** Label names; their values must come from a bounded set. */
  labelNames?: readonly string[];
}

/** Options of a histogram. */
export interface HistogramOptions extends MetricOptions {
  /** Upper bounds, ascending (default {@link DEFAULT_SECONDS_BUCKETS}). */
  buckets?: readonly number[];
}

/** Buckets for request and query durations in seconds (1 ms to 10 s). */
export const DEFAULT_SECONDS_BUCKETS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** A series that only goes up. */
export interface CounterChild {
  /** Adds `value` (default 1); a negative value is ignored. */
  inc(value?: number): void;
  /** The current value. */
  get(): number;
}

/** A series that goes up and down. */
export interface GaugeChild extends CounterChild {
  /** Subtracts `value` (default 1). */
  dec(value?: number): void;
  /** Replaces the value (negative values too). */
  set(value: number): void;
}

/** A distribution over fixed buckets. */
export interface HistogramChild {
  /** Records one observation. */
  observe(value: number): void;
  /** Observations so far. */
  count(): number;
  /** Sum of the observations. */
  sum(): number;
}

/** A called-at-scrape function that refreshes a metric's values (may be async). */
export type Collector = () => void | Promise<void>;

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const SEP = "\u0001";

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function escapeHelp(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** A number as both formats write it (`+Inf`, `NaN`; OpenMetrics wants `1.0`-style floats for `le`). */
function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function formatBound(value: number, format: ExpositionFormat): string {
  const text = formatNumber(value);
  return format === "openmetrics" && Number.isInteger(value) ? `${text}.0` : text;
}

/** The common part of counters, gauges and histograms: name, help, labels and children. */
abstract class Metric<Child> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  abstract readonly type: MetricType;
  protected readonly children: Map<string, { labels: string; child: Child }> = new Map();
  #collector: Collector | undefined;

  constructor(options: MetricOptions) {
    if (!NAME.test(options.name)) throw new TypeError(`Invalid metric name ${JSON.stringify(options.name)}`);
    for (const label of options.labelNames ?? []) {
      if (!LABEL.test(label) || label.startsWith("__") || label === "le") {
        throw new TypeError(`Invalid label name ${JSON.stringify(label)} on ${options.name}`);
      }
    }
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames ?? [];
  }

  protected abstract create(): Child;

  /** The series for these label values (in `labelNames` order); created on first use. */
  child(...values: string[]): Child {
    const key = values.length === 1 ? values[0]! : values.join(SEP);
    const found = this.children.get(key);
    if (found) return found.child;
    if (values.length !== this.labelNames.length) {
      throw new TypeError(`${this.name} takes ${this.labelNames.length} label values, got ${values.length}`);
    }
    const labels = this.labelNames.map((name, i) => `${name}="${escapeLabel(values[i]!)}"`).join(",");
    const child = this.create();
    this.children.set(key, { labels, child });
    return child;
  }

  /** Every series: its label pairs as written, and its child. */
  series(): { labels: string; child: Child }[] {
    return [...this.children.values()];
  }

  /** Drops every series (a collector that rebuilds its values from scratch calls it first). */
  reset(): void {
    this.children.clear();
  }

  /** Runs `collector` before each scrape, so the values it sets are current. */
  collect(collector: Collector): this {
    this.#collector = collector;
    return this;
  }

  /** @internal runs the collector, if any. */
  refresh(): void | Promise<void> {
    return this.#collector?.();
  }

  /** @internal the metric's lines in `format`. */
  abstract write(format: ExpositionFormat): string;

  protected header(format: ExpositionFormat, familyName: string): string {
    return `# HELP ${familyName} ${escapeHelp(this.help)}\n# TYPE ${familyName} ${this.type}\n`;
  }
}

function sampleLine(name: string, labels: string, value: number): string {
  return labels === "" ? `${name} ${formatNumber(value)}\n` : `${name}{${labels}} ${formatNumber(value)}\n`;
}

class CounterValue implements CounterChild {
  value = 0;
  inc(value = 1): void {
    if (value > 0) this.value += value;
  }
  get(): number {
    return this.value;
  }
}

/** A monotonically increasing count (its name ends in `_total`). */
export class Counter extends Metric<CounterChild> {
  readonly type = "counter" as const;

  constructor(options: MetricOptions) {
    super(options);
    if (!options.name.endsWith("_total")) throw new TypeError(`Counter ${options.name} must end in _total`);
  }

  protected create(): CounterChild {
    return new CounterValue();
  }

  /** Adds to the series of these label values (none for an unlabelled counter). */
  inc(value = 1, ...labels: string[]): void {
    this.child(...labels).inc(value);
  }

  write(format: ExpositionFormat): string {
    // OpenMetrics names the family without `_total`; the 0.0.4 text format names it as the sample.
    const family = format === "openmetrics" ? this.name.slice(0, -"_total".length) : this.name;
    let out = this.header(format, family);
    if (this.children.size === 0 && this.labelNames.length === 0) this.child();
    for (const { labels, child } of this.children.values()) out += sampleLine(this.name, labels, child.get());
    return out;
  }
}

class GaugeValue extends CounterValue implements GaugeChild {
  override inc(value = 1): void {
    this.value += value;
  }
  dec(value = 1): void {
    this.value -= value;
  }
  set(value: number): void {
    this.value = value;
  }
}

/** A value that goes up and down (active requests, pool connections, jobs by status). */
export class Gauge extends Metric<GaugeChild> {
  readonly type = "gauge" as const;

  protected create(): GaugeChild {
    return new GaugeValue();
  }

  /** Sets the series of these label values. */
  set(value: number, ...labels: string[]): void {
    this.child(...labels).set(value);
  }

  write(format: ExpositionFormat): string {
    let out = this.header(format, this.name);
    if (this.children.size === 0 && this.labelNames.length === 0) this.child();
    for (const { labels, child } of this.children.values()) out += sampleLine(this.name, labels, child.get());
    return out;
  }
}

class HistogramValue implements HistogramChild {
  readonly counts: Float64Array;
  total = 0;
  n = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }
  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    if (i < bounds.length) this.counts[i]! += 1;
    this.total += value;
    this.n += 1;
  }
  count(): number {
    return this.n;
  }
  sum(): number {
    return this.total;
  }
}

/** Observations counted into cumulative buckets, with their sum and count. */
export class Histogram extends Metric<HistogramChild> {
  readonly type = "histogram" as const;
  /** The finite upper bounds, ascending (`+Inf` is implied). */
  readonly buckets: readonly number[];

  constructor(options: HistogramOptions) {
    super(options);
    const buckets = [...(options.buckets ?? DEFAULT_SECONDS_BUCKETS)].filter(Number.isFinite);
    for (let i = 1; i < buckets.length; i++) {
      if (buckets[i]! <= buckets[i - 1]!) throw new TypeError(`Buckets of ${options.name} must ascend`);
    }
    this.buckets = buckets;
  }

  protected create(): HistogramChild {
    return new HistogramValue(this.buckets);
  }

  /** Records one observation in the series of these label values. */
  observe(value: number, ...labels: string[]): void {
    this.child(...labels).observe(value);
  }

  /** Cumulative counts per bound (the last entry is `+Inf`) of one series, or null when it has none. */
  cumulative(...labels: string[]): { bound: number; count: number }[] | null {
    const found = this.children.get(labels.length === 1 ? labels[0]! : labels.join(SEP));
    if (!found) return null;
    const value = found.child as HistogramValue;
    let running = 0;
    const out = this.buckets.map((bound, i) => ({ bound, count: (running += value.counts[i]!) }));
    out.push({ bound: Infinity, count: value.n });
    return out;
  }

  write(format: ExpositionFormat): string {
    let out = this.header(format, this.name);
    if (this.children.size === 0 && this.labelNames.length === 0) this.child();
    for (const { labels, child } of this.children.values()) {
      const value = child as HistogramValue;
      const prefix = labels === "" ? "" : `${labels},`;
      let running = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        running += value.counts[i]!;
        out += `${this.name}_bucket{${prefix}le="${formatBound(this.buckets[i]!, format)}"} ${running}\n`;
      }
      out += `${this.name}_bucket{${prefix}le="+Inf"} ${value.n}\n`;
      out += sampleLine(`${this.name}_sum`, labels, value.total);
      out += sampleLine(`${this.name}_count`, labels, value.n);
    }
    return out;
  }
}

/** Any registered metric. */
export type AnyMetric = Counter | Gauge | Histogram;

/**
 * Holds metrics and writes them in either exposition format. Names are
 * unique per registry; registering a name twice is a programming error.
 *
 * @example
 * ```ts
 * import { Registry } from "./metrics.ts";
 * const registry = new Registry();
 * const hits = registry.counter({ name: "cache_hits_total", help: "Cache hits.", labelNames: ["cache"] });
 * hits.inc(1, "configs");
 * const text = await registry.expose("prometheus");
 * ```
 */
export class Registry {
  readonly #metrics = new Map<string, AnyMetric>();

  /** Adds a metric; throws when its name is taken. */
  register<M extends AnyMetric>(metric: M): M {
    if (this.#metrics.has(metric.name)) throw new TypeError(`Metric ${metric.name} is already registered`);
    this.#metrics.set(metric.name, metric);
    return metric;
  }

  /** Registers a new {@link Counter}. */
  counter(options: MetricOptions): Counter {
    return this.register(new Counter(options));
  }

  /** Registers a new {@link Gauge}. */
  gauge(options: MetricOptions): Gauge {
    return this.register(new Gauge(options));
  }

  /** Registers a new {@link Histogram}. */
  histogram(options: HistogramOptions): Histogram {
    return this.register(new Histogram(options));
  }

  /** The metric of that name, if registered. */
  get(name: string): AnyMetric | undefined {
    return this.#metrics.get(name);
  }

  /** Runs every collector, then writes every metric; OpenMetrics output ends with `# EOF`. */
  async expose(format: ExpositionFormat = "prometheus"): Promise<string> {
    const pending: Promise<void>[] = [];
    for (const metric of this.#metrics.values()) {
      const result = metric.refresh();
      if (result) pending.push(result);
    }
    if (pending.length > 0) await Promise.allSettled(pending);
    let out = "";
    for (const metric of this.#metrics.values()) out += metric.write(format);
    return format === "openmetrics" ? `${out}# EOF\n` : out;
  }
}

/**
 * The format a scrape asked for: OpenMetrics when `Accept` names
 * `application/openmetrics-text` (as Prometheus does), otherwise the text format.
 */
export function negotiateExposition(accept: string | null): ExpositionFormat {
  return accept !== null && accept.includes("application/openmetrics-text") ? "openmetrics" : "prometheus";
}
