import { type Readiness, READINESS_KEY } from "../http/readiness.ts";
import type { ServiceSettings, SettingsChange } from "./settings.ts";
import type { AnyElysia, Elysia } from "elysia";
import type { Static, TSchema } from "@sinclair/typebox";
import type { EntityDefinition } from "../core/entity-definition.ts";
import type { ConfigManager } from "../modules/config/manager.ts";
import { CONFIG_KEY } from "../modules/config/keys.ts";
import type { BodyLimits } from "../http/body-limit.ts";
import type { ServiceContext, ServiceModule } from "../http/module.ts";
import { entityManagerOf } from "../modules/entity/key.ts";
import { FLAGS_KEY } from "../modules/flags/key.ts";
import type { FlagManager } from "../modules/flags/manager.ts";
import type { EntityManager } from "../modules/entity/manager.ts";

/** A start-up or shutdown hook. */
export type LifecycleHook = (context: ServiceContext) => void | Promise<void>;

/** Control over a built service beyond its routes. */
export interface ServiceHandle {
  /** The context modules share (store, logger, provided managers). */
  readonly context: ServiceContext;
  /**
   * The manager of an entity installed with `withEntity`, for direct calls
   * (scripts, jobs, start-up seeding) that share the service's store and hooks.
   *
   * @throws {Error} when the entity is not installed.
   */
  manager<D extends EntityDefinition>(definition: D): EntityManager<D>;
  /**
   * The config manager of `withConfig(schema)` (or an ML service's
   * `configSchema`), its answers' `data` typed by the schema given, for direct
   * calls that share the service's store, hooks and events.
   *
   * @throws {Error} when the service has no configs.
   */
  configs<S extends TSchema>(schema: S): ConfigManager<Static<S>>;
  /** The request body limits in force; `listen()` tells the HTTP server the largest. */
  readonly bodyLimits: BodyLimits;
  /** Whether {@link ServiceHandle.close} has run. */
  readonly closed: boolean;
  /** The live settings: effective values, their sources, `render()` for `chapkit config`. */
  readonly settings: ServiceSettings;
  /** The instance's readiness; `drain(reason)` makes every health path answer 503. */
  readonly readiness: Readiness;
  /**
   * Re-reads the config file and the environment and applies what can change
   * live (log level, limits, timeouts…); the rest is reported as needing a
   * restart. What SIGHUP and a config-file change do.
   *
   * @throws {ConfigurationError} when the new configuration is invalid (nothing changes then).
   */
  reload(): Promise<SettingsChange>;
  /**
   * Runs shutdown hooks, stops modules in reverse order and closes the store
   * when the service opened it. Safe to call more than once.
   */
  close(): Promise<void>;
}

/** The scoped hook types of a built service: none, as in a new Elysia app (its hooks are untyped plugins). */
export type NoEphemeral = { derive: {}; resolve: {}; schema: {}; standaloneSchema: {}; response: {} };

/**
 * The Elysia app `build()` returns, with its {@link ServiceHandle} under
 * `chapkit`. `Routes` are the route types the builder collected, so a typed
 * client (`treaty<typeof app>` of `@elysiajs/eden`) types its calls; the
 * default `any` accepts an app of any routes.
 */
// deno-lint-ignore no-explicit-any
export type ServiceApp<Routes extends Record<string, unknown> = any> =
  & Elysia<
    "",
    { decorator: {}; store: {}; derive: {}; resolve: {} },
    { typebox: {}; error: {} },
    { schema: {}; standaloneSchema: {}; macro: {}; macroFn: {}; parser: {}; response: {} },
    Routes,
    NoEphemeral,
    NoEphemeral
  >
  & { readonly chapkit: ServiceHandle };

/** What a lifecycle closes. */
export interface LifecycleParts {
  context: ServiceContext;
  settings: ServiceSettings;
  modules: readonly ServiceModule[];
  shutdownHooks: readonly LifecycleHook[];
  closeDb: (() => Promise<void>) | undefined;
  bodyLimits: BodyLimits;
}

/** The shutdown sequence of a service, and a way to attach it to the app. */
export interface Lifecycle {
  /** Runs the shutdown sequence once. */
  close(): Promise<void>;
  /** Adds the handle to the app as `chapkit`. */
  attach(app: AnyElysia): ServiceApp;
}

/** Creates the lifecycle of a service being built. */
export function createLifecycle(parts: LifecycleParts): Lifecycle {
  const { context } = parts;
  let closing: Promise<void> | undefined;
  const step = async (event: string, run: () => void | Promise<void>): Promise<void> => {
    try {
      await run();
    } catch (error) {
      context.logger.error(event, { error });
    }
  };
  const close = (): Promise<void> => {
    closing ??= (async () => {
      for (const hook of parts.shutdownHooks) await step("service.shutdown_hook_failed", () => hook(context));
      for (const module of [...parts.modules].reverse()) {
        if (module.stop) await step("service.module_stop_failed", () => module.stop!(context));
      }
      if (parts.closeDb) await step("service.database_close_failed", parts.closeDb);
    })();
    return closing;
  };
  const handle: ServiceHandle = {
    context,
    manager: (definition) => entityManagerOf(context, definition),
    configs: <S extends TSchema>(_schema: S) => context.get<ConfigManager<Static<S>>>(CONFIG_KEY),
    bodyLimits: parts.bodyLimits,
    settings: parts.settings,
    get readiness(): Readiness {
      return context.get<Readiness>(READINESS_KEY);
    },
    async reload(): Promise<SettingsChange> {
      const change = await parts.settings.reload();
      if (context.has(FLAGS_KEY)) context.get<FlagManager>(FLAGS_KEY).invalidate();
      context.logger.info("settings.reloaded", { applied: change.applied, needs_restart: change.needsRestart });
      return change;
    },
    get closed(): boolean {
      return closing !== undefined;
    },
    close,
  };
  return {
    close,
    attach(app: AnyElysia): ServiceApp {
      Object.defineProperty(app, "chapkit", { value: handle, enumerable: false });
      return app as ServiceApp;
    },
  };
}
