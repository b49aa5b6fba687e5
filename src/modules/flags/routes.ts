import type { AnyElysia } from "elysia";
import { crudRouter } from "../../http/crud/crud-router.ts";
import { FLAGS_PERMISSION } from "./key.ts";
import type { FlagManager } from "./manager.ts";

export { FLAGS_PERMISSION };

/** Options of {@link flagsRoutes}. */
export interface FlagsRoutesOptions {
  /** Path prefix (default `/api/v1/flags`). */
  prefix?: string;
  /** OpenAPI tags (default `["flags"]`). */
  tags?: string[];
}

/**
 * The flag routes: generic CRUD under `/api/v1/flags` (list queries, ETags,
 * bulk operations). Every route, reads included, needs `flags:admin` when
 * auth is on, so viewers and editors cannot read or change flags.
 */
export function flagsRoutes(manager: FlagManager, options: FlagsRoutesOptions = {}): AnyElysia {
  return crudRouter({
    prefix: options.prefix ?? "/api/v1/flags",
    manager,
    tags: options.tags ?? ["flags"],
    entityName: "flag",
    access: { read: FLAGS_PERMISSION, write: FLAGS_PERMISSION },
  });
}
