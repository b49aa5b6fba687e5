/**
 * Observability (`chapkit/observability`, `@chapkit/core/observability`):
 * the metrics registry (counters, gauges, histograms), tracing with W3C trace
 * context and an OTLP exporter, health thresholds, alerts, anomaly detection
 * and the status page. `withMonitoring()` turns them on for a service; import
 * this entry to add metrics or spans of your own (see docs/monitoring.md).
 *
 * @example
 * ```ts ignore
 * import { Registry } from "chapkit/observability";
 *
 * const registry = new Registry();
 * const predictions = registry.counter({ name: "predictions_total", help: "Predictions served" });
 * predictions.inc();
 * console.log(await registry.expose("prometheus"));
 * ```
 *
 * @module
 */

export { MONITORING_KEY, monitoringModule, THRESHOLDS_KEY } from "../modules/monitoring/mod.ts";
export type { MonitoringModuleOptions } from "../modules/monitoring/mod.ts";
export { Monitoring } from "../observability/monitoring.ts";
export type { MonitoringOptions } from "../observability/monitoring.ts";
export { Counter, Gauge, Histogram, Registry } from "../observability/metrics.ts";
export { instrumentDriver } from "../db/instrumented-driver.ts";
export { renderStatusPage, statusPage } from "../http/status-page.ts";
export type { StatusPageOptions } from "../http/status-page.ts";
export { nextState, ThresholdMonitor } from "../observability/thresholds.ts";
export type {
  HealthState,
  HealthThresholds,
  ThresholdChange,
  ThresholdLevels,
  ThresholdResult,
} from "../observability/thresholds.ts";
export { AlertNotifier, alertOutboundPolicy, alertPayload } from "../observability/alerts.ts";
export type { Alert, AlertFormat, AlertNotifierOptions, AlertWebhook } from "../observability/alerts.ts";
export { RequestSeries } from "../observability/request-series.ts";
export { SlowQueryLog } from "../observability/slow-queries.ts";
export type { SlowQuery } from "../observability/slow-queries.ts";
export { EwmaDetector } from "../observability/anomaly.ts";
export type { EwmaOptions, EwmaVerdict } from "../observability/anomaly.ts";
export type { SeriesSlot, SeriesSummary } from "../observability/request-series.ts";
export { Span, SpanKind, Tracer } from "../observability/tracing.ts";
export type {
  AttributeValue,
  Attributes,
  ReadableSpan,
  Sampler,
  SpanExporter,
  SpanKindValue,
  SpanLink,
  StartSpanOptions,
  TracerOptions,
} from "../observability/tracing.ts";
export { formatTraceparent, parseTraceparent } from "../observability/trace-context.ts";
export type { SpanContext } from "../observability/trace-context.ts";
export { OtlpHttpExporter, tracerFromEnv } from "../observability/otlp-exporter.ts";
export type { OtlpExporterOptions, OtlpProtocol } from "../observability/otlp-exporter.ts";
export type {
  CounterChild,
  ExpositionFormat,
  GaugeChild,
  HistogramChild,
  HistogramOptions,
  MetricOptions,
} from "../observability/metrics.ts";
