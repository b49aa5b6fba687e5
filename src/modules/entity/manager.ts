import type { EntityDefinition, EntityInputOf, EntityRecordOf } from "../../core/entity-definition.ts";
import { Manager, type ManagerHooks } from "../../core/manager.ts";
import type { Repository } from "../../core/repository.ts";
import type { Driver } from "../../db/driver.ts";
import { createRepository } from "../../db/repository.ts";

/** The manager of an entity defined with `defineEntity`: its record, input and output types come from the definition. */
export type EntityManager<D extends EntityDefinition> = Manager<EntityRecordOf<D>, D["input"], D["output"]>;

/** Lifecycle hooks of an entity's manager, typed by its definition. */
export type EntityHooks<D extends EntityDefinition> = ManagerHooks<EntityRecordOf<D>, EntityInputOf<D>>;

/**
 * The manager of an entity on a store (migrated with
 * `tableMigration(definition.table)`), for use without a service: scripts,
 * tests, jobs. A service made with `withEntity` builds its own.
 *
 * @example
 * ```ts ignore
 * const notes = createEntityManager(db, Note);
 * const note = await notes.create({ title: "hello" }); // typed as Note's output
 * ```
 */
export function createEntityManager<D extends EntityDefinition>(
  db: Driver,
  definition: D,
  hooks?: EntityHooks<D>,
): EntityManager<D> {
  return entityManagerOn(createRepository<EntityRecordOf<D>>(db, definition.table), definition, hooks);
}

/** The manager of an entity over a repository of its table (a cached one, a sharded one…). */
export function entityManagerOn<D extends EntityDefinition>(
  repository: Repository<EntityRecordOf<D>>,
  definition: D,
  hooks?: EntityHooks<D>,
): EntityManager<D> {
  return new Manager<EntityRecordOf<D>, D["input"], D["output"]>({
    repository,
    input: definition.input,
    output: definition.output,
    ...(hooks ? { hooks } : {}),
  });
}
