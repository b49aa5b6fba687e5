import type { ServiceContext, ServiceModule } from "../../http/module.ts";
import { FLAGS_KEY } from "./key.ts";
import { FlagManager } from "./manager.ts";
import { flagsRoutes } from "./routes.ts";
import { createFlagRepository, FLAGS_MIGRATIONS } from "./store.ts";

export { FLAG_VARIABLES, type FlagSubject, rolloutBucket } from "./evaluate.ts";
export { FlagManager, type FlagManagerOptions } from "./manager.ts";
export { FLAGS_PERMISSION, flagsRoutes, type FlagsRoutesOptions } from "./routes.ts";
export { type FlagRecord, flagsTable } from "./schema.ts";

export { FLAGS_KEY } from "./key.ts";

/** Options of {@link flagsModule}. */
export interface FlagsModuleOptions {
  /** Path prefix (default `/api/v1/flags`). */
  prefix?: string;
  /** How long (ms) evaluations trust the in-memory copy before re-reading the table (default 1000); bounds how late other instances see a change. */
  cacheTtlMs?: number;
}

/**
 * The feature-flags module (name and provided key `flags`): the `flags`
 * table, admin-only CRUD under `/api/v1/flags`, and a {@link FlagManager}
 * (`service.chapkit.get("flags")`) whose `enabled(name, { key, user, request })`
 * code calls. The in-memory copy is re-read after `cacheTtlMs` and on reload (SIGHUP).
 */
export function flagsModule(options: FlagsModuleOptions = {}): ServiceModule {
  let manager: FlagManager | undefined;
  return {
    name: "flags",
    provides: [FLAGS_KEY],
    migrations: FLAGS_MIGRATIONS,
    setup(context: ServiceContext): void {
      manager = new FlagManager({
        repository: createFlagRepository(context.db),
        ...(options.cacheTtlMs === undefined ? {} : { cacheTtlMs: options.cacheTtlMs }),
        events: { bus: context.events, collection: "flags" },
      });
      context.provide<FlagManager>(FLAGS_KEY, manager);
    },
    routes(context: ServiceContext) {
      return flagsRoutes(context.get<FlagManager>(FLAGS_KEY), options.prefix === undefined ? {} : { prefix: options.prefix });
    },
  };
}
