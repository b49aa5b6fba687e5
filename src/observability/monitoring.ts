import type { Logger } from "../core/logging.ts";
import type { CircuitSnapshot } from "../core/circuit-breaker.ts";
import { type Counter, DEFAULT_SECONDS_BUCKETS, type Gauge, type Histogram, Registry } from "./metrics.ts";
import { EventLoopLag, registerProcessMetrics } from "./process-metrics.ts";
import { MlMonitor, type MlMonitorOptions } from "./ml-monitor.ts";
import { RequestSeries } from "./request-series.ts";
import { SlowQueryLog } from "./slow-queries.ts";
import { SpanKind, type Tracer } from "./tracing.ts";

/** Options of {@link Monitoring}. */
export interface MonitoringOptions {
  /** Register process metrics (CPU, memory, heap, event-loop lag); default true. */
  processMetrics?: boolean;
  /** Buckets of the request, query, job and ML duration histograms, in seconds. */
  durationBuckets?: readonly number[];
  /** Milliseconds between event-loop lag samples (default 500). */
  lagIntervalMs?: number;
  /** Spans of requests, queries, jobs and ML runs go here (tracing is off without one). */
  tracer?: Tracer;
  /** Milliseconds per slot of the recent-requests series (default 10 000; one hour is kept). */
  seriesSlotMs?: number;
  /** Per-model ML monitoring: models tracked, prediction sampling, feedback window. */
  ml?: MlMonitorOptions;
  /** Statements at or above this many milliseconds are logged with their plan (default 500; 0 turns it off). */
  slowQueryMs?: number;
  /** Where slow statements are logged (`db.query.slow`). */
  logger?: Logger;
  /** Sample process CPU and heap around one request in this many (default 0: off; reading them costs microseconds). */
  resourceSampleEvery?: number;
}

/** Buckets of `chapkit_artifact_size_bytes`: 256 B to 256 MiB by factors of 4. */
export const ARTIFACT_SIZE_BUCKETS: readonly number[] = Array.from({ length: 11 }, (_, i) => 256 * 4 ** i);

/** Buckets of job and training durations: 10 ms to an hour. */
export const LONG_RUN_BUCKETS: readonly number[] = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];

function jobIdOf(context: unknown): { "chapkit.job.id"?: string } {
  const id = (context as { jobId?: unknown }).jobId;
  return typeof id === "string" ? { "chapkit.job.id": id } : {};
}

/** The label of requests that matched no route: unknown paths collapse to one series. */
export const UNMATCHED_ROUTE = "unmatched";

/** The `type` label of an error: the last segment of its problem type URN (`urn:chapkit:error:not-found` → `not-found`). */
export function errorTypeLabel(type: string): string {
  const index = type.lastIndexOf(":");
  const suffix = index < 0 ? type : type.slice(index + 1);
  return suffix === "" || suffix.length > 64 ? "other" : suffix;
}

/**
 * The metrics of one chapkit service, below HTTP: the HTTP layer, stores,
 * the job runner and ML jobs report through it without knowing each other.
 * `withMonitoring()` creates one per service; embedding code can create its
 * own and pass it to {@link instrumentDriver} and friends.
 *
 * @example
 * ```ts
 * import { Monitoring } from "./monitoring.ts";
 * const monitoring = new Monitoring({ processMetrics: false });
 * monitoring.dbQueryDuration.observe(0.002, "sqlite", "select");
 * const text = await monitoring.registry.expose("prometheus");
 * ```
 */
export class Monitoring {
  /** Where every metric below is registered; add your own here. */
  readonly registry: Registry = new Registry();
  /** `http_server_request_duration_seconds{method,route,status_code}`. */
  readonly httpDuration: Histogram;
  /** `http_server_active_requests{method}`. */
  readonly httpActive: Gauge;
  /** `chapkit_errors_total{type}`. */
  readonly errors: Counter;
  /** `chapkit_db_query_duration_seconds{store,operation}`. */
  readonly dbQueryDuration: Histogram;
  /** `chapkit_db_pool_connections{state}` (PostgreSQL). */
  readonly dbPool: Gauge;
  /** `chapkit_jobs{status}`. */
  readonly jobs: Gauge;
  /** The outbound breakers `chapkit_outbound_circuit_state` reports at scrape time (the monitoring module sets the service's). */
  outboundCircuits: () => readonly CircuitSnapshot[] = () => [];
  /** `chapkit_job_duration_seconds{kind,outcome}`. */
  readonly jobDuration: Histogram;
  /** `chapkit_ml_train_duration_seconds{outcome}`. */
  readonly mlTrainDuration: Histogram;
  /** `chapkit_ml_predict_duration_seconds{outcome}`. */
  readonly mlPredictDuration: Histogram;
  /** `chapkit_ml_predict_rows_total`. */
  readonly mlPredictRows: Counter;
  /** `chapkit_artifact_size_bytes`. */
  readonly artifactSize: Histogram;
  /** The event-loop lag sampler (started by {@link Monitoring.start}). */
  readonly lag: EventLoopLag = new EventLoopLag();
  /** Slow statements with their plans (absent when `slowQueryMs` is 0). */
  readonly slowQueries: SlowQueryLog | undefined;
  /** One request in this many is sampled for CPU and heap deltas (0: none). */
  readonly resourceSampleEvery: number;
  /** `chapkit_http_sampled_requests_total{route}`. */
  readonly sampledRequests: Counter;
  /** `chapkit_http_sampled_cpu_seconds_total{route}`. */
  readonly sampledCpu: Counter;
  /** `chapkit_http_sampled_heap_growth_bytes_total{route}`. */
  readonly sampledHeap: Counter;
  /** Where monitoring logs (slow statements). */
  readonly logger: Logger | undefined;
  /** `chapkit_db_slow_queries_total{store,operation}`. */
  readonly dbSlowQueries: Counter;
  /** Per-model latency, errors, drift and accuracy of a model service. */
  readonly ml: MlMonitor;
  /** Requests per time slot over the last hour: what thresholds and the status page read. */
  readonly requests: RequestSeries;
  /** The tracer, when tracing is on. */
  readonly tracer: Tracer | undefined;
  readonly #options: MonitoringOptions;

  /** Registers chapkit's metrics (and, unless turned off, the process metrics). */
  constructor(options: MonitoringOptions = {}) {
    this.#options = options;
    this.tracer = options.tracer;
    const buckets = options.durationBuckets ?? DEFAULT_SECONDS_BUCKETS;
    this.requests = new RequestSeries(buckets, options.seriesSlotMs === undefined ? {} : { slotMs: options.seriesSlotMs });
    const r = this.registry;
    this.httpDuration = r.histogram({
      name: "http_server_request_duration_seconds",
      help: "Duration of HTTP requests, by method, route template and status code.",
      labelNames: ["method", "route", "status_code"],
      buckets,
    });
    this.httpActive = r.gauge({
      name: "http_server_active_requests",
      help: "HTTP requests being served now.",
      labelNames: ["method"],
    });
    this.errors = r.counter({
      name: "chapkit_errors_total",
      help: "Problems answered, by the last segment of the problem type URN.",
      labelNames: ["type"],
    });
    this.dbQueryDuration = r.histogram({
      name: "chapkit_db_query_duration_seconds",
      help: "Duration of store statements and transactions, by store and operation.",
      labelNames: ["store", "operation"],
      buckets,
    });
    this.dbPool = r.gauge({
      name: "chapkit_db_pool_connections",
      help: "PostgreSQL pool connections by state (active, idle, waiting, max).",
      labelNames: ["state"],
    });
    this.jobs = r.gauge({ name: "chapkit_jobs", help: "Job records by status.", labelNames: ["status"] });
    const circuits = r.gauge({
      name: "chapkit_outbound_circuit_state",
      help: "Outbound circuit breakers by origin: 1 for the current state (closed, half_open, open), 0 for the others.",
      labelNames: ["origin", "state"],
    });
    circuits.collect(() => {
      circuits.reset();
      for (const circuit of this.outboundCircuits()) {
        for (const state of ["closed", "half_open", "open"]) {
          circuits.set(circuit.state.replace("-", "_") === state ? 1 : 0, circuit.name, state);
        }
      }
    });
    this.jobDuration = r.histogram({
      name: "chapkit_job_duration_seconds",
      help: "Run time of jobs, by kind and outcome.",
      labelNames: ["kind", "outcome"],
      buckets: LONG_RUN_BUCKETS,
    });
    this.mlTrainDuration = r.histogram({
      name: "chapkit_ml_train_duration_seconds",
      help: "Duration of model training runs, by outcome (success or error).",
      labelNames: ["outcome"],
      buckets: LONG_RUN_BUCKETS,
    });
    this.mlPredictDuration = r.histogram({
      name: "chapkit_ml_predict_duration_seconds",
      help: "Duration of prediction runs, by outcome (success or error).",
      labelNames: ["outcome"],
      buckets,
    });
    this.mlPredictRows = r.counter({ name: "chapkit_ml_predict_rows_total", help: "Rows predicted." });
    this.artifactSize = r.histogram({
      name: "chapkit_artifact_size_bytes",
      help: "Size of stored artifacts (JSON data plus binary payload), in bytes.",
      buckets: ARTIFACT_SIZE_BUCKETS,
    });
    this.logger = options.logger;
    this.resourceSampleEvery = Math.max(0, Math.floor(options.resourceSampleEvery ?? 0));
    this.sampledRequests = r.counter({
      name: "chapkit_http_sampled_requests_total",
      help: "Requests sampled for CPU and heap deltas, by route template.",
      labelNames: ["route"],
    });
    this.sampledCpu = r.counter({
      name: "chapkit_http_sampled_cpu_seconds_total",
      help: "Process CPU seconds spent while sampled requests ran, by route template.",
      labelNames: ["route"],
    });
    this.sampledHeap = r.counter({
      name: "chapkit_http_sampled_heap_growth_bytes_total",
      help: "Growth of the JavaScript heap while sampled requests ran (drops count as 0), by route template.",
      labelNames: ["route"],
    });
    const slowMs = options.slowQueryMs ?? 500;
    this.slowQueries = slowMs > 0 ? new SlowQueryLog(slowMs) : undefined;
    this.dbSlowQueries = r.counter({
      name: "chapkit_db_slow_queries_total",
      help: "Store statements that took at least the slow-query threshold, by store and operation.",
      labelNames: ["store", "operation"],
    });
    this.ml = new MlMonitor(options.ml);
    this.ml.registerMetrics(r);
    if (options.processMetrics !== false) registerProcessMetrics(r, this.lag);
  }

  /** Starts the samplers (event-loop lag); their timers do not keep the process alive. */
  start(): void {
    if (this.#options.processMetrics !== false) this.lag.start(this.#options.lagIntervalMs);
  }

  /** Stops the samplers and sends the spans still buffered. */
  async stop(): Promise<void> {
    this.lag.stop();
    await this.tracer?.shutdown();
  }

  /**
   * Wraps a job function so its run is timed into
   * `chapkit_job_duration_seconds{kind,outcome}` (`completed`, `failed`, or
   * `canceled` when its signal was aborted). `kind` names what the job does
   * (`ml.train`, `task`…), from a bounded set.
   */
  timedJob<C extends { readonly signal: AbortSignal }, R>(
    kind: string,
    fn: (context: C) => R | Promise<R>,
  ): (context: C) => Promise<R> {
    const tracer = this.tracer;
    // Captured at submission: the request that submits a job is the parent of the job's span.
    const parent = tracer?.active();
    return async (context: C): Promise<R> => {
      const start = performance.now();
      let outcome = "completed";
      try {
        if (!tracer) return await fn(context);
        return await tracer.inSpan(`job ${kind}`, () => fn(context), {
          kind: SpanKind.CONSUMER,
          parent: parent ?? null,
          attributes: { "chapkit.job.kind": kind, ...jobIdOf(context) },
          ...(parent ? { links: [{ context: parent.context, attributes: { "chapkit.link": "submitted_by" } }] } : {}),
        });
      } catch (error) {
        outcome = context.signal.aborted ? "canceled" : "failed";
        throw error;
      } finally {
        this.jobDuration.observe((performance.now() - start) / 1000, kind, outcome);
      }
    };
  }

  /**
   * Runs `work` and times it into `histogram{outcome}` (`success` or
   * `error`); with tracing on, inside a span named `spanName`.
   */
  async timed<T>(histogram: Histogram, work: () => Promise<T>, spanName?: string): Promise<T> {
    const start = performance.now();
    let outcome = "success";
    try {
      return this.tracer && spanName ? await this.tracer.inSpan(spanName, work) : await work();
    } catch (error) {
      outcome = "error";
      throw error;
    } finally {
      histogram.observe((performance.now() - start) / 1000, outcome);
    }
  }

  /** Adds one sampled request's process CPU seconds and heap growth to its route's totals. */
  recordResourceSample(route: string, cpuSeconds: number, heapDelta: number): void {
    this.sampledRequests.inc(1, route);
    this.sampledCpu.inc(Math.max(0, cpuSeconds), route);
    this.sampledHeap.inc(Math.max(0, heapDelta), route);
  }

  /** Records one problem answered, by its type URN. */
  recordError(type: string): void {
    this.errors.inc(1, errorTypeLabel(type));
  }
}
