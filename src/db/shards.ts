import type { EntityRecord, TableDefinition } from "../core/entity.ts";
import { BadRequestError, InvalidQueryError } from "../core/errors.ts";
import type { Filter, ListQuery, SortKey } from "../core/query/model.ts";
import type { InsertValues, Repository, TransactionOptions, UpdateValues, WriteCondition } from "../core/repository.ts";
import type { Driver } from "./driver.ts";
import { migrate } from "./migrate.ts";
import type { Migration } from "./migration.ts";
import { createRepository, type SqlRepository } from "./repository.ts";

const UTF8 = new TextEncoder();

/** FNV-1a (32 bit) of a key's UTF-8 bytes: stable across runtimes and versions, so rows never move by themselves. */
export function shardHash(key: string): number {
  const bytes = UTF8.encode(key);
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    hash ^= bytes[i]!;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** A {@link ShardMap} as stored or shown: which shard serves each hash bucket. */
export interface ShardMapJson {
  /** The shards' names, in order. */
  shards: string[];
  /** The shard index of each bucket (its length is the number of buckets). */
  buckets: number[];
}

/**
 * Which shard holds a key: the key's hash picks one of a fixed number of
 * buckets, and the map assigns each bucket to a shard (round robin unless
 * given). Moving a bucket to another shard (after copying its rows) is a
 * change of the map, not of the hash; keep the map with the service's
 * configuration.
 */
export class ShardMap {
  readonly #shards: string[];
  readonly #buckets: number[];

  /** A map of `shards` over `buckets` buckets (default 64), or the given bucket assignment. */
  constructor(shards: readonly string[], options: { buckets?: number; assignment?: readonly number[] } = {}) {
    if (shards.length === 0) throw new TypeError("A shard map needs at least one shard");
    this.#shards = [...shards];
    const assignment = options.assignment ?? Array.from({ length: options.buckets ?? 64 }, (_, i) => i % shards.length);
    if (assignment.length === 0) throw new TypeError("A shard map needs at least one bucket");
    for (const shard of assignment) {
      if (!Number.isInteger(shard) || shard < 0 || shard >= shards.length) throw new TypeError(`Shard map bucket points at shard ${shard}, which does not exist`);
    }
    this.#buckets = [...assignment];
  }

  /** The shards' names. */
  get shards(): readonly string[] {
    return this.#shards;
  }

  /** The index of the shard that holds `key`. */
  shardOf(key: string | number): number {
    return this.#buckets[shardHash(String(key)) % this.#buckets.length]!;
  }

  /** The map as JSON (see {@link ShardMapJson}). */
  toJSON(): ShardMapJson {
    return { shards: [...this.#shards], buckets: [...this.#buckets] };
  }
}

/** One page of a cross-shard list and the cursor of the next. */
export interface ShardPage<R> {
  /** The rows, in the query's order. */
  items: R[];
  /** Pass as `cursor` for the next page; null on the last page. */
  next_cursor: string | null;
}

function encodeCursor(after: { values: unknown[]; id: string }): string {
  return btoa(JSON.stringify([after.values, after.id])).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function decodeCursor(cursor: string): { values: unknown[]; id: string } {
  try {
    const [values, id] = JSON.parse(atob(cursor.replace(/-/g, "+").replace(/_/g, "/"))) as [unknown, unknown];
    if (Array.isArray(values) && typeof id === "string") return { values, id };
  } catch { /* reported below */ }
  throw new InvalidQueryError("Invalid cursor: pass the next_cursor of the previous page");
}

/** Compares two rows as the stores order them: sort keys then `id`; NULLs first ascending, last descending; text by code point. */
function comparator(sort: readonly SortKey[]): (a: Record<string, unknown>, b: Record<string, unknown>) => number {
  const keys: SortKey[] = [];
  for (const key of sort) {
    keys.push(key);
    if (key.field === "id") break;
  }
  if (!keys.some((key) => key.field === "id")) keys.push({ field: "id", direction: "asc" });
  return (a, b) => {
    for (const { field, direction } of keys) {
      const x = a[field];
      const y = b[field];
      let order = 0;
      if (x === y) order = 0;
      else if (x === null || x === undefined) order = -1;
      else if (y === null || y === undefined) order = 1;
      else if (typeof x === "number" && typeof y === "number") order = x - y;
      else if (typeof x === "boolean" && typeof y === "boolean") order = Number(x) - Number(y);
      else order = String(x) < String(y) ? -1 : String(x) > String(y) ? 1 : 0;
      if (order !== 0) return direction === "desc" ? -order : order;
    }
    return 0;
  };
}

/** The value the filter pins the shard key to (`key = v` at the top or inside a top-level AND), if any. */
function pinnedKey(filter: Filter | undefined, key: string): string | number | undefined {
  if (!filter) return undefined;
  if (filter.kind === "compare" && filter.field === key && filter.op === "eq" && (typeof filter.value === "string" || typeof filter.value === "number")) {
    return filter.value;
  }
  if (filter.kind === "and") {
    for (const item of filter.items) {
      const value = pinnedKey(item, key);
      if (value !== undefined) return value;
    }
  }
  return undefined;
}

/** Options of {@link ShardedRepository}. */
export interface ShardedTableOptions {
  /** The column whose value picks the shard (e.g. `tenant_id`, `site`); every row must have one, and it never changes. */
  key: string;
  /** The shard map (default: round robin of 64 buckets over the drivers). */
  map?: ShardMap;
}

/**
 * One table split over several databases by a key column: writes go to
 * the shard the key's hash picks ({@link ShardMap}); reads that pin the key
 * (`key = v`) ask one shard, others ask every shard at once and merge the
 * rows in the query's order, and {@link ShardedRepository.page} pages
 * across shards with a cursor (each shard continues after the cursor's
 * row: no offsets, so page N costs what page 1 costs). Reads by id without
 * the key ask every shard. Transactions stay within one shard
 * ({@link ShardedRepository.forKey}).
 */
export class ShardedRepository<R extends EntityRecord> implements Repository<R> {
  readonly #table: TableDefinition;
  readonly #key: string;
  readonly #map: ShardMap;
  readonly #shards: SqlRepository<R>[];

  /** The table on each driver (the same tables: run {@link ShardedRepository.migrate} first). */
  constructor(drivers: readonly Driver[], table: TableDefinition, options: ShardedTableOptions) {
    if (!(options.key in table.columns)) throw new TypeError(`Cannot shard ${table.name} by ${options.key}: it has no such column`);
    this.#map = options.map ?? new ShardMap(drivers.map((_, i) => `shard${i}`));
    if (this.#map.shards.length !== drivers.length) {
      throw new TypeError(`The shard map names ${this.#map.shards.length} shards but ${drivers.length} databases were given`);
    }
    this.#table = table;
    this.#key = options.key;
    this.#shards = drivers.map((driver) => createRepository<R>(driver, table));
  }

  /** The table's definition (list routes read its columns). */
  get table(): TableDefinition {
    return this.#table;
  }

  /** The shard map. */
  get map(): ShardMap {
    return this.#map;
  }

  /** Applies `migrations` to every shard (each run is the usual one-transaction migration). */
  async migrate(migrations: readonly Migration[]): Promise<void> {
    await Promise.all(this.#shards.map((shard) => migrate(shard.db, migrations)));
  }

  /** The repository of the shard that holds `key`: transactions there are the shard's own. */
  forKey(key: string | number): SqlRepository<R> {
    return this.#shards[this.#map.shardOf(key)]!;
  }

  #keyOf(values: Record<string, unknown>): string | number {
    const key = values[this.#key];
    if (typeof key !== "string" && typeof key !== "number") {
      throw new BadRequestError(`${this.#table.name} is sharded by ${this.#key}: every row needs a ${this.#key} (a string or a number)`);
    }
    return key;
  }

  /** The shards a query must ask: the one its filter pins, or all. */
  #targets(filter: Filter | undefined): SqlRepository<R>[] {
    const key = pinnedKey(filter, this.#key);
    return key === undefined ? this.#shards : [this.forKey(key)];
  }

  #checkSort(sort: readonly SortKey[] | undefined): void {
    for (const key of sort ?? []) {
      if (key.field !== "id" && key.field !== "created_at" && key.field !== "updated_at" && !(key.field in this.#table.columns)) {
        throw new InvalidQueryError(`A sharded list sorts by columns only; ${JSON.stringify(key.field)} is not a column of ${this.#table.name}`);
      }
    }
  }

  async findById(id: string): Promise<R | null> {
    const found = await Promise.all(this.#shards.map((shard) => shard.findById(id)));
    return found.find((row) => row !== null) ?? null;
  }

  async findMany(query: ListQuery = {}): Promise<R[]> {
    this.#checkSort(query.sort);
    const targets = this.#targets(query.filter);
    if (targets.length === 1) return targets[0]!.findMany(query);
    const offset = query.offset ?? 0;
    // Each shard answers the first offset + limit rows; the merged page is a slice of their union.
    const perShard = query.limit === undefined ? {} : { limit: offset + query.limit };
    const { offset: _offset, limit: _limit, ...rest } = query;
    const rows = (await Promise.all(targets.map((shard) => shard.findMany({ ...rest, ...perShard })))).flat();
    rows.sort(comparator(query.sort ?? []) as (a: R, b: R) => number);
    return rows.slice(offset, query.limit === undefined ? undefined : offset + query.limit);
  }

  /**
   * One page of rows in the query's order across every shard (or the one the
   * filter pins), continuing after `cursor`: each shard returns at most
   * `limit` rows after the cursor's row, and the merge keeps the first
   * `limit`.
   */
  async page(query: Pick<ListQuery, "filter" | "sort" | "search"> & { limit: number; cursor?: string | null }): Promise<ShardPage<R>> {
    this.#checkSort(query.sort);
    const limit = Math.max(1, Math.floor(query.limit));
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const shardQuery: ListQuery = {
      ...(query.filter ? { filter: query.filter } : {}),
      ...(query.sort ? { sort: query.sort } : {}),
      ...(query.search ? { search: query.search } : {}),
      ...(after ? { after } : {}),
      limit: limit + 1,
    };
    const rows = (await Promise.all(this.#targets(query.filter).map((shard) => shard.findMany(shardQuery)))).flat();
    rows.sort(comparator(query.sort ?? []) as (a: R, b: R) => number);
    const items = rows.slice(0, limit);
    const last = items.at(-1) as Record<string, unknown> | undefined;
    const more = rows.length > limit;
    const sort = query.sort ?? [];
    return {
      items,
      next_cursor: more && last ? encodeCursor({ values: sort.map((key) => last[key.field] ?? null), id: String(last.id) }) : null,
    };
  }

  async count(query: Pick<ListQuery, "filter" | "search"> = {}): Promise<number> {
    const counts = await Promise.all(this.#targets(query.filter).map((shard) => shard.count(query)));
    return counts.reduce((sum, n) => sum + n, 0);
  }

  async exists(id: string): Promise<boolean> {
    return (await Promise.all(this.#shards.map((shard) => shard.exists(id)))).some(Boolean);
  }

  async insert(values: InsertValues<R>): Promise<R> {
    return await this.forKey(this.#keyOf(values as Record<string, unknown>)).insert(values);
  }

  async insertMany(values: InsertValues<R>[]): Promise<R[]> {
    const groups = new Map<number, { index: number; value: InsertValues<R> }[]>();
    values.forEach((value, index) => {
      const shard = this.#map.shardOf(this.#keyOf(value as Record<string, unknown>));
      groups.set(shard, [...(groups.get(shard) ?? []), { index, value }]);
    });
    const out: R[] = new Array(values.length);
    // Each shard's rows go in one statement (or one transaction); shards do not share a transaction.
    await Promise.all([...groups].map(async ([shard, items]) => {
      const rows = await this.#shards[shard]!.insertMany(items.map((item) => item.value));
      rows.forEach((row, i) => (out[items[i]!.index] = row));
    }));
    return out;
  }

  /** The shard that holds the row `id` (asked of every shard), or undefined. */
  async #holder(id: string): Promise<SqlRepository<R> | undefined> {
    const found = await Promise.all(this.#shards.map((shard) => shard.exists(id)));
    return this.#shards[found.indexOf(true)];
  }

  async update(id: string, values: UpdateValues<R>, condition?: WriteCondition): Promise<R | null> {
    const shard = await this.#holder(id);
    if (!shard) return null;
    const key = (values as Record<string, unknown>)[this.#key];
    if (key !== undefined && this.#shards[this.#map.shardOf(this.#keyOf(values as Record<string, unknown>))] !== shard) {
      throw new BadRequestError(`${this.#key} picks the shard of a ${this.#table.name} row and cannot change to a value of another shard`);
    }
    return shard.update(id, values, condition);
  }

  async upsert(values: InsertValues<R> & { id: string }): Promise<{ record: R; created: boolean }> {
    const shard = await this.#holder(values.id);
    const target = this.forKey(this.#keyOf(values as Record<string, unknown>));
    if (shard && shard !== target) {
      throw new BadRequestError(`${this.#key} picks the shard of a ${this.#table.name} row and cannot change to a value of another shard`);
    }
    return target.upsert(values);
  }

  async delete(id: string, condition?: WriteCondition): Promise<boolean> {
    const shard = await this.#holder(id);
    return shard ? shard.delete(id, condition) : false;
  }

  async deleteMany(target: string[] | Filter): Promise<number> {
    const shards = Array.isArray(target) ? this.#shards : this.#targets(target);
    const counts = await Promise.all(shards.map((shard) => shard.deleteMany(target)));
    return counts.reduce((sum, n) => sum + n, 0);
  }

  /** Refused: a transaction cannot span databases. Use `forKey(key).transaction(…)` for one shard's rows. */
  transaction<T>(_fn: (repository: Repository<R>) => Promise<T>, _options?: TransactionOptions): Promise<T> {
    return Promise.reject(
      new BadRequestError(`${this.#table.name} is sharded: a transaction cannot span its databases; run it on one shard with forKey(${this.#key})`),
    );
  }
}
