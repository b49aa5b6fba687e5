import type { AnyElysia } from "elysia";
import { type CrudPermissions, crudRouter } from "../../http/crud/crud-router.ts";
import { bareConfigSchema } from "./chap-schema.ts";
import type { ConfigManager } from "./manager.ts";

/** The route prefix of configs in the chap profile (chapkit 1.x, plural). */
export const CHAP_CONFIG_PREFIX = "/api/v1/configs";

/** Options of {@link chapConfigRoutes}. */
export interface ChapConfigRoutesOptions {
  /** Route prefix (default `/api/v1/configs`). */
  prefix?: string;
  /** OpenAPI tags (default `["configs"]`). */
  tags?: string[];
  /** Which generic routes exist. */
  permissions?: CrudPermissions;
}

/**
 * The config routes of the chap profile (contract-chapcore §5): the same
 * CRUD as the seed path over the same table, with `tags`, duplicate names,
 * reserved fields always in `data`, `$stats`, a `$schema` that answers the
 * bare config schema, and a `DELETE` that removes linked artifact trees.
 */
export function chapConfigRoutes(manager: ConfigManager, options: ChapConfigRoutesOptions = {}): AnyElysia {
  return crudRouter({
    prefix: options.prefix ?? CHAP_CONFIG_PREFIX,
    manager,
    tags: options.tags ?? ["configs"],
    entityName: "config",
    ...(options.permissions ? { permissions: options.permissions } : {}),
    schemaDocument: bareConfigSchema(manager.dataSchema),
    stats: true,
  });
}
