import { LRUCache } from "lru-cache";
import type { CacheBackend, CacheNamespaceOptions, CacheStore } from "../../core/cache.ts";

/** Entries a namespace keeps when its options name no limit. */
const DEFAULT_MAX_ENTRIES = 10_000;

/** One namespace in memory: least recently used entries go first once `max` is reached. */
class MemoryCacheStore implements CacheStore {
  readonly shared = false;
  readonly #entries: LRUCache<string, { value: unknown }>;

  constructor(max: number) {
    this.#entries = new LRUCache({ max });
  }

  getMany(keys: readonly string[]): Promise<(unknown | undefined)[]> {
    return Promise.resolve(keys.map((key) => this.#entries.get(key)?.value));
  }

  set(key: string, value: unknown, ttlMs: number): Promise<void> {
    this.#entries.set(key, { value }, { ttl: Math.max(0, ttlMs) });
    return Promise.resolve();
  }

  add(key: string, value: unknown, ttlMs: number): Promise<boolean> {
    if (this.#entries.has(key)) return Promise.resolve(false);
    this.#entries.set(key, { value }, { ttl: Math.max(0, ttlMs) });
    return Promise.resolve(true);
  }

  delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.#entries.delete(key);
    return Promise.resolve();
  }
}

/**
 * The in-process cache backend on `lru-cache`: each namespace is its own
 * least-recently-used map of at most `maxEntries` (default 10 000) entries
 * with per-entry time to live. Entries are per instance; other instances
 * learn of writes through a {@link CacheBus}.
 *
 * @example
 * ```ts
 * import { MemoryCacheBackend } from "./memory-cache.ts";
 * const cache = new MemoryCacheBackend().store("notes", { maxEntries: 100 });
 * await cache.set("a", 1, 60_000);
 * ```
 */
export class MemoryCacheBackend implements CacheBackend {
  /** `memory`. */
  readonly name = "memory";
  /** Entries are per instance. */
  readonly shared = false;
  readonly #stores = new Map<string, MemoryCacheStore>();

  /** The store of `namespace` (made on first use with `options.maxEntries`). */
  store(namespace: string, options: CacheNamespaceOptions = {}): CacheStore {
    let store = this.#stores.get(namespace);
    if (!store) this.#stores.set(namespace, store = new MemoryCacheStore(Math.max(1, options.maxEntries ?? DEFAULT_MAX_ENTRIES)));
    return store;
  }

  /** Drops every entry. */
  close(): Promise<void> {
    this.#stores.clear();
    return Promise.resolve();
  }
}
