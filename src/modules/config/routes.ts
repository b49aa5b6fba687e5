import type { AnyElysia } from "elysia";
import { type CrudPermissions, crudRouter } from "../../http/crud/crud-router.ts";
import type { ConfigManager } from "./manager.ts";

/** Options of {@link configRoutes}. */
export interface ConfigRoutesOptions {
  /** Route prefix, e.g. `/api/v1/config`. */
  prefix: string;
  /** OpenAPI tags (default `["config"]`). */
  tags?: string[];
  /** Which generic routes exist. */
  permissions?: CrudPermissions;
}

/**
 * The config routes (contract §6–§7): CRUD with upsert by id, opt-in
 * pagination, and `$schema` answering `ConfigOut` with the config schema
 * under `$defs`.
 */
export function configRoutes(manager: ConfigManager, options: ConfigRoutesOptions): AnyElysia {
  return crudRouter({
    prefix: options.prefix,
    manager,
    tags: options.tags ?? ["config"],
    entityName: "config",
    ...(options.permissions ? { permissions: options.permissions } : {}),
    nestedSchemas: { data: manager.dataSchema },
  });
}
