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
import type { HealthCheck, ServiceContext, ServiceModule } from "../../http/module.ts";
import { AlertNotifier, type AlertWebhook } from "../../observability/alerts.ts";
import { OutboundPolicy, outboundOptions } from "../../core/resilient-fetch.ts";
import { outboundRegistryOf } from "../../http/health.ts";
import { type HealthThresholds, ThresholdMonitor } from "../../observability/thresholds.ts";
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
  /** Health thresholds; none is active unless declared (see docs/monitoring.md). */
  thresholds?: HealthThresholds;
  /** Milliseconds between threshold evaluations (default 10 000). */
  evaluationIntervalMs?: number;
  /** Webhooks that receive an alert when a threshold check changes state. */
  alerts?: {
    /** Where alerts go. */
    webhooks: AlertWebhook[];
    /** Attempts per webhook (default 5). */
    attempts?: number;
    /** First back-off in milliseconds (default: the `outbound.backoffMs` setting). */
    backoffMs?: number;
    /** Link to the service's status page carried by the payloads that have one. */
    link?: string;
  };
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

/** The key under which the monitoring module provides its {@link ThresholdMonitor}, when thresholds are declared. */
export const THRESHOLDS_KEY = "monitoring.thresholds";

/**
 * The monitoring module (name `monitoring`): provides the service's
 * {@link Monitoring}, serves `/metrics`, and admits the scrape token past
 * the auth guard on that path only.
 */
export function monitoringModule(monitoring: Monitoring, options: MonitoringModuleOptions = {}): ServiceModule {
  const path = options.metricsPath ?? METRICS_PATH;
  const thresholds = options.thresholds ? new ThresholdMonitor(monitoring, options.thresholds) : undefined;
  let notifier: AlertNotifier | undefined;
  const tokenOf = (context: ServiceContext): string | undefined =>
    options.metricsToken ?? context.settings.monitoring.metricsToken;
  return {
    name: "monitoring",
    setup(context: ServiceContext): void {
      const token = tokenOf(context);
      context.provide(MONITORING_KEY, monitoring);
      const outbound = outboundRegistryOf(context);
      monitoring.outboundCircuits = () => outbound.snapshots();
      if (thresholds) context.provide(THRESHOLDS_KEY, thresholds);
      if (options.alerts && options.alerts.webhooks.length > 0) {
        const alerts = options.alerts;
        const policy = new OutboundPolicy(outboundOptions(context.settings.outbound, {
          retryNonIdempotent: true,
          retries: (alerts.attempts ?? 5) - 1,
          ...(alerts.backoffMs === undefined ? {} : { backoffMs: alerts.backoffMs }),
        }));
        outbound.add(policy);
        notifier = new AlertNotifier({
          webhooks: alerts.webhooks,
          service: context.info.display_name,
          ...(alerts.link ? { link: alerts.link } : {}),
          outbound: policy,
          logger: context.logger.child({ module: "alerts" }),
        });
      }
      thresholds?.onChange((change) => {
        context.logger.warn("health.threshold.changed", {
          check: change.name,
          state: change.state,
          previous: change.previous,
          value: change.value,
        });
        const alert = {
          status: change.state === "healthy" ? "resolved" as const : "firing" as const,
          name: change.name,
          state: change.state,
          previous: change.previous,
          value: change.value,
          threshold: change.threshold,
          message: change.message ?? change.name,
          at: new Date(change.at).toISOString(),
        };
        notifier?.notify(alert);
        // On the bus too, for notifications, queues and webhooks that select `alert.*`.
        context.events.publish({
          type: alert.status === "resolved" ? "alert.resolved" : "alert.fired",
          collection: "alerts",
          id: alert.name,
          entity: { ...alert, service: context.info.display_name },
        }).catch((error: unknown) => context.logger.error("alerts.publish_failed", { error, check: alert.name }));
      });
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
    healthChecks(): HealthCheck[] {
      if (!thresholds) return [];
      return thresholds.names.map((name) => ({
        name,
        check: () => {
          const result = thresholds.result(name)!;
          return result.message === undefined ? { state: result.state } : { state: result.state, message: result.message };
        },
      }));
    },
    async start(): Promise<void> {
      monitoring.start();
      if (thresholds) {
        await thresholds.evaluate();
        thresholds.start(options.evaluationIntervalMs);
      }
    },
    async stop(): Promise<void> {
      thresholds?.stop();
      // Alerts still being retried get a short grace period, not the whole back-off.
      if (notifier) await Promise.race([notifier.settled(), new Promise((resolve) => setTimeout(resolve, 2000))]);
      await monitoring.stop();
    },
  };
}
