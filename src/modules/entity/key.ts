// How an entity's manager is found in the service context, apart from the
// module's code so the lifecycle reaches managers without loading CRUD routes.
import type { EntityDefinition } from "../../core/entity-definition.ts";
import type { ServiceContext } from "../../http/module.ts";
import type { EntityManager } from "./manager.ts";

/** The key an entity's manager is provided under: `entity:<table>`. */
export function entityKey(definition: EntityDefinition): string {
  return `entity:${definition.table.name}`;
}

/** The manager of an installed entity, typed by its definition. @throws {Error} when the entity is not installed. */
export function entityManagerOf<D extends EntityDefinition>(context: ServiceContext, definition: D): EntityManager<D> {
  return context.get<EntityManager<D>>(entityKey(definition));
}
