import { type ChapkitPlugin, pluginModules } from "./plugin.ts";
import { writeSync } from "node:fs";
import { type AnyElysia, Elysia } from "elysia";
import type { EntityDefinition, EntityInputOf, EntityRecordOf } from "../core/entity-definition.ts";
import type { CrudRouteTypes } from "../http/crud/route-types.ts";
import type { HealthRouteTypes, InfoRouteTypes, WithRoutes } from "./route-types.ts";
import type { ServiceInfo } from "../core/info.ts";
import type { Logger, LoggerOptions } from "../core/logging.ts";
import type { SettingsInput } from "../core/settings/schema.ts";
import { newUlid } from "../core/ulid.ts";
import type { Driver } from "../db/driver.ts";
import { migrate } from "../db/migrate.ts";
import type { Migration } from "../db/migration.ts";
import { openDatabase } from "../db/open.ts";
import { docsRoutes } from "../http/docs.ts";
import { errorHandler } from "../http/error-handler.ts";
import { databaseCheck, healthRoutes, isValidCheckName, outboundRegistryOf, probeRoutes } from "../http/health.ts";
import { Readiness, READINESS_KEY } from "../http/readiness.ts";
import { infoRoutes } from "../http/info.ts";
import { jsonBody } from "../http/json-body.ts";
import type { BodyLimits } from "../http/body-limit.ts";
import { SERVICE_SECRET_MIGRATIONS, storedSecret } from "../db/service-secret.ts";
import { landingPage } from "../http/landing-page.ts";
import type { HealthCheck, ServiceContext, ServiceModule } from "../http/module.ts";
import { requestContext } from "../http/request-context.ts";
import { closeRoutes } from "../http/routing.ts";
import { systemRoutes } from "../http/system.ts";
import { ConfigurationError } from "./configuration-error.ts";
import { trackCommits } from "../db/commit-hooks.ts";
import { EVENT_OUTBOX_MIGRATIONS } from "../db/event-outbox.ts";
import { createEventBus, eventsModule } from "./events-module.ts";
import type { RealtimeOptions } from "../http/realtime/module.ts";
import type { BatchOptions } from "../http/batch.ts";
import { SERVICE_APP_KEY } from "../http/service-app-key.ts";
import type { WebhooksModuleOptions } from "../modules/webhooks/mod.ts";
import type { QueuesModuleOptions } from "../modules/queues/mod.ts";
import type { NotificationsModuleOptions } from "../modules/notifications/mod.ts";
import type { EtlModuleOptions } from "../modules/etl/mod.ts";
import { etlRequires } from "../modules/etl/requires.ts";
import type { MonitoringModuleOptions } from "../modules/monitoring/mod.ts";
import { routeEntries } from "../http/auth-guard-permissions.ts";
import type { AuthModule, AuthOptions } from "../modules/auth/mod.ts";
import { type DeferredModule, deferredModule, loadDeferred } from "./deferred-module.ts";
import { ROW_ACCESS_KEY } from "../http/row-access-key.ts";
import type { EntityOptions } from "../modules/entity/mod.ts";
import { deferredEntityModule } from "./deferred-entity.ts";
import type { FlagsModuleOptions } from "../modules/flags/mod.ts";
import type { GraphqlOptions } from "../modules/graphql/mod.ts";
import type { Versioning, VersioningOptions } from "../http/versioning.ts";
import { VERSIONING_KEY } from "../http/versioning-key.ts";
import { exitProcess } from "../runtime/signals.ts";
import { unsupportedRuntime } from "../runtime/runtime.ts";
import { createLifecycle, type LifecycleHook, type ServiceApp } from "./lifecycle.ts";
import { listenService, type ListenOptions, type RunningService } from "./listen.ts";
import { orderModules } from "./module-order.ts";
import { installEdge } from "./edge.ts";
import { RATE_LIMIT_STORE_KEY, rateLimitModule } from "./rate-limit-module.ts";
import { rateLimit } from "../http/rate-limit.ts";
import type { RateLimitStore } from "../core/rate-limit.ts";
import { createServiceContext } from "./service-context.ts";
import type { SandboxSeed } from "./sandbox.ts";
import { queryCacheModule } from "./query-cache-module.ts";
import { partitionsModule } from "./partitions-module.ts";
import { REPLICAS_KEY, replicaCheck, scopeRequests, withReadReplicas } from "./read-replicas.ts";
import type { ReplicatedDriver } from "../db/replicas.ts";
import { ServiceSettings, type SettingsOptions } from "./settings.ts";
import { logCircuitChanges, type MonitoringParts, serviceLogger, serviceTracer } from "./_service-logging.ts";


/** Options of a service builder. */
export interface ServiceBuilderOptions {
  /** What `/api/v1/info` answers; `display_name` titles the docs. */
  info: ServiceInfo;
  /** Store URL (default `sqlite::memory:`); shorthand for `settings.database.url`. */
  databaseUrl?: string;
  /** Largest accepted request body in bytes (default 10 MiB); shorthand for `settings.http.maxBodyBytes`. */
  maxBodyBytes?: number;
  /**
   * Settings chosen in code. They replace the schema defaults; a config file
   * and the environment override them once the service reads those
   * (`listen()` always does, `build()` after {@link BaseServiceBuilder.withSettings}).
   */
  settings?: SettingsInput;
  /**
   * Body limits by kind of route, over the settings `http.maxBodyBytes`
   * (JSON), `http.maxMlBodyBytes` (`$train`, `$predict`, `$validate`) and
   * `http.maxUploadBytes` (`$upload`). Bodies are counted while they are read.
   */
  bodyLimits?: Partial<BodyLimits>;
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
  /**
   * Browser origins besides the service's own that may send state-changing
   * requests (e.g. the CORS origins, `https://app.example.org`); any other
   * `Origin` on a POST, PUT, PATCH or DELETE answers 403.
   */
  allowedOrigins?: readonly string[];
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
  /**
   * Also serve `GET {prefix}/schema.svg`, an ER diagram of the live database's
   * tables (default false: it shows table and column names to any caller).
   */
  schemaDiagram?: boolean;
}

/** Options of {@link BaseServiceBuilder.withLogging}. */
export interface LoggingOptions extends LoggerOptions {
  /** Log one `http.request.complete` line per request (and `http.request.start` at debug; default true). */
  requests?: boolean;
}

/** Exit status of a process whose configuration is invalid (`EX_CONFIG` of sysexits.h). */
const EXIT_CONFIG = 78;

const SERVICEKIT_URN = "urn:servicekit:error:";
const CHAP_HEALTH_PATH = "/health";

const BASE_PATH = /^(\/[A-Za-z0-9._~-]+)*$/;

/** `/svc/` → `/svc`; `""` and `/` → `""`. @throws {ConfigurationError} for anything but plain path segments. */
function normaliseBasePath(basePath: string | undefined): string {
  const trimmed = (basePath ?? "").replace(/\/+$/, "");
  if (!BASE_PATH.test(trimmed)) {
    throw new ConfigurationError(`Invalid basePath ${JSON.stringify(basePath)}: use /segment[/segment…] of letters, digits and . _ ~ -`);
  }
  return trimmed;
}

/** Every migration `build()` applies, in order: the store's own tables, then each module's. */
function serviceMigrations(modules: readonly ServiceModule[]): Migration[] {
  return [...SERVICE_SECRET_MIGRATIONS, ...EVENT_OUTBOX_MIGRATIONS, ...modules.flatMap((module) => module.migrations ?? [])];
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
  /** Route types collected by the `with…` methods, for `build()`'s return type; never set. */
  declare readonly "~routes"?: InfoRouteTypes;
  /** The options the builder was made with. */
  protected readonly options: ServiceBuilderOptions;
  #database: Driver | undefined;
  #settingsSource: SettingsOptions | undefined;
  readonly #basePath: string;
  #health: HealthOptions | undefined;
  #system: SystemOptions | undefined;
  #logging: LoggingOptions | undefined;
  #landingPage = false;
  #auth: DeferredModule<AuthModule> | undefined;
  #monitoring: MonitoringModuleOptions | undefined;
  readonly #modules: ServiceModule[] = [];
  readonly #plugins: AnyElysia[] = [];
  readonly #startup: LifecycleHook[] = [];
  readonly #sandboxSeeds: SandboxSeed[] = [];
  readonly #shutdown: LifecycleHook[] = [];

  /** Creates a builder from the service's options, or from its info alone. */
  constructor(options: ServiceBuilderOptions | ServiceInfo) {
    this.options = "info" in options && typeof options.info === "object" && options.info !== null
      ? options as ServiceBuilderOptions
      : { info: options as ServiceInfo };
    this.#basePath = normaliseBasePath(this.options.basePath);
  }

  /**
   * Reads settings from a JSON config file (`file`, default
   * `CHAPKIT_CONFIG_FILE`) and the environment (`CHAPKIT_*`, `PORT`, `HOST`,
   * `DATABASE_URL`, `LOG_LEVEL`…) over the code's. `listen()` does this
   * anyway; call it when the app is built and served some other way.
   */
  withSettings(options: SettingsOptions = {}): this {
    this.#settingsSource = options;
    return this;
  }

  /** Adds `GET /api/v1/health` (with a database check unless turned off). */
  withHealth<const Path extends string = "/api/v1/health">(
    options: HealthOptions & { prefix?: Path } = {},
  ): this & WithRoutes<HealthRouteTypes<Path>> {
    this.#health = options;
    return this.withRouteTypes<HealthRouteTypes<Path>>();
  }

  /** Adds `GET /api/v1/system`. */
  withSystem(options: SystemOptions = {}): this {
    this.#system = options;
    return this;
  }

  /** Turns on structured logs (settings `log.format`/`log.level`: `LOG_FORMAT`, `LOG_LEVEL`) and request logging. */
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
    const resolved = { ...(this.#basePath ? { basePath: this.#basePath } : {}), ...options };
    // Auth's code (JWT, scrypt, its routes) loads at build, so a service without auth never imports it.
    this.#auth = deferredModule({ name: "auth" }, async () => (await import("../modules/auth/mod.ts")).authModule(resolved));
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

  /**
   * Turns on feature flags: the `flags` table, admin-only CRUD under
   * `/api/v1/flags` (`flags:admin`), and `service.chapkit.context.get<FlagManager>("flags")`
   * whose `enabled(name, { key, user, request })` code calls (see docs/flags.md).
   */
  withFlags(options: FlagsModuleOptions = {}): this {
    return this.module(deferredModule({ name: "flags", provides: ["flags"] }, async () => (await import("../modules/flags/mod.ts")).flagsModule(options)));
  }

  /**
   * Serves the API in several versions from one definition: routes written
   * under `/api/v1` are also served under `/api/v2`… through each version's
   * request and answer transforms; `Accept: application/vnd.chapkit.v2+json`
   * or `Accept-Version: 2` select a version on an unversioned path
   * (`/api/notes`); deprecated versions and routes answer `Deprecation`,
   * `Sunset` and a `Link` to their guide (see docs/versioning.md).
   *
   * @throws {ConfigurationError} from `build()` and `listen()`, for a version name other than `v<N>` or an invalid date.
   */
  withVersions(options: VersioningOptions): this {
    // The versions' code (matching, transforms, deprecation headers) loads at build, so a service without versions never imports it.
    return this.module(deferredModule({ name: "versioning" }, async () => (await import("../http/versioning.ts")).versioningModule(options)));
  }

  /**
   * Turns on realtime subscriptions: `GET {collection}/$subscribe`
   * (server-sent events of committed changes, with `filter` and
   * `Last-Event-ID`) on configs, artifacts, tasks, jobs and entities, and the
   * WebSocket `/api/v1/$ws` (see docs/realtime.md).
   */
  withRealtime(options: RealtimeOptions = {}): this {
    return this.module(deferredModule({ name: "realtime" }, async () => (await import("../http/realtime/module.ts")).realtimeModule(options)));
  }

  /**
   * Serves GraphQL at `/api/v1/graphql`, generated from the entities
   * installed with `withEntity`: filtered, sorted, cursor-paged queries and
   * mutations through the same managers and permissions (see docs/graphql.md).
   * Needs the optional packages `graphql` and `graphql-http`.
   */
  withGraphql(options: GraphqlOptions = {}): this {
    return this.module(deferredModule({ name: "graphql" }, async () => (await import("../modules/graphql/mod.ts")).graphqlModule(options)));
  }

  /**
   * Serves `POST /api/v1/$batch`: several requests in one body, answered in
   * order, each through auth and rate limits; `"atomic": true` runs their
   * store writes in one transaction (see docs/batch.md).
   */
  withBatch(options: BatchOptions = {}): this {
    return this.module(deferredModule({ name: "batch" }, async () => (await import("../http/batch.ts")).batchModule(options)));
  }

  /**
   * Turns on outbound webhooks (needs `withJobs()`): admin CRUD under
   * `/api/v1/webhooks`, Standard Webhooks signed deliveries through the job
   * queue with retries and the circuit breaker, a delivery log and replays
   * (see docs/webhooks.md).
   */
  withWebhooks(options: WebhooksModuleOptions = {}): this {
    return this.module(deferredModule({ name: "webhooks", requires: ["jobs"] }, async () => (await import("../modules/webhooks/mod.ts")).webhooksModule(options)));
  }

  /**
   * Connects message queues (needs `withJobs()`): chosen events are
   * published to RabbitMQ, NATS JetStream or MQTT through the job queue,
   * at least once with the event id as the message id, and consumed
   * messages become jobs, once per message id (see docs/integrations.md).
   */
  withQueues(options: QueuesModuleOptions): this {
    return this.module(deferredModule({ name: "queues", requires: ["jobs"] }, async () => (await import("../modules/queues/mod.ts")).queuesModule(options)));
  }

  /**
   * Turns on notifications (needs `withJobs()`): e-mail, Slack-compatible
   * and generic webhooks and SMS channels, rules that pick events (a job
   * failed, a model promoted, an alert) and templates; every send is a job,
   * retried with back-off (see docs/integrations.md).
   */
  withNotifications(options: NotificationsModuleOptions): this {
    return this.module(deferredModule({ name: "notifications", requires: ["jobs"] }, async () => (await import("../modules/notifications/mod.ts")).notificationsModule(options)));
  }

  /**
   * Turns on ETL (needs `withJobs()`): declared imports from an HTTP URL, a
   * file or an S3 prefix, each row through a registered transform into a
   * `withEntity` collection, run as cron-scheduled jobs with a run history,
   * and their admin routes under `/api/v1/etl` (see docs/etl.md).
   */
  withEtl(options: EtlModuleOptions = {}): this {
    return this.module(deferredModule({ name: "etl", requires: etlRequires(options), provides: ["etl"] }, async () => (await import("../modules/etl/mod.ts")).etlModule(options)));
  }

  /** Uses this store: a URL (opened and closed by the service; shorthand for `settings.database.url`) or an open driver (left open). */
  withDatabase(database: string | Driver): this {
    if (typeof database === "string") this.#codeSettings.database = { ...this.#codeSettings.database, url: database };
    else this.#database = database;
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
  withEntity<D extends EntityDefinition, const Prefix extends string = `/api/v1/${D["table"]["name"]}`>(
    definition: D,
    options: EntityOptions<D> & { prefix?: Prefix } = {},
  ): this & WithRoutes<CrudRouteTypes<Prefix, EntityInputOf<D>, EntityRecordOf<D>>> {
    return this.module(deferredEntityModule(definition, options)).withRouteTypes<CrudRouteTypes<Prefix, EntityInputOf<D>, EntityRecordOf<D>>>();
  }

  /** Installs a module: its migrations, set-up, routes, health checks and lifecycle. */
  module(module: ServiceModule): this {
    this.#modules.push(module);
    return this;
  }

  /**
   * Installs a chapkit plugin: its entity tables, job handlers, schedules,
   * configuration, migrations, routes and lifecycle (see `ChapkitPlugin`).
   */
  withPlugin(plugin: ChapkitPlugin): this {
    for (const module of pluginModules(plugin)) this.module(module);
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

  /**
   * Adds a seed of the sandbox mode (`CHAPKIT_SANDBOX=1`): it fills the
   * in-memory store at start and after every reset (`sandbox.resetSeconds`),
   * typically through `service.chapkit.manager(...)`-style managers from the context.
   * Without the sandbox setting it never runs.
   */
  withSandboxSeed(seed: SandboxSeed): this {
    this.#sandboxSeeds.push(seed);
    return this;
  }

  /** Runs `hook` on shutdown, before modules stop and the store closes. */
  onShutdown(hook: LifecycleHook): this {
    this.#shutdown.push(hook);
    return this;
  }

  /**
   * Which wire contract the service speaks where the seed contract and
   * chapkit 1.x conflict: `chap` adds `GET /health`, answers the strict
   * MLServiceInfo on `/api/v1/info` and names problem types
   * `urn:servicekit:error:*`. The base builder always speaks `seed`.
   */
  protected wireProfile(): "seed" | "chap" {
    return "seed";
  }

  /** Whether `GET /` is a model card (an ML service in the seed profile); the base builder's is not. */
  protected modelCard(): boolean {
    return false;
  }

  /**
   * Adds route types to the builder's type (nothing at run time), for a
   * method or a user's module whose routes a typed client should see.
   */
  withRouteTypes<Routes>(): this & WithRoutes<Routes> {
    return this as this & WithRoutes<Routes>;
  }

  /** Whether a module with this name is installed. */
  protected hasModule(name: string): boolean {
    return this.#modules.some((module) => module.name === name);
  }

  /** Code settings: the `settings` option plus the shorthands (`databaseUrl`, `maxBodyBytes`, logging options). */
  get #codeSettings(): SettingsInput {
    this.#code ??= this.#initialCodeSettings();
    return this.#code;
  }

  #code: SettingsInput | undefined;

  #initialCodeSettings(): SettingsInput {
    const code = structuredClone(this.options.settings ?? {});
    if (this.options.databaseUrl !== undefined) code.database = { ...code.database, url: this.options.databaseUrl };
    if (this.options.maxBodyBytes !== undefined) code.http = { ...code.http, maxBodyBytes: this.options.maxBodyBytes };
    return code;
  }

  /** Settings as code gives them, with what `withLogging` pins. */
  #settingsCode(): SettingsInput {
    const code = structuredClone(this.#codeSettings);
    const logging = this.#logging;
    if (logging?.level !== undefined && typeof logging.level === "string") code.log = { ...code.log, level: logging.level };
    if (logging?.format !== undefined) code.log = { ...code.log, format: logging.format };
    return code;
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
   * @throws {ConfigurationError} on a runtime other than Bun or Deno, for a missing required module or a bad health-check name.
   */
  build(): Promise<ServiceApp<NonNullable<this["~routes"]>>> {
    return this.#build(this.#settingsSource);
  }

  /**
   * The schema migrations `build()` applies, in the order it applies them:
   * the store's own tables (service secrets, event outbox), then every
   * installed module's. `chapkit db` runs, previews and reverts them without
   * starting the service.
   */
  async migrations(): Promise<Migration[]> {
    this.prepare();
    const modules = orderModules(this.#modules);
    await loadDeferred(modules);
    // The store's own tables first, as build() applies them: a store migrated from this list is the one the service expects.
    return serviceMigrations(modules);
  }

  /** Runs first in `build()` and `listen()`: a subclass installs what depends on choices made after its constructor. */
  protected prepare(): void {}

  async #build(source: SettingsOptions | undefined): Promise<ServiceApp> {
    const unsupported = unsupportedRuntime();
    if (unsupported) throw new ConfigurationError(unsupported);
    this.prepare();
    const modules = orderModules(this.#modules);
    await loadDeferred(modules);
    this.#checkHealthNames(this.#health?.checks ?? []);
    const settings = await ServiceSettings.load(this.#settingsCode(), source);
    const observed = this.#monitoring ? { parts: await import("./monitoring-parts.ts"), options: this.#monitoring } : undefined;
    const tracer = observed ? serviceTracer(observed.parts, observed.options, this.options.info) : undefined;
    const { logger, logRequests } = serviceLogger(settings, this.#logging, tracer);
    const sandbox = settings.current.sandbox.enabled;
    const sandboxed = sandbox ? await import("./sandbox.ts") : undefined;
    const ownsDb = sandbox || this.#database === undefined;
    const store = settings.current.database;
    // A sandbox never touches the configured store.
    const given = sandbox ? undefined : this.#database;
    let opened: Driver;
    let replicas: ReplicatedDriver | null = null;
    if (given) {
      opened = given;
    } else {
      opened = await openDatabase(sandboxed ? sandboxed.SANDBOX_DATABASE_URL : store.url, {
        postgres: { breaker: { failureThreshold: store.breakerThreshold, probeIntervalMs: store.breakerProbeMs } },
      });
      if (!sandbox) replicas = await withReadReplicas(opened, store);
      if (replicas) opened = replicas;
    }
    const monitoring = observed
      ? new observed.parts.Monitoring({ ...observed.options, logger: logger.child({ module: "monitoring" }), ...(tracer ? { tracer } : {}) })
      : undefined;
    const db = trackCommits(observed && monitoring ? observed.parts.instrumentDriver(opened, monitoring) : opened);
    const instanceId = newUlid();
    const events = createEventBus({
      db,
      opened,
      instanceId,
      settings: settings.current.events,
      replay: this.hasModule("realtime"),
      logger: logger.child({ module: "events" }),
    });
    logCircuitChanges(db, logger);
    modules.push(await rateLimitModule(settings.current.rateLimit, logger).catch(async (error: unknown) => {
      if (ownsDb) await opened.close();
      throw error;
    }));
    if (observed && monitoring) modules.push(observed.parts.monitoringModule(monitoring, observed.options));
    if (sandboxed) {
      logger.warn("sandbox.enabled", { reset_seconds: settings.current.sandbox.resetSeconds });
      modules.push(sandboxed.sandboxModule(this.#sandboxSeeds));
    }
    // Before the modules that add partitioned tables in their set-up.
    modules.unshift(partitionsModule(db, logger.child({ module: "partitions" })));
    // First: entity modules find the cache in their set-up; it opens only if a table opts in.
    modules.unshift(queryCacheModule({ settings: settings.current.cache, db, instanceId, logger, ...(monitoring ? { monitoring } : {}) }));
    // First, so other instances' events flow from set-up on and the bus stops after every publisher.
    modules.unshift(eventsModule(events));
    const context = createServiceContext({
      db,
      events,
      info: this.options.info,
      logger,
      instanceId,
      settings,
      ...(monitoring ? { monitoring } : {}),
    });
    const lifecycle = createLifecycle({
      context,
      settings,
      modules,
      shutdownHooks: this.#shutdown,
      closeDb: ownsDb ? () => opened.close() : undefined,
      bodyLimits: this.#bodyLimits(context),
    });
    try {
      context.provide(READINESS_KEY, new Readiness());
      if (replicas) context.provide(REPLICAS_KEY, replicas);
      await migrate(db, serviceMigrations(modules));
      const cursorSecret = context.settings.http.secret ?? await storedSecret(db, "cursor");
      // Before any module's setup: entity modules read their rows through it.
      if (this.#auth?.loaded.rowAccess) context.provide(ROW_ACCESS_KEY, this.#auth.loaded.rowAccess);
      for (const module of modules) await module.setup?.(context);
      // Under tracing the completion line is written inside the request's server span (so it carries
      // trace_id and span_id): by the request context's hook, not by the edge, which runs outside it.
      const completionHook = tracer !== undefined;
      const app = this.#assemble(context, modules, logger, logRequests, completionHook, cursorSecret, observed?.parts);
      for (const module of modules) await module.start?.(context);
      for (const hook of this.#startup) await hook(context);
      installEdge(app, context, { basePath: this.#basePath, logRequests: logRequests && !completionHook });
      if (replicas) scopeRequests(app, replicas, () => context.settings.http.trustProxy);
      context.provide(SERVICE_APP_KEY, app);
      return lifecycle.attach(app);
    } catch (error) {
      await lifecycle.close().catch(() => {});
      throw error;
    }
  }

  #bodyLimits(context: ServiceContext): BodyLimits {
    const http = context.settings.http;
    return { json: http.maxBodyBytes, ml: http.maxMlBodyBytes, upload: http.maxUploadBytes, ...this.options.bodyLimits };
  }

  #assemble(
    context: ServiceContext,
    modules: ServiceModule[],
    logger: Logger,
    logRequests: boolean,
    completionHook: boolean,
    cursorSecret: string,
    monitoringParts: MonitoringParts | undefined,
  ): AnyElysia {
    const bodyLimits = this.#bodyLimits(context);
    const readiness = context.get<Readiness>(READINESS_KEY);
    const maxBodyBytes = bodyLimits.json;
    const basePath = this.#basePath;
    const app: AnyElysia = new Elysia(basePath ? { prefix: basePath } : {})
      .use(requestContext({
        logger,
        logRequests,
        // Without tracing the edge writes the completion line: no hook scheduled after every response.
        completionHook,
        bodyLimits,
        basePath,
        cursorSecret,
        hstsMaxAge: context.settings.http.hstsMaxAge,
        allowedOrigins: [
          ...(this.options.allowedOrigins ?? []),
          // The CORS origins may also write cross-site (a wildcard does not open writes to every site).
          ...(context.settings.cors.enabled ? context.settings.cors.origins.filter((origin) => origin !== "*") : []),
        ],
      }));
    if (context.monitoring && monitoringParts) app.use(monitoringParts.httpMetrics(context.monitoring, basePath));
    const chap = this.wireProfile() === "chap";
    app
      .use(errorHandler({
        logger,
        basePath,
        ...(context.monitoring ? { monitoring: context.monitoring } : {}),
        ...(chap ? { typePrefix: SERVICEKIT_URN } : {}),
      }))
      .use(jsonBody({ maxBodyBytes }))
      .use(rateLimit({
        settings: () => context.settings.rateLimit,
        store: context.get<RateLimitStore>(RATE_LIMIT_STORE_KEY),
        logger,
        basePath,
      }));
    let healthChecks: HealthCheck[] | undefined;
    if (this.#health) {
      const checks = [...(this.#health.checks ?? [])];
      healthChecks = checks;
      for (const module of modules) checks.push(...(module.healthChecks?.(context) ?? []));
      if (this.#health.includeDatabaseCheck !== false) checks.push(databaseCheck(context.db));
      const replicas = context.has(REPLICAS_KEY) ? context.get<ReplicatedDriver>(REPLICAS_KEY) : undefined;
      if (replicas && this.#health.includeDatabaseCheck !== false) checks.push(replicaCheck(replicas));
      this.#checkHealthNames(checks);
      const outbound = outboundRegistryOf(context);
      const circuits = () => outbound.snapshots();
      app.use(healthRoutes({ ...this.#health, checks, readiness, circuits, stream: chap && this.#health.prefix === CHAP_HEALTH_PATH }));
      if (chap && this.#health.prefix !== CHAP_HEALTH_PATH) app.use(healthRoutes({ ...this.#health, prefix: CHAP_HEALTH_PATH, checks, readiness, circuits, stream: true }));
      app.use(probeRoutes({ checks, readiness, circuits, ...(this.#health.tags ? { tags: this.#health.tags } : {}) }));
    }
    if (context.monitoring && monitoringParts) {
      app.use(monitoringParts.statusPage(context.monitoring, { title: this.options.info.display_name, ...(healthChecks ? { checks: healthChecks } : {}) }));
    }
    const slowQueries = context.monitoring?.slowQueries;
    if (this.#system) app.use(systemRoutes({ ...this.#system, db: context.db, readiness, ...(slowQueries ? { slowQueries } : {}) }));
    for (const module of modules) {
      const routes = module.routes?.(context);
      if (routes) app.use(routes);
    }
    for (const plugin of this.#plugins) app.use(plugin);
    app.use(infoRoutes(this.options.info, chap ? { profile: "chap" } : {}));
    const card = this.modelCard();
    if (this.#landingPage || card) app.use(landingPage({ basePath, ...(card ? { page: "model-card" as const } : {}) }));
    if (this.options.docs !== false) {
      const versioning = context.has(VERSIONING_KEY) ? context.get<Versioning>(VERSIONING_KEY) : undefined;
      app.use(docsRoutes({ info: this.options.info, basePath, ...(versioning ? { transform: (document) => versioning.document(document) } : {}) }));
    }
    closeRoutes(app);
    // The guard runs at onRequest, so it covers every route whatever the order; it reads the final route table.
    if (this.#auth) app.use(this.#auth.loaded.guard(context, () => routeEntries(app.routes, basePath)));
    return app;
  }

  /**
   * Builds the service with its settings read from the config file and the
   * environment, and serves it (`Bun.serve` / `Deno.serve`). `port` and
   * `options` are code settings (`server.port`, `server.host`,
   * `server.graceMs`): `PORT`, `HOST` and the config file override them.
   * SIGTERM/SIGINT stop it gracefully.
   *
   * @throws {ConfigurationError} when a setting is invalid, naming the variable and the expected form.
   */
  async listen(port?: number, options: ListenOptions = {}): Promise<RunningService> {
    const server = { ...this.#codeSettings.server };
    if ((port ?? options.port) !== undefined) server.port = port ?? options.port;
    if (options.hostname !== undefined) server.host = options.hostname;
    if (options.graceMs !== undefined) server.graceMs = options.graceMs;
    this.#codeSettings.server = server;
    let app: ServiceApp;
    try {
      app = await this.#build(this.#settingsSource ?? {});
    } catch (error) {
      // A process started to serve stops with one readable line, not a stack trace.
      if (!(error instanceof ConfigurationError) || options.handleSignals === false) throw error;
      writeSync(2, `chapkit: ${error.message}\n`);
      exitProcess(EXIT_CONFIG);
      throw error;
    }
    const effective = app.chapkit.context.settings.server;
    return listenService(app, {
      ...options,
      port: effective.port,
      hostname: effective.host,
      graceMs: effective.graceMs,
      drainDelayMs: effective.drainDelayMs,
      watchConfig: effective.watchConfig,
    });
  }
}
