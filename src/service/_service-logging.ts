// The logger, tracer and store-circuit log lines `build()` sets up before it opens anything.
import { createLogger, type Logger, type LoggerOptions, LogLevelSwitch } from "../core/logging.ts";
import type { ServiceInfo } from "../core/info.ts";
import type { Driver } from "../db/driver.ts";
import type { MonitoringModuleOptions } from "../modules/monitoring/mod.ts";
import type { Tracer } from "../observability/tracing.ts";
import { ConfigurationError } from "./configuration-error.ts";
import type { ServiceSettings } from "./settings.ts";

/** What `build()` imports only under `withMonitoring()`. */
export type MonitoringParts = typeof import("./monitoring-parts.ts");

/**
 * The service's logger, its level following settings reloads, with trace
 * fields on each line under a tracer; `logRequests` when `withLogging` asked
 * for request lines and info is on.
 */
export function serviceLogger(
  settings: ServiceSettings,
  logging: (LoggerOptions & { requests?: boolean }) | undefined,
  tracer: Tracer | undefined,
): { logger: Logger; logRequests: boolean } {
  const options = logging ?? {};
  const level = new LogLevelSwitch(settings.current.log.level);
  settings.onReload((current) => {
    level.level = current.log.level;
  });
  const logger = createLogger({
    ...options,
    level,
    format: settings.current.log.format,
    ...(tracer ? { context: () => tracer.logFields() } : {}),
  });
  const logRequests = logging !== undefined && options.requests !== false && level.enabled("info");
  return { logger, logRequests };
}

/** The tracer `withMonitoring` options ask for, if any. @throws {ConfigurationError} for options it cannot honour. */
export function serviceTracer(parts: MonitoringParts, options: MonitoringModuleOptions, info: ServiceInfo): Tracer | undefined {
  try {
    return parts.monitoringTracer(options, info);
  } catch (error) {
    throw new ConfigurationError((error as Error).message);
  }
}

/** One log line when the store becomes unreachable and one when it is back, not one per refused request. */
export function logCircuitChanges(db: Driver, logger: Logger): void {
  db.circuit?.onStateChange(({ from, to, failures, error }) => {
    if (to === "open" && from === "closed") logger.warn("db.circuit.open", { failures, error });
    else if (to === "closed") logger.info("db.circuit.closed", {});
  });
}
