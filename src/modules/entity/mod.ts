/**
 * A user's own entity as one module: the table's migration, the manager
 * (provided under {@link entityKey}) and the CRUD routes with every list
 * feature, all from one `defineEntity` definition. `builder.withEntity(...)`
 * installs it.
 *
 * @module
 */
import type { AnyElysia } from "elysia";
import type { EntityDefinition, EntityRecordOf } from "../../core/entity-definition.ts";
import { entityTableMigrations, searchQueueMigration } from "../../db/table-migration.ts";
import type { RoutePermission } from "../../http/auth-guard-permissions.ts";
import { type CrudPermissions, crudRouter } from "../../http/crud/crud-router.ts";
import type { Operation } from "../../http/crud/operation.ts";
import type { ListRouteOptions } from "../../http/list-query-route.ts";
import type { LinkOptions } from "../../http/links.ts";
import { registerSubscribable } from "../../http/realtime/collections.ts";
import type { ServiceContext, ServiceModule } from "../../http/module.ts";
import { CachedRepository } from "../../db/cache/cached-repository.ts";
import { ShardedRepository, type ShardMap } from "../../db/shards.ts";
import { openDatabase } from "../../db/open.ts";
import type { Driver } from "../../db/driver.ts";
import { partitionMigration, type PartitionPolicy, Partitions, PARTITIONS_KEY } from "../../db/partitions.ts";
import { QUERY_CACHE_KEY, type QueryCache } from "../../db/cache/query-cache.ts";
import type { TableCacheOptions } from "../../db/cache/table-cache.ts";
import { createRepository } from "../../db/repository.ts";
import type { Repository } from "../../core/repository.ts";
import { ROW_ACCESS_KEY } from "../../http/row-access-key.ts";
import type { RowAccess } from "../../http/row-policy.ts";
import { type EntityHooks, type EntityManager, entityManagerOn } from "./manager.ts";
import { entityKey, entityManagerOf } from "./key.ts";
import { partitionable, shardable } from "./check-options.ts";

export { entityKey, entityManagerOf } from "./key.ts";

/** What `withEntity` takes besides the definition; every key is optional. */
export interface EntityOptions<D extends EntityDefinition> {
  /** Route prefix (default `/api/v1/<table>`). */
  prefix?: string;
  /** OpenAPI tags (default `[<table>]`). */
  tags?: string[];
  /** Which generic routes exist (all by default); bulk routes follow them. */
  permissions?: CrudPermissions;
  /**
   * What the auth guard requires when `withAuth` is on (default by
   * convention: `<table>:read` for reads, `<table>:write` for the rest).
   */
  access?: { read?: RoutePermission; write?: RoutePermission };
  /** Manager hooks, typed by the definition; a `before*` hook may change the input or refuse by throwing. */
  hooks?: EntityHooks<D>;
  /** List settings (page size limits, cursor secret, sortable fields…); `false` leaves only plain pagination. */
  list?: ListRouteOptions | false;
  /** `$bulk-create`, `$bulk-update` and `$bulk-delete` (default true). */
  bulk?: boolean;
  /** Extra operations on the collection: `{prefix}/$name`. */
  collectionOperations?: Operation[];
  /** Extra operations on one record: `{prefix}/{id}/$name`. */
  entityOperations?: Operation[];
  /** Modules that must be installed first (for foreign keys to their tables). */
  requires?: string[];
  /**
   * RFC 8288 `Link` headers (on by default), related collections of an item,
   * and `body: true` for a `_links` member in item bodies and page envelopes;
   * `false` turns links off.
   */
  links?: LinkOptions | false;
  /**
   * Serve reads by id, lists and counts from the query cache (setting
   * `cache.store`); `true` takes the defaults (60 s, 10 000 entries). Every
   * write through the manager invalidates what it affects, on every instance.
   */
  cache?: boolean | TableCacheOptions;
  /** `false`: writes publish no `entity.*` events (per-collection opt-out; default true). */
  events?: boolean;
  /**
   * Range-partition the table by time on PostgreSQL (by `created_at`
   * unless `column` says otherwise), with partitions created ahead and
   * dropped by `retention`; SQLite deletes rows past retention instead. The
   * table may have no unique column besides `id` (see docs/database.md).
   */
  partition?: PartitionPolicy;
  /**
   * Split the table over several databases by a key column (see
   * `ShardedRepository`): every row needs its key, lists are merged across
   * the databases in order, and bulk operations (one transaction) are
   * refused. The service's own database does not hold the table. Not with
   * `cache` or `partition`.
   */
  shards?: { key: string; urls: readonly string[]; map?: ShardMap };
}

/** An entity installed with `withEntity`, as other modules (GraphQL) find it. */
export interface RegisteredEntity {
  /** The definition its table, schemas and routes were derived from. */
  readonly definition: EntityDefinition;
  /** The manager its routes use (same hooks, same store). */
  readonly manager: EntityManager<EntityDefinition>;
  /** Its REST prefix, e.g. `/api/v1/notes`. */
  readonly prefix: string;
  /** What reading and writing it require under auth (as its routes do). */
  readonly access: { readonly read: RoutePermission; readonly write: RoutePermission };
  /** Its list settings, `false` when lists are plain. */
  readonly list: ListRouteOptions | false;
}

const REGISTRY_KEY = "entity:*";

/** Every entity installed with `withEntity`, in installation order (complete once every module is set up). */
export function registeredEntities(context: ServiceContext): readonly RegisteredEntity[] {
  return context.has(REGISTRY_KEY) ? context.get<RegisteredEntity[]>(REGISTRY_KEY) : [];
}

/**
 * The module of one entity: migrations `entity:<table>` v1 (the table) and v2
 * (its internal `_version` column for atomic `If-Match`), v3 its partitioning
 * when partitioned, v4 its search index kept in batches when searchable
 * (see {@link searchQueueMigration}), its manager under
 * `entity:<table>`, and CRUD routes (create/upsert, list with filters, sort,
 * fields, search, cursors and ETag, `$schema`, get, PUT, PATCH, DELETE with
 * `If-Match`, bulk operations).
 */
export function entityModule<D extends EntityDefinition>(definition: D, options: EntityOptions<D> = {}): ServiceModule {
  const key = entityKey(definition);
  /** The databases of a sharded table, opened in set-up and closed on stop. */
  const shardDrivers: Driver[] = [];
  const prefix = options.prefix ?? `/api/v1/${definition.table.name}`;
  const tableMigrations = [
    ...entityTableMigrations(definition.table, key),
    ...(options.partition ? [partitionMigration(definition.table.name, partitionable(definition, options.partition), key, 3)] : []),
    ...(definition.table.searchable?.length ? [searchQueueMigration(definition.table, key, 4)] : []),
  ];
  return {
    name: key,
    requires: options.requires ?? [],
    migrations: options.shards ? shardable(definition, options) : tableMigrations,
    async stop(): Promise<void> {
      await Promise.all(shardDrivers.splice(0).map((driver) => driver.close()));
    },
    async setup(context: ServiceContext): Promise<void> {
      if (options.partition && context.has(PARTITIONS_KEY)) context.get<Partitions>(PARTITIONS_KEY).add(definition.table.name, options.partition);
      if (options.events === false) context.events.exclude(definition.table.name);
      else registerSubscribable(context, { collection: definition.table.name, prefix, table: definition.table });
      const managerOptions = {
        ...(options.hooks ? { hooks: options.hooks } : {}),
        events: { bus: context.events, collection: definition.table.name },
      };
      const sql = createRepository<EntityRecordOf<D>>(context.db, definition.table);
      let repository: Repository<EntityRecordOf<D>> = sql;
      if (options.shards) {
        for (const url of options.shards.urls) shardDrivers.push(await openDatabase(url));
        const sharded = new ShardedRepository<EntityRecordOf<D>>(shardDrivers, definition.table, {
          key: options.shards.key,
          ...(options.shards.map ? { map: options.shards.map } : {}),
        });
        await sharded.migrate(tableMigrations);
        repository = sharded;
      }
      if (options.cache) {
        const cache = await context.get<QueryCache>(QUERY_CACHE_KEY).table(definition.table.name, options.cache === true ? {} : options.cache);
        repository = new CachedRepository(sql, cache);
      }
      // Under row policies or tenancy, the manager reaches its rows through the caller's scope.
      const access = context.has(ROW_ACCESS_KEY) ? context.get<RowAccess>(ROW_ACCESS_KEY) : undefined;
      if (access) repository = access.guard(repository, definition.table, context.db);
      const manager = entityManagerOn(repository, definition, managerOptions);
      context.provide(key, manager);
      if (!context.has(REGISTRY_KEY)) context.provide<RegisteredEntity[]>(REGISTRY_KEY, []);
      const resource = prefix.split("/").filter(Boolean)[2] ?? definition.table.name;
      context.get<RegisteredEntity[]>(REGISTRY_KEY).push({
        definition,
        manager: manager as unknown as EntityManager<EntityDefinition>,
        prefix,
        access: { read: options.access?.read ?? `${resource}:read`, write: options.access?.write ?? `${resource}:write` },
        list: options.list ?? {},
      });
    },
    routes(context: ServiceContext): AnyElysia {
      return crudRouter({
        prefix,
        manager: entityManagerOf(context, definition),
        tags: options.tags ?? [definition.table.name],
        entityName: definition.name,
        ...(options.permissions ? { permissions: options.permissions } : {}),
        ...(options.access ? { access: options.access } : {}),
        ...(options.list !== undefined ? { list: options.list } : {}),
        ...(options.bulk !== undefined ? { bulk: options.bulk } : {}),
        ...(options.collectionOperations ? { collectionOperations: options.collectionOperations } : {}),
        ...(options.entityOperations ? { entityOperations: options.entityOperations } : {}),
        ...(options.links !== undefined ? { links: options.links } : {}),
      });
    },
  };
}
