import type { TSchema } from "@sinclair/typebox";
import { type AnyElysia, Elysia } from "elysia";
import type { ManagerHooks } from "../../core/manager.ts";
import type { Migration } from "../../db/migration.ts";
import { entityTableMigrations, searchMigration, searchQueueMigration } from "../../db/table-migration.ts";
import type { CrudPermissions } from "../../http/crud/crud-router.ts";
import { registerSubscribable } from "../../http/realtime/collections.ts";
import type { ServiceContext, ServiceModule } from "../../http/module.ts";
import { ConfigManager, type ConfigInput } from "./manager.ts";
import { type ConfigRecord, configsTable, configsTableV1 } from "./schema.ts";
import { CHAP_CONFIG_PREFIX, chapConfigRoutes } from "./chap-routes.ts";
import { configRoutes } from "./routes.ts";
import { createConfigStore } from "./store.ts";
import { CONFIG_KEY } from "./keys.ts";

export { CONFIG_KEY } from "./keys.ts";
/** The key the config module provides its route prefix under. */
export const CONFIG_PREFIX_KEY = "config.prefix";
/** The default route prefix of configs (singular, as in Chapkit). */
export const DEFAULT_CONFIG_PREFIX = "/api/v1/config";
/** The key the config module provides the chap profile's {@link ConfigManager} under (chap profile only). */
export const CHAP_CONFIG_KEY = "config.chap";
/** The key the config module provides every config route prefix under (seed first). */
export const CONFIG_PREFIXES_KEY = "config.prefixes";

/** What the chap profile's config delete cascades to (provided under `config-links` by the artifacts module). */
interface LinkedTrees {
  deleteLinkedTrees(configId: string): Promise<void>;
}

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
  /**
   * `seed` (default): only the seed path. `chap`: also `/api/v1/configs`
   * over the same table with the chapkit 1.x semantics (see {@link chapConfigRoutes}).
   */
  profile?: "seed" | "chap";
}

/** The migrations of the `config` module. */
export const configMigrations: readonly Migration[] = [
  ...entityTableMigrations(configsTableV1, "config"),
  {
    module: "config",
    version: 3,
    name: "non-unique config names, config tags",
    up: {
      sqlite: `DROP INDEX "ux_configs_name";\nCREATE INDEX "ix_configs_name" ON "configs" ("name");\nALTER TABLE "configs" ADD COLUMN "tags" TEXT;`,
      postgres: `DROP INDEX "ux_configs_name";\nCREATE INDEX "ix_configs_name" ON "configs" ("name");\nALTER TABLE "configs" ADD COLUMN "tags" JSON;`,
    },
    down: `ALTER TABLE "configs" DROP COLUMN "tags";\nDROP INDEX "ix_configs_name";\nCREATE UNIQUE INDEX "ux_configs_name" ON "configs" ("name");`,
  },
  searchMigration(configsTable, "config", 4),
  searchQueueMigration(configsTable, "config", 5),
];

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
  const chap = options.profile === "chap";
  return {
    name: "config",
    migrations: configMigrations,
    setup(context: ServiceContext): void {
      const manager = new ConfigManager({
        store: createConfigStore(context.db),
        schema: options.schema,
        ...(options.hooks ? { hooks: options.hooks } : {}),
        events: { bus: context.events, collection: "configs" },
      });
      context.provide(CONFIG_KEY, manager);
      context.provide(CONFIG_PREFIX_KEY, prefix);
      for (const each of chap ? [prefix, CHAP_CONFIG_PREFIX] : [prefix]) {
        registerSubscribable(context, { collection: "configs", prefix: each, table: configsTable });
      }
      context.provide(CONFIG_PREFIXES_KEY, chap ? [prefix, CHAP_CONFIG_PREFIX] : [prefix]);
      if (!chap) return;
      const user = options.hooks;
      context.provide(CHAP_CONFIG_KEY, new ConfigManager({
        store: manager.store,
        schema: options.schema,
        profile: "chap",
        events: { bus: context.events, collection: "configs" },
        hooks: {
          ...user,
          beforeDelete: async (record) => {
            await user?.beforeDelete?.(record);
            if (context.has("config-links")) await context.get<LinkedTrees>("config-links").deleteLinkedTrees(record.id);
          },
        },
      }));
    },
    routes(context: ServiceContext): AnyElysia {
      const shared = {
        ...(options.tags ? { tags: options.tags } : {}),
        ...(options.permissions ? { permissions: options.permissions } : {}),
      };
      const seed = configRoutes(context.get<ConfigManager>(CONFIG_KEY), { prefix, ...shared });
      if (!chap) return seed;
      return new Elysia().use(seed).use(chapConfigRoutes(context.get<ConfigManager>(CHAP_CONFIG_KEY), shared));
    },
  };
}
