import type { TSchema } from "@sinclair/typebox";
import type { AnyElysia } from "elysia";
import type { ManagerHooks } from "../../core/manager.ts";
import type { Migration } from "../../db/migration.ts";
import { entityTableMigrations } from "../../db/table-migration.ts";
import type { CrudPermissions } from "../../http/crud/crud-router.ts";
import type { ServiceContext, ServiceModule } from "../../http/module.ts";
import { ConfigManager, type ConfigInput } from "./manager.ts";
import { type ConfigRecord, configsTable } from "./schema.ts";
import { configRoutes } from "./routes.ts";
import { createConfigStore } from "./store.ts";

/** The key the config module provides its {@link ConfigManager} under. */
export const CONFIG_KEY = "config";
/** The key the config module provides its route prefix under. */
export const CONFIG_PREFIX_KEY = "config.prefix";
/** The default route prefix of configs (singular, as in Chapkit). */
export const DEFAULT_CONFIG_PREFIX = "/api/v1/config";

/** Options of {@link configModule}. */
export interface ConfigModuleOptions {
  /** TypeBox object schema of config `data`; undeclared keys are kept. */
  schema: TSchema;
  /** Route prefix (default `/api/v1/config`). */
  prefix?: string;
  /** OpenAPI tags (default `["config"]`). */
  tags?: string[];
  /** Which generic routes exist. */
  permissions?: CrudPermissions;
  /** Lifecycle hooks of the manager. */
  hooks?: ManagerHooks<ConfigRecord, ConfigInput>;
}

/** The migrations of the `config` module. */
export const configMigrations: readonly Migration[] = entityTableMigrations(configsTable, "config");

/**
 * The config module (contract §7): the `configs` table, a {@link ConfigManager}
 * provided as `"config"` (its prefix as `"config.prefix"`), and its CRUD routes.
 *
 * @example
 * ```ts ignore
 * import { Type } from "@sinclair/typebox";
 * builder.module(configModule({ schema: Type.Object({ min_samples: Type.Integer({ default: 5 }) }, { title: "WeatherConfig" }) }));
 * ```
 */
export function configModule(options: ConfigModuleOptions): ServiceModule {
  const prefix = options.prefix ?? DEFAULT_CONFIG_PREFIX;
  return {
    name: "config",
    migrations: configMigrations,
    setup(context: ServiceContext): void {
      const manager = new ConfigManager({
        store: createConfigStore(context.db),
        schema: options.schema,
        ...(options.hooks ? { hooks: options.hooks } : {}),
      });
      context.provide(CONFIG_KEY, manager);
      context.provide(CONFIG_PREFIX_KEY, prefix);
    },
    routes(context: ServiceContext): AnyElysia {
      return configRoutes(context.get<ConfigManager>(CONFIG_KEY), {
        prefix,
        ...(options.tags ? { tags: options.tags } : {}),
        ...(options.permissions ? { permissions: options.permissions } : {}),
      });
    },
  };
}
