// What a service with `withMonitoring()` needs, imported by `build()` only then:
// a service without monitoring never loads the metrics, tracing or alerting code.
export { instrumentDriver } from "../db/instrumented-driver.ts";
export { httpMetrics } from "../http/metrics.ts";
export { statusPage } from "../http/status-page.ts";
export { Monitoring } from "../observability/monitoring.ts";
export { monitoringModule, monitoringTracer } from "../modules/monitoring/mod.ts";
