/**
 * Monitoring of a service, switched on by `.withMonitoring()`. The metrics
 * registry and the instrumentation of stores, jobs and ML live below HTTP in
 * `src/observability/` (and the driver wrapper in `src/db/`); this module
 * adds what needs a running service: the `/metrics` route, its admission
 * under auth, and the samplers' lifecycle.
 * @module
 */
import type { AnyElysia } from "elysia";
import { type AdmitRule, AUTH_ADMIT_KEY } from "../../http/auth-guard.ts";
import { hasScrapeToken, METRICS_PATH, metricsRoutes } from "../../http/metrics.ts";
import type { ServiceContext, ServiceModule } from "../../http/module.ts";
import type { Monitoring, MonitoringOptions } from "../../observability/monitoring.ts";
import { tracerFromEnv } from "../../observability/otlp-exporter.ts";
import { type Environment, processEnvironment } from "../../runtime/env.ts";
import type { Tracer } from "../../observability/tracing.ts";
import type { ServiceInfo } from "../../core/info.ts";
import { createLogger } from "../../core/logging.ts";

/** Options of `withMonitoring()`. */
export interface MonitoringModuleOptions extends MonitoringOptions {
  /** Path of the metrics endpoint (default `/metrics`). */
  metricsPath?: string;
  /**
   * The scrape token (default: the `monitoring.metricsToken` setting, `CHAPKIT_METRICS_TOKEN`). A request with
   * `Authorization: Bearer <token>` may read the metrics even under auth; when
   * set without auth, `/metrics` requires it.
   */
  metricsToken?: string;
  /**
   * Where the `OTEL_*` variables are read (default the process environment).
   * Tracing is on when they name an OTLP endpoint; see docs/monitoring.md.
   */
  env?: Environment;
}

/**
 * The tracer of a monitored service: `options.tracer` when given, else one
 * exporting over OTLP/HTTP as the `OTEL_*` variables say, else none.
 *
 * @throws {TypeError} when `OTEL_EXPORTER_OTLP_PROTOCOL` names an encoding chapkit does not send.
 */
export function monitoringTracer(options: MonitoringModuleOptions, info: ServiceInfo): Tracer | undefined {
  if (options.tracer) return options.tracer;
  const env = options.env ?? processEnvironment();
  return tracerFromEnv(env, {
    serviceName: info.display_name,
    version: info.version ?? "0.0.0",
    logger: createLogger({}),
  }) ?? undefined;
}

/** The key under which the monitoring module provides its {@link Monitoring}. */
export const MONITORING_KEY = "monitoring";

/**
 * The monitoring module (name `monitoring`): provides the service's
 * {@link Monitoring}, serves `/metrics`, and admits the scrape token past
 * the auth guard on that path only.
 */
export function monitoringModule(monitoring: Monitoring, options: MonitoringModuleOptions = {}): ServiceModule {
  const path = options.metricsPath ?? METRICS_PATH;
  const tokenOf = (context: ServiceContext): string | undefined =>
    options.metricsToken ?? context.settings.monitoring.metricsToken;
  return {
    name: "monitoring",
    setup(context: ServiceContext): void {
      const token = tokenOf(context);
      context.provide(MONITORING_KEY, monitoring);
      if (token) {
        const rule: AdmitRule = (request, requestPath) =>
          (requestPath === path || requestPath === `${path}/`) && hasScrapeToken(request, token);
        if (context.has(AUTH_ADMIT_KEY)) context.get<AdmitRule[]>(AUTH_ADMIT_KEY).push(rule);
        else context.provide<AdmitRule[]>(AUTH_ADMIT_KEY, [rule]);
      }
    },
    routes(context: ServiceContext): AnyElysia {
      const token = tokenOf(context);
      return metricsRoutes(monitoring, {
        path,
        ...(token ? { token } : {}),
        authEnabled: context.has("auth"),
      });
    },
    start(): void {
      monitoring.start();
    },
    async stop(): Promise<void> {
      await monitoring.stop();
    },
  };
}
