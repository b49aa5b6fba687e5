/**
 * The plugin interface: one object that adds a feature to a service. A
 * plugin is a {@link ServiceModule} (migrations, set-up, routes, health
 * checks, start and stop, in dependency order) plus what a feature usually
 * brings besides: entity tables served as CRUD, job handlers, cron
 * schedules and a typed configuration. The built-in modules (configs,
 * artifacts, jobs, auth, flags...) are service modules themselves, so a
 * plugin has the same powers they have.
 *
 * @module
 */
import type { Static, TSchema } from "@sinclair/typebox";
import { ConfigurationError, ValidationError } from "../core/errors.ts";
import type { EntityDefinition } from "../core/entity-definition.ts";
import type { EventSelector, ServiceEvent } from "../core/events/mod.ts";
import { validateValue } from "../core/validation.ts";
import type { ServiceContext, ServiceModule } from "../http/module.ts";
import { deferredEntityModule } from "./deferred-entity.ts";
import { JOBS_KEY, SCHEDULES_KEY } from "../modules/jobs/keys.ts";
import type { JobScheduler, ScheduleSpec } from "../modules/jobs/scheduler.ts";
import type { JobHandler, JobRunner } from "../modules/jobs/types.ts";

/** Job handlers by name, or a function of the service context that returns them. */
export type PluginJobs =
  | Readonly<Record<string, JobHandler<never>>>
  | ((context: ServiceContext) => Readonly<Record<string, JobHandler<never>>>);

/** A plugin's typed configuration: its schema and the value the service author gives. */
export interface PluginConfig<S extends TSchema = TSchema> {
  /** TypeBox schema; defaults in it fill what `value` leaves out. */
  schema: S;
  /** The author's settings for this plugin (default `{}`). */
  value?: unknown;
}

/**
 * A feature packaged for any chapkit service: `builder.withPlugin(plugin)`.
 * Every member is optional but `name`.
 *
 * @example
 * ```ts ignore
 * const bookmarks = definePlugin({
 *   name: "bookmarks",
 *   entities: [Bookmark],
 *   config: { schema: Type.Object({ maxPerUser: Type.Integer({ default: 100 }) }), value: { maxPerUser: 10 } },
 *   jobs: { "bookmarks.check": { payload: Type.Object({}), run: () => checkLinks() } },
 *   schedules: { "bookmarks.nightly": { cron: "0 3 * * *", job: "bookmarks.check" } },
 *   routes: (context) => new Elysia().get("/api/v1/bookmarks/$stats", () => stats(context)),
 * });
 * ```
 */
export interface ChapkitPlugin<S extends TSchema = TSchema> extends ServiceModule {
  /** Entity tables the plugin serves as CRUD collections (each under `/api/v1/{table}`). */
  readonly entities?: readonly EntityDefinition[];
  /**
   * Job handlers by name, registered on the service's queue (needs
   * `withJobs()`); a function receives the service context, for handlers
   * that use managers (`entityManagerOf(context, Table)`).
   */
  readonly jobs?: PluginJobs;
  /** Cron schedules by name, created or replaced at start-up (needs `withJobs()`). */
  readonly schedules?: Readonly<Record<string, ScheduleSpec>>;
  /** The plugin's configuration, validated at `build()`; read it with {@link pluginConfig}. */
  readonly config?: PluginConfig<S>;
  /**
   * Event handlers: each receives the events its selector picks (`types` such
   * as `entity.*` or `job.failed`, `collections`, a filter) once committed,
   * from the service start until it stops. A handler's throw is logged.
   */
  readonly events?: readonly PluginEventHandler[];
}

/** One event handler of a plugin. */
export interface PluginEventHandler {
  /** Which events (default: every event). */
  selector?: EventSelector;
  /** Handles one event; the service context gives managers and the job queue. */
  handle(event: ServiceEvent, context: ServiceContext): void | Promise<void>;
}

const NAME = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/;

/**
 * Checks a plugin's shape once, where it is declared, and returns it typed.
 *
 * @throws {ConfigurationError} when the name is not lower-case words joined by `-` or `.`.
 */
export function definePlugin<S extends TSchema, const P extends ChapkitPlugin<S>>(plugin: P & ChapkitPlugin<S>): P {
  if (!NAME.test(plugin.name)) {
    throw new ConfigurationError(`Plugin name "${plugin.name}" must be lower-case letters, digits, "-" and "." (e.g. "acme.audit")`);
  }
  return plugin;
}

/** The context key under which a plugin's validated configuration is provided. */
export function pluginConfigKey(name: string): string {
  return `plugin:${name}:config`;
}

/**
 * A plugin's validated configuration, from a module's set-up, routes or a
 * handler that has the service context.
 */
export function pluginConfig<S extends TSchema>(context: ServiceContext, plugin: ChapkitPlugin<S>): Static<S> {
  return context.get<Static<S>>(pluginConfigKey(plugin.name));
}

/**
 * The service modules that install a plugin: one per entity table, then the
 * plugin's own module, which validates its configuration, registers its job
 * handlers and schedules, and runs its own set-up, routes and lifecycle.
 */
export function pluginModules(plugin: ChapkitPlugin): ServiceModule[] {
  const usesJobs = plugin.jobs !== undefined || Object.keys(plugin.schedules ?? {}).length > 0;
  const entities = (plugin.entities ?? []).map((definition) => deferredEntityModule(definition));
  const requires = [...(plugin.requires ?? []), ...(usesJobs ? ["jobs"] : []), ...entities.map((module) => module.name)];
  const stops: (() => void)[] = [];
  const own: ServiceModule = {
    ...plugin,
    requires: [...new Set(requires)],
    async setup(context: ServiceContext): Promise<void> {
      if (plugin.config) context.provide(pluginConfigKey(plugin.name), readConfig(plugin.name, plugin.config));
      const runner = usesJobs ? context.get<JobRunner>(JOBS_KEY) : undefined;
      const jobs = typeof plugin.jobs === "function" ? plugin.jobs(context) : plugin.jobs ?? {};
      for (const [name, handler] of Object.entries(jobs)) runner!.register(name, handler as JobHandler<unknown>);
      if (plugin.schedules) {
        const scheduler = context.get<JobScheduler>(SCHEDULES_KEY);
        for (const [name, spec] of Object.entries(plugin.schedules)) await scheduler.schedule(name, spec);
      }
      await plugin.setup?.(context);
    },
    start(context: ServiceContext): void | Promise<void> {
      const logger = context.logger.child({ plugin: plugin.name });
      for (const { selector, handle } of plugin.events ?? []) {
        stops.push(context.events.subscribe(selector ?? {}, (event) => {
          void Promise.resolve().then(() => handle(event, context)).catch((error: unknown) =>
            logger.error("plugin.event.failed", { error, event: event.type, id: event.id })
          );
        }));
      }
      return plugin.start?.(context);
    },
    async stop(context: ServiceContext): Promise<void> {
      for (const stop of stops.splice(0)) stop();
      await plugin.stop?.(context);
    },
  };
  return [...entities, own];
}

function readConfig(name: string, config: PluginConfig): unknown {
  try {
    return validateValue(config.schema, config.value ?? {}, { loc: ["plugins", name] });
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const where = error.errors.map((item) => `${item.loc.join(".")}: ${item.msg}`).join("; ");
    throw new ConfigurationError(`Plugin "${name}" is configured wrongly: ${where}`, { cause: error });
  }
}
