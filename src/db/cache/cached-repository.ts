import type { EntityRecord, TableDefinition } from "../../core/entity.ts";
import type { Driver } from "../driver.ts";
import type { Filter, ListQuery } from "../../core/query/model.ts";
import type { InsertValues, Repository, TransactionOptions, UpdateValues, WriteCondition } from "../../core/repository.ts";
import { rowVersionOf, type SqlRepository, withRowVersion } from "../repository.ts";
import type { TableCache } from "./table-cache.ts";

type Cached = [record: EntityRecord, version: number | undefined];

function pack(record: EntityRecord): Cached {
  return [{ ...record }, rowVersionOf(record)];
}

function unpack<R extends EntityRecord>([record, version]: Cached, inner: SqlRepository<R>): R {
  const copy = withRowVersion({ ...record } as R, version ?? undefined);
  return inner.table.relations ? inner.attachLoader(copy) : copy;
}

/**
 * A repository whose reads by id, lists and counts are served from a
 * {@link TableCache}, and whose every write invalidates what it affects once
 * its transaction has ended: the row's entry (by id) and the table's lists
 * and counts (any write may change them), on this instance and, through the
 * cache's bus, on the others. Reads inside a transaction go to the store, so
 * a transaction sees its own writes. Writes that bypass the repository (raw
 * SQL) are not seen: they wait for the entries' time to live.
 */
export class CachedRepository<R extends EntityRecord> implements Repository<R> {
  /** The repository that reads and writes the store. */
  readonly inner: SqlRepository<R>;
  /** The table's cache. */
  readonly cache: TableCache;

  /** Puts `cache` in front of `inner`. */
  constructor(inner: SqlRepository<R>, cache: TableCache) {
    this.inner = inner;
    this.cache = cache;
  }

  /** The table definition (list routes read it). */
  get table(): TableDefinition {
    return this.inner.table;
  }

  /** The store. */
  get db(): Driver {
    return this.inner.db;
  }

  #bypass(): boolean {
    return this.inner.db.inTransaction?.() === true;
  }

  async findById(id: string): Promise<R | null> {
    if (this.#bypass()) return this.inner.findById(id);
    const lookup = await this.cache.row<Cached>(id);
    if (lookup.hit) return unpack<R>(lookup.value, this.inner);
    const record = await this.inner.findById(id);
    if (record) await lookup.fill(pack(record));
    return record;
  }

  async findMany(query: ListQuery = {}): Promise<R[]> {
    if (!this.cache.lists || this.#bypass()) return this.inner.findMany(query);
    const lookup = await this.cache.query<Cached[]>("l", JSON.stringify(query));
    if (lookup.hit) return lookup.value.map((entry) => unpack<R>(entry, this.inner));
    const records = await this.inner.findMany(query);
    await lookup.fill(records.map(pack));
    return records;
  }

  async count(query?: Pick<ListQuery, "filter" | "search">): Promise<number> {
    if (!this.cache.lists || this.#bypass()) return this.inner.count(query);
    const lookup = await this.cache.query<number>("c", JSON.stringify(query ?? {}));
    if (lookup.hit) return lookup.value;
    const total = await this.inner.count(query);
    await lookup.fill(total);
    return total;
  }

  /** Streams from the store (never cached: a stream is for more rows than a cache holds). */
  stream(query?: ListQuery, options?: { batchSize?: number }): AsyncIterable<R> {
    return this.inner.stream(query, options);
  }

  /** See {@link SqlRepository.include} (read from the store). */
  include(records: readonly R[], names: readonly string[]): Promise<void> {
    return this.inner.include(records, names);
  }

  exists(id: string): Promise<boolean> {
    return this.inner.exists(id);
  }

  /** Runs a write, then invalidates `ids` after the transaction it ran in (failed writes too: cheap and safe). */
  async #write<T>(ids: readonly string[] | "all", write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } finally {
      const db = this.inner.db;
      const invalidate = () => this.cache.invalidate(ids);
      await (db.afterTransaction ? db.afterTransaction(invalidate) : invalidate());
    }
  }

  insert(values: InsertValues<R>): Promise<R> {
    return this.#write([], () => this.inner.insert(values));
  }

  insertMany(values: InsertValues<R>[]): Promise<R[]> {
    return this.#write([], () => this.inner.insertMany(values));
  }

  update(id: string, values: UpdateValues<R>, condition?: WriteCondition): Promise<R | null> {
    return this.#write([id], () => this.inner.update(id, values, condition));
  }

  upsert(values: InsertValues<R> & { id: string }): Promise<{ record: R; created: boolean }> {
    return this.#write([values.id], () => this.inner.upsert(values));
  }

  /** See {@link SqlRepository.claim}. */
  claim(id: string, condition: WriteCondition): Promise<void> {
    return this.#write([id], () => this.inner.claim(id, condition));
  }

  delete(id: string, condition?: WriteCondition): Promise<boolean> {
    return this.#write([id], () => this.inner.delete(id, condition));
  }

  deleteMany(target: string[] | Filter): Promise<number> {
    return this.#write(Array.isArray(target) ? target : "all", () => this.inner.deleteMany(target));
  }

  transaction<T>(fn: (repository: Repository<R>) => Promise<T>, options?: TransactionOptions): Promise<T> {
    return this.inner.db.transaction(() => fn(this), options);
  }
}
