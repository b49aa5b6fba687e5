import type { AnyElysia } from "elysia";
import type { EventBus } from "../core/events/bus.ts";
import type { ServiceInfo } from "../core/info.ts";
import type { Logger } from "../core/logging.ts";
import type { Settings } from "../core/settings/schema.ts";
import type { Driver } from "../db/driver.ts";
import type { Migration } from "../db/migration.ts";
import type { Monitoring } from "../observability/monitoring.ts";

/** The outcome of one health check. */
export interface CheckResult {
  /** The check's verdict. */
  state: "healthy" | "degraded" | "unhealthy";
  /** Why, when not healthy. */
  message?: string;
}

/** A named health check. */
export interface HealthCheck {
  /** Letters, digits, `_` and `-` only. */
  name: string;
  /** Runs the check; a throw or a timeout counts as unhealthy. */
  check(): CheckResult | Promise<CheckResult>;
  /**
   * Milliseconds before the check counts as unhealthy (default, and upper
   * bound, the health answer's own timeout: 900 unless the route sets another).
   */
  timeoutMs?: number;
}

/**
 * What a module sees while a service is assembled: the store, the logger and
 * a registry through which modules share their managers and runners.
 */
export interface ServiceContext {
  /** The service's store, migrated. */
  readonly db: Driver;
  /**
   * The service's event bus: managers publish committed changes to it, and
   * any module subscribes (`context.events.subscribe({ types: ["entity.*"] }, fn)`).
   */
  readonly events: EventBus;
  /** The service's info. */
  readonly info: ServiceInfo;
  /** The service's logger. */
  readonly logger: Logger;
  /** A ULID naming this running instance (job leases use it). */
  readonly instanceId: string;
  /**
   * The service's metrics when `withMonitoring()` is on: modules time their
   * work through it (jobs, ML runs, artifact sizes); absent otherwise.
   */
  readonly monitoring?: Monitoring;
  /** The effective settings (see `SettingsSchema`); reloadable ones change in place on reload. */
  readonly settings: Settings;
  /** Publishes a value (a manager, the job runner…) under a key for other modules. */
  provide<T>(key: string, value: T): void;
  /** The value under `key`. @throws {Error} naming the module that should have provided it. */
  get<T>(key: string): T;
  /** Whether a value is published under `key`. */
  has(key: string): boolean;
}

/**
 * A unit of a service (config, artifacts, jobs, tasks, ml, a user's own):
 * its migrations, its set-up and its routes. Builders install modules in
 * registration order; `withConfig(schema)` is `module(configModule(schema))`.
 */
export interface ServiceModule {
  /** Unique name, e.g. `config`. */
  readonly name: string;
  /** Modules (or capabilities) that must be installed too; `build()` fails with a clear message otherwise. */
  readonly requires?: readonly string[];
  /** Capabilities this module offers besides its name (e.g. `config-links`), for others' `requires`. */
  readonly provides?: readonly string[];
  /** Schema changes, applied at start-up before `setup`. */
  readonly migrations?: readonly Migration[];
  /** Creates managers and provides them; runs after migrations, in registration order. */
  setup?(context: ServiceContext): void | Promise<void>;
  /** The module's routes (an Elysia plugin). */
  routes?(context: ServiceContext): AnyElysia;
  /** Health checks the module contributes. */
  healthChecks?(context: ServiceContext): HealthCheck[];
  /** Called when the service starts serving. */
  start?(context: ServiceContext): void | Promise<void>;
  /** Called on shutdown, before the store closes, in reverse order. */
  stop?(context: ServiceContext): void | Promise<void>;
}
