import { type AnyElysia, Elysia } from "elysia";
import type { EntityDefinition } from "../core/entity-definition.ts";
import type { ServiceInfo } from "../core/info.ts";
import { createLogger, type Logger, type LoggerOptions, type LogLevel } from "../core/logging.ts";
import { newUlid } from "../core/ulid.ts";
import type { Driver } from "../db/driver.ts";
import { migrate } from "../db/migrate.ts";
import { DEFAULT_DATABASE_URL, openDatabase } from "../db/open.ts";
import { docsRoutes } from "../http/docs.ts";
import { errorHandler } from "../http/error-handler.ts";
import { databaseCheck, healthRoutes, isValidCheckName } from "../http/health.ts";
import { infoRoutes } from "../http/info.ts";
import { DEFAULT_MAX_BODY_BYTES, jsonBody } from "../http/json-body.ts";
import { landingPage } from "../http/landing-page.ts";
import type { HealthCheck, ServiceContext, ServiceModule } from "../http/module.ts";
import { requestContext } from "../http/request-context.ts";
import { closeRoutes } from "../http/routing.ts";
import { systemRoutes } from "../http/system.ts";
import { ConfigurationError } from "./configuration-error.ts";
import { instrumentDriver } from "../db/instrumented-driver.ts";
import { httpMetrics } from "../http/metrics.ts";
import { Monitoring } from "../observability/monitoring.ts";
import { monitoringModule, type MonitoringModuleOptions } from "../modules/monitoring/mod.ts";
import { routeEntries } from "../http/auth-guard-permissions.ts";
import { type AuthModule, authModule, type AuthOptions } from "../modules/auth/mod.ts";
import { entityModule, type EntityOptions } from "../modules/entity/mod.ts";
import { createLifecycle, type LifecycleHook, type ServiceApp } from "./lifecycle.ts";
import { listenService, type ListenOptions, type RunningService } from "./listen.ts";
import { orderModules } from "./module-order.ts";
import { createServiceContext } from "./service-context.ts";

/** Options of a service builder. */
export interface ServiceBuilderOptions {
  /** What `/api/v1/info` answers; `display_name` titles the docs. */
  info: ServiceInfo;
  /** Store URL (default `sqlite::memory:`). */
  databaseUrl?: string;
  /** Largest accepted request body in bytes (default 10 MiB); larger ones answer 413. */
  maxBodyBytes?: number;
  /** Serve `/openapi.json` and `/docs` (default true). */
  docs?: boolean;
  /**
   * The prefix the service answers under, e.g. `/svc` (default none). It is
   * the one setting for embedding: the built app carries it, so a host mounts
   * it with `host.use(service)`, and routes, `Location` headers, problem
   * `instance` values, the OpenAPI `servers` entry and the docs page all
   * agree on it. The service's request hooks leave the host's other paths alone.
   */
  basePath?: string;
}

/** Options of {@link BaseServiceBuilder.withHealth}. */
export interface HealthOptions {
  /** Path (default `/api/v1/health`). */
  prefix?: string;
  /** OpenAPI tags. */
  tags?: string[];
  /** Custom checks, reported before module checks and the database check. */
  checks?: HealthCheck[];
  /** Add the `database` check (a ping with a 500 ms timeout, cached for 1 s), default true. */
  includeDatabaseCheck?: boolean;
  /** Milliseconds within which every health answer is sent (default 900). */
  timeoutMs?: number;
}

/** Options of {@link BaseServiceBuilder.withSystem}. */
export interface SystemOptions {
  /** Path (default `/api/v1/system`). */
  prefix?: string;
  /** OpenAPI tags. */
  tags?: string[];
}

/** Options of {@link BaseServiceBuilder.withLogging}. */
export interface LoggingOptions extends LoggerOptions {
  /** Log `http.request.start` / `http.request.complete` (default true). */
  requests?: boolean;
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function envValue(name: string): string | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
}

const BASE_PATH = /^(\/[A-Za-z0-9._~-]+)*$/;

/** `/svc/` → `/svc`; `""` and `/` → `""`. @throws {ConfigurationError} for anything but plain path segments. */
function normaliseBasePath(basePath: string | undefined): string {
  const trimmed = (basePath ?? "").replace(/\/+$/, "");
  if (!BASE_PATH.test(trimmed)) {
    throw new ConfigurationError(`Invalid basePath ${JSON.stringify(basePath)}: use /segment[/segment…] of letters, digits and . _ ~ -`);
  }
  return trimmed;
}

/**
 * Assembles a chapkit service from the core pieces: health, system, info,
 * landing page, docs, logging, the store and any {@link ServiceModule}.
 * `build()` opens the store, runs every module's migrations and set-up in
 * order, and returns the Elysia app.
 *
 * @example
 * ```ts ignore
 * const app = await new BaseServiceBuilder({ info: { display_name: "Demo" } })
 *   .withHealth()
 *   .withSystem()
 *   .build();
 * ```
 */
export class BaseServiceBuilder {
  /** The options the builder was made with. */
  protected readonly options: ServiceBuilderOptions;
  #database: string | Driver;
  readonly #basePath: string;
  #health: HealthOptions | undefined;
  #system: SystemOptions | undefined;
  #logging: LoggingOptions | undefined;
  #landingPage = false;
  #auth: AuthModule | undefined;
  #monitoring: MonitoringModuleOptions | undefined;
  readonly #modules: ServiceModule[] = [];
  readonly #plugins: AnyElysia[] = [];
  readonly #startup: LifecycleHook[] = [];
  readonly #shutdown: LifecycleHook[] = [];

  /** Creates a builder from the service's options, or from its info alone. */
  constructor(options: ServiceBuilderOptions | ServiceInfo) {
    this.options = "info" in options && typeof options.info === "object" && options.info !== null
      ? options as ServiceBuilderOptions
      : { info: options as ServiceInfo };
    this.#database = this.options.databaseUrl ?? DEFAULT_DATABASE_URL;
    this.#basePath = normaliseBasePath(this.options.basePath);
  }

  /** Adds `GET /api/v1/health` (with a database check unless turned off). */
  withHealth(options: HealthOptions = {}): this {
    this.#health = options;
    return this;
  }

  /** Adds `GET /api/v1/system`. */
  withSystem(options: SystemOptions = {}): this {
    this.#system = options;
    return this;
  }

  /** Turns on structured logs (`LOG_FORMAT`, `LOG_LEVEL`) and request logging. */
  withLogging(options: LoggingOptions = {}): this {
    this.#logging = options;
    return this;
  }

  /** Adds the `GET /` page that shows the service info. */
  withLandingPage(): this {
    this.#landingPage = true;
    return this;
  }

  /**
   * Turns on authentication and authorization: every route is denied by
   * default except the public ones (see `AuthOptions`), and `/api/v1/auth/*`
   * serves login, tokens, API keys, users, roles and the audit log.
   */
  withAuth(options: AuthOptions = {}): this {
    this.#auth = authModule({ ...(this.#basePath ? { basePath: this.#basePath } : {}), ...options });
    return this.module(this.#auth);
  }

  /**
   * Turns on monitoring: Prometheus metrics of HTTP requests, store
   * statements, jobs, ML runs, artifacts and the process at `GET /metrics`
   * (see docs/monitoring.md). Under auth `/metrics` needs `metrics:read` or
   * the scrape token (`CHAPKIT_METRICS_TOKEN`).
   */
  withMonitoring(options: MonitoringModuleOptions = {}): this {
    this.#monitoring = options;
    return this;
  }

  /** Uses this store: a URL (opened and closed by the service) or an open driver (left open). */
  withDatabase(database: string | Driver): this {
    this.#database = database;
    return this;
  }

  /**
   * Serves an entity from its one definition: the table's migration, a
   * manager (`service.chapkit.manager(definition)`, typed by the definition)
   * and CRUD routes under `/api/v1/<table>` with filters, sort, fields,
   * search, cursors, ETags and bulk operations.
   *
   * @example
   * ```ts ignore
   * const Note = defineEntity({ table: "notes", fields: { title: Type.String() } });
   * const app = await new ServiceBuilder({ info }).withEntity(Note, { hooks: { beforeCreate: (n) => n } }).build();
   * ```
   */
  withEntity<D extends EntityDefinition>(definition: D, options: EntityOptions<D> = {}): this {
    return this.module(entityModule(definition, options));
  }

  /** Installs a module: its migrations, set-up, routes, health checks and lifecycle. */
  module(module: ServiceModule): this {
    this.#modules.push(module);
    return this;
  }

  /** Mounts an Elysia plugin (custom routes) after the module routes. */
  use(plugin: AnyElysia): this {
    this.#plugins.push(plugin);
    return this;
  }

  /** Runs `hook` at the end of `build()`, after migrations and module set-up. */
  onStartup(hook: LifecycleHook): this {
    this.#startup.push(hook);
    return this;
  }

  /** Runs `hook` on shutdown, before modules stop and the store closes. */
  onShutdown(hook: LifecycleHook): this {
    this.#shutdown.push(hook);
    return this;
  }

  /** Whether a module with this name is installed. */
  protected hasModule(name: string): boolean {
    return this.#modules.some((module) => module.name === name);
  }

  #logger(): { logger: Logger; logRequests: boolean } {
    const options = this.#logging ?? {};
    const logger = createLogger(options);
    const level = (options.level ?? envValue("LOG_LEVEL")?.toLowerCase() ?? "info") as LogLevel;
    const threshold = LEVELS[level === ("warning" as LogLevel) ? "warn" : level] ?? LEVELS.info;
    const logRequests = this.#logging !== undefined && options.requests !== false && threshold <= LEVELS.info;
    return { logger, logRequests };
  }

  #checkHealthNames(checks: readonly HealthCheck[]): void {
    for (const check of checks) {
      if (!isValidCheckName(check.name)) {
        throw new ConfigurationError(
          `Invalid health check name ${JSON.stringify(check.name)}: use letters, digits, _ and - only`,
        );
      }
    }
  }

  /**
   * Opens the store, runs migrations, sets modules up, mounts every route
   * (health, system, modules with jobs first, custom plugins, info, `/`,
   * docs) and runs the start-up hooks.
   *
   * @throws {ConfigurationError} for a missing required module or a bad health-check name.
   */
  async build(): Promise<ServiceApp> {
    const modules = orderModules(this.#modules);
    this.#checkHealthNames(this.#health?.checks ?? []);
    const { logger, logRequests } = this.#logger();
    const ownsDb = typeof this.#database === "string";
    const opened = typeof this.#database === "string" ? await openDatabase(this.#database) : this.#database;
    const monitoring = this.#monitoring ? new Monitoring(this.#monitoring) : undefined;
    const db = monitoring ? instrumentDriver(opened, monitoring) : opened;
    if (monitoring) modules.push(monitoringModule(monitoring, this.#monitoring));
    const context = createServiceContext({
      db,
      info: this.options.info,
      logger,
      instanceId: newUlid(),
      ...(monitoring ? { monitoring } : {}),
    });
    const lifecycle = createLifecycle({
      context,
      modules,
      shutdownHooks: this.#shutdown,
      closeDb: ownsDb ? () => opened.close() : undefined,
    });
    try {
      await migrate(db, modules.flatMap((module) => module.migrations ?? []));
      for (const module of modules) await module.setup?.(context);
      const app = this.#assemble(context, modules, logger, logRequests);
      for (const module of modules) await module.start?.(context);
      for (const hook of this.#startup) await hook(context);
      return lifecycle.attach(app);
    } catch (error) {
      await lifecycle.close().catch(() => {});
      throw error;
    }
  }

  #assemble(context: ServiceContext, modules: ServiceModule[], logger: Logger, logRequests: boolean): AnyElysia {
    const maxBodyBytes = this.options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    const basePath = this.#basePath;
    const app: AnyElysia = new Elysia(basePath ? { prefix: basePath } : {})
      .use(requestContext({ logger, logRequests, maxBodyBytes, basePath }));
    if (context.monitoring) app.use(httpMetrics(context.monitoring, basePath));
    app
      .use(errorHandler({ logger, basePath, ...(context.monitoring ? { monitoring: context.monitoring } : {}) }))
      .use(jsonBody({ maxBodyBytes }));
    if (this.#health) {
      const checks = [...(this.#health.checks ?? [])];
      for (const module of modules) checks.push(...(module.healthChecks?.(context) ?? []));
      if (this.#health.includeDatabaseCheck !== false) checks.push(databaseCheck(context.db));
      this.#checkHealthNames(checks);
      app.use(healthRoutes({ ...this.#health, checks }));
    }
    if (this.#system) app.use(systemRoutes(this.#system));
    for (const module of modules) {
      const routes = module.routes?.(context);
      if (routes) app.use(routes);
    }
    for (const plugin of this.#plugins) app.use(plugin);
    app.use(infoRoutes(this.options.info));
    if (this.#landingPage) app.use(landingPage({ basePath }));
    if (this.options.docs !== false) app.use(docsRoutes({ info: this.options.info, basePath }));
    closeRoutes(app);
    // The guard runs at onRequest, so it covers every route whatever the order; it reads the final route table.
    if (this.#auth) app.use(this.#auth.guard(context, () => routeEntries(app.routes, basePath)));
    return app;
  }

  /**
   * Builds the service and serves it (`Bun.serve` / `Deno.serve`) on `port`
   * (default `PORT` or 8000). SIGTERM/SIGINT stop it gracefully.
   */
  async listen(port?: number, options: ListenOptions = {}): Promise<RunningService> {
    const app = await this.build();
    return listenService(app, { ...options, port: port ?? options.port });
  }
}
