import type { EntityDefinition, EntityInputOf, EntityRecordOf } from "../../core/entity-definition.ts";
import { Manager, type ManagerEvents, type ManagerHooks } from "../../core/manager.ts";
import type { Repository } from "../../core/repository.ts";
import type { Driver } from "../../db/driver.ts";
import { createRepository } from "../../db/repository.ts";

/** The manager of an entity defined with `defineEntity`: its record, input and output types come from the definition. */
export type EntityManager<D extends EntityDefinition> = Manager<EntityRecordOf<D>, D["input"], D["output"]>;

/** Lifecycle hooks of an entity's manager, typed by its definition. */
export type EntityHooks<D extends EntityDefinition> = ManagerHooks<EntityRecordOf<D>, EntityInputOf<D>>;

/** Options of {@link createEntityManager}. */
export interface EntityManagerOptions<D extends EntityDefinition> {
  /** Lifecycle hooks. */
  hooks?: EntityHooks<D>;
  /** Publishes `entity.*` events of committed writes (a service uses `context.events` and the table name). */
  events?: ManagerEvents;
}

/**
 * The manager of an entity on a store (migrated with
 * `tableMigration(definition.table)`), for use without a service: scripts,
 * tests, jobs. A service made with `withEntity` builds its own. The third
 * argument is the hooks, or `{ hooks, events }`.
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
  options: EntityHooks<D> | EntityManagerOptions<D> = {},
): EntityManager<D> {
  return entityManagerOn(createRepository<EntityRecordOf<D>>(db, definition.table), definition, options);
}

/** The manager of an entity over a repository of its table (a cached one, a sharded one…). */
export function entityManagerOn<D extends EntityDefinition>(
  repository: Repository<EntityRecordOf<D>>,
  definition: D,
  options: EntityHooks<D> | EntityManagerOptions<D> = {},
): EntityManager<D> {
  const { hooks, events } = isManagerOptions(options) ? options : { hooks: options, events: undefined };
  return new Manager<EntityRecordOf<D>, D["input"], D["output"]>({
    repository,
    input: definition.input,
    output: definition.output,
    ...(hooks ? { hooks } : {}),
    ...(events ? { events } : {}),
  });
}

const HOOK_NAMES = ["beforeCreate", "afterCreate", "beforeUpdate", "afterUpdate", "beforeDelete", "afterDelete"];

function isManagerOptions<D extends EntityDefinition>(value: EntityHooks<D> | EntityManagerOptions<D>): value is EntityManagerOptions<D> {
  return ("hooks" in value || "events" in value) && !HOOK_NAMES.some((name) => name in value);
}
