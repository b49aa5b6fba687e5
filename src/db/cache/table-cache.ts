import { type CacheInvalidation, type CacheStore, cacheToken } from "../../core/cache.ts";

/** How one table is cached. */
export interface TableCacheOptions {
  /** Milliseconds an entry is served (default 60 000). */
  ttlMs?: number;
  /** Entries kept at most on the memory backend (default 10 000). */
  maxEntries?: number;
  /** Cache list queries and counts too, not only reads by id (default true). */
  lists?: boolean;
}

/** What a lookup found: a hit, or a miss with the function that stores the value read instead. */
export type Lookup<T> = { hit: true; value: T } | { hit: false; fill(value: T): Promise<void> };

// Validity keys: every entry records the tokens it was read under and is served only while they
// are unchanged. A write replaces the tokens it affects after its transaction ends, so an entry
// filled from rows read before the write can never be served afterwards, whatever the timing.
const EPOCH = "e"; // all rows by id (writes whose ids are unknown)
const LISTS = "g"; // every list and count
const rowToken = (id: string) => `v:${id}`;

interface Entry {
  value: unknown;
  tokens: (string | undefined)[];
}

/** Invalidations name ids up to this many; beyond, the whole table. */
const MAX_IDS = 200;

/**
 * The cache of one table on a {@link CacheStore}: lookups by id, lists and
 * counts, validated against tokens that writes replace. `invalidate` is what
 * a write calls; `apply` what another instance's invalidation calls.
 */
export class TableCache {
  /** The table. */
  readonly table: string;
  /** Whether lists and counts are cached. */
  readonly lists: boolean;
  readonly #store: CacheStore;
  readonly #ttlMs: number;
  readonly #publish: ((message: CacheInvalidation) => Promise<void>) | undefined;
  readonly #onLookup: ((hit: boolean) => void) | undefined;
  readonly #onError: ((error: unknown) => void) | undefined;

  /** A table's cache on `store`; `publish` reaches the other instances (needed unless the store is shared). */
  constructor(
    table: string,
    store: CacheStore,
    options: TableCacheOptions & {
      publish?: (message: CacheInvalidation) => Promise<void>;
      onLookup?: (hit: boolean) => void;
      onError?: (error: unknown) => void;
    } = {},
  ) {
    this.table = table;
    this.#store = store;
    this.#ttlMs = Math.max(1, options.ttlMs ?? 60_000);
    this.lists = options.lists !== false;
    this.#publish = store.shared ? undefined : options.publish;
    this.#onLookup = options.onLookup;
    this.#onError = options.onError;
  }

  /** The row with this id. */
  row<T>(id: string): Promise<Lookup<T>> {
    return this.#lookup([EPOCH, rowToken(id)], `r:${id}`);
  }

  /** A list (`l:`) or count (`c:`) under its query's key. */
  query<T>(kind: "l" | "c", key: string): Promise<Lookup<T>> {
    return this.#lookup([LISTS], `${kind}:${key}`);
  }

  async #lookup<T>(tokenKeys: string[], key: string): Promise<Lookup<T>> {
    let values: (unknown | undefined)[];
    try {
      values = await this.#store.getMany([...tokenKeys, key]);
    } catch (error) {
      this.#onError?.(error);
      this.#onLookup?.(false);
      return { hit: false, fill: () => Promise.resolve() };
    }
    const entry = values[tokenKeys.length] as Entry | undefined;
    const tokens = values.slice(0, tokenKeys.length) as (string | undefined)[];
    if (entry && tokens.every((token, i) => token !== undefined && entry.tokens[i] === token)) {
      this.#onLookup?.(true);
      return { hit: true, value: entry.value as T };
    }
    this.#onLookup?.(false);
    return {
      hit: false,
      fill: async (value: T) => {
        try {
          // A token created now makes the entry valid only until the next write; one created by
          // somebody else in between is unknown here, so nothing is stored.
          for (let i = 0; i < tokens.length; i++) {
            if (tokens[i] !== undefined) continue;
            const token = cacheToken();
            if (!(await this.#store.add(tokenKeys[i]!, token, this.#ttlMs * 2))) return;
            tokens[i] = token;
          }
          await this.#store.set(key, { value, tokens } satisfies Entry, this.#ttlMs);
        } catch (error) {
          this.#onError?.(error);
        }
      },
    };
  }

  /**
   * Makes entries a write affects unservable: rows `ids` (or all rows when
   * `ids` is `"all"`; none for an insert, `[]`) plus every list and count;
   * and tells the other instances.
   */
  async invalidate(ids: readonly string[] | "all"): Promise<void> {
    const all = ids === "all" || ids.length > MAX_IDS;
    const message: CacheInvalidation = all ? { namespace: this.table, all: true } : { namespace: this.table, ids: [...ids] };
    await this.apply(message);
    if (this.#publish) {
      await this.#publish(message).catch((error: unknown) => this.#onError?.(error));
    }
  }

  /** Applies an invalidation (this instance's, or another's received over the bus). */
  async apply(message: CacheInvalidation): Promise<void> {
    const keys = message.all ? [EPOCH, LISTS] : [LISTS, ...(message.ids ?? []).map(rowToken)];
    try {
      // Replaced, not deleted: an entry's tokens can then never come back.
      await Promise.all(keys.map((key) => this.#store.set(key, cacheToken(), this.#ttlMs * 2)));
    } catch (error) {
      this.#onError?.(error);
      // A token left in place would keep stale entries servable: drop them as a last resort.
      await this.#store.delete(keys).catch(() => {});
    }
  }
}
