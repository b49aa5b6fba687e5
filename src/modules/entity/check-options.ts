// The checks of an entity's storage options, apart from the module so that
// `withEntity` refuses a bad option at once while the module loads at build.
import type { EntityDefinition } from "../../core/entity-definition.ts";
import type { Migration } from "../../db/migration.ts";
import type { PartitionPolicy } from "../../db/partitions.ts";
import type { EntityOptions } from "./mod.ts";

/** No migration on the service's database for a sharded table, once its options are known to fit. @throws {TypeError} otherwise. */
export function shardable<D extends EntityDefinition>(definition: D, options: EntityOptions<D>): Migration[] {
  const name = definition.table.name;
  if (options.cache || options.partition) throw new TypeError(`Table ${name} is sharded: it takes neither cache nor partition`);
  if (!options.shards || options.shards.urls.length === 0) throw new TypeError(`Table ${name} is sharded over no database: give shards.urls`);
  if (!(options.shards.key in definition.table.columns)) throw new TypeError(`Cannot shard ${name} by ${options.shards.key}: it has no such column`);
  return [];
}

/** The policy, once the table is known to be partitionable. @throws {TypeError} for a unique column or an unknown time column. */
export function partitionable(definition: EntityDefinition, policy: PartitionPolicy): PartitionPolicy {
  const table = definition.table;
  const column = policy.column ?? "created_at";
  if (column !== "created_at" && column !== "updated_at" && !(column in table.columns)) {
    throw new TypeError(`Cannot partition ${table.name} by ${column}: it has no such column`);
  }
  const unique = [...Object.entries(table.columns).filter(([, c]) => c.unique).map(([name]) => name), ...(table.indexes ?? []).filter((i) => i.unique).map((i) => i.columns.join(", "))];
  if (unique.length > 0) throw new TypeError(`Cannot partition ${table.name}: a partitioned table cannot keep its unique ${unique.join("; ")} (it would have to include ${column})`);
  return policy;
}

/** Checks an entity's partition and shard options as `entityModule` would. @throws {TypeError} for options that cannot fit the table. */
export function checkEntityOptions<D extends EntityDefinition>(definition: D, options: EntityOptions<D>): void {
  if (options.partition) partitionable(definition, options.partition);
  if (options.shards) shardable(definition, options);
}
