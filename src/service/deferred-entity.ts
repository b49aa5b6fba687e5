import type { EntityDefinition } from "../core/entity-definition.ts";
import { checkEntityOptions } from "../modules/entity/check-options.ts";
import { entityKey } from "../modules/entity/key.ts";
import type { EntityOptions } from "../modules/entity/mod.ts";
import { type DeferredModule, deferredModule } from "./deferred-module.ts";

/**
 * An entity's module whose code (CRUD routes, list queries, import and
 * export) is imported at build: a service without entities never loads it.
 * Its options are checked now, so `withEntity` refuses a bad one at once.
 *
 * @throws {TypeError} for partition or shard options that cannot fit the table.
 */
export function deferredEntityModule<D extends EntityDefinition>(definition: D, options: EntityOptions<D> = {}): DeferredModule {
  checkEntityOptions(definition, options);
  return deferredModule(
    { name: entityKey(definition), requires: options.requires ?? [] },
    async () => (await import("../modules/entity/mod.ts")).entityModule(definition, options),
  );
}
