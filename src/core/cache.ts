/**
 * The cache layer's contract: a key-value {@link CacheStore} with time-to-live
 * entries, made by a {@link CacheBackend} per namespace, and a
 * {@link CacheBus} that carries invalidations to the other instances of a
 * service. Backends: memory (`lru-cache`, per instance), Redis (shared);
 * others implement these two interfaces. The query cache
 * (`src/db/cache/`), feature flags and rate limits build on it.
 *
 * @module
 */

/**
 * A key-value cache of one namespace. Values are plain data (JSON values and
 * `Uint8Array`); a backend that leaves the process serialises them. Every
 * method may fail (a lost connection): callers treat a failure as a miss.
 */
export interface CacheStore {
  /**
   * Whether every instance of the service sees the same entries (Redis,
   * Memcached): then a write invalidates them for everybody at once, and no
   * broadcast is needed.
   */
  readonly shared: boolean;
  /** The values of `keys`, in order; `undefined` for a missing or expired key. */
  getMany(keys: readonly string[]): Promise<(unknown | undefined)[]>;
  /** Stores `value` under `key` for `ttlMs` milliseconds (0: until evicted). */
  set(key: string, value: unknown, ttlMs: number): Promise<void>;
  /** Stores `value` only when `key` holds nothing; true when it did (atomic on every backend). */
  add(key: string, value: unknown, ttlMs: number): Promise<boolean>;
  /** Removes the keys. */
  delete(keys: readonly string[]): Promise<void>;
}

/** What a namespace of a {@link CacheBackend} is made with. */
export interface CacheNamespaceOptions {
  /** Entries kept at most (the memory backend evicts the least recently used; shared backends ignore it). */
  maxEntries?: number;
}

/** Makes the stores of a cache: one per namespace (a table, the flags…), over one connection. */
export interface CacheBackend {
  /** The backend's name for logs and metrics (`memory`, `redis`). */
  readonly name: string;
  /** Whether its stores are {@link CacheStore.shared} (then no bus is needed). */
  readonly shared: boolean;
  /** The store of `namespace`; the same namespace gives the same store. */
  store(namespace: string, options?: CacheNamespaceOptions): CacheStore;
  /** Releases connections; stores fail afterwards. */
  close(): Promise<void>;
}

/**
 * An invalidation sent to the other instances: which namespace, and which
 * keys of it (`all` when the sender could not name them).
 */
export interface CacheInvalidation {
  /** The namespace (for the query cache: the table). */
  namespace: string;
  /** The invalidated ids, when known. */
  ids?: string[];
  /** The whole namespace is invalidated. */
  all?: boolean;
}

/**
 * Carries invalidations between the instances of a service (PostgreSQL
 * `LISTEN/NOTIFY`, Redis pub/sub). An instance does not receive its own.
 */
export interface CacheBus {
  /** Sends an invalidation to the other instances. */
  publish(message: CacheInvalidation): Promise<void>;
  /** Calls `onMessage` for each invalidation of another instance; resolves with the function that stops. */
  subscribe(onMessage: (message: CacheInvalidation) => void): Promise<() => Promise<void>>;
}

/** A fresh random token: the value of a validity key (see the query cache). */
export function cacheToken(): string {
  return crypto.randomUUID();
}

/** An invalidation read from the wire, or undefined when it is malformed or this instance's own. */
export function parseInvalidation(text: string, instanceId: string): CacheInvalidation | undefined {
  try {
    const value = JSON.parse(text) as { from?: unknown; namespace?: unknown; ids?: unknown; all?: unknown };
    if (value.from === instanceId || typeof value.namespace !== "string") return undefined;
    if (value.all === true) return { namespace: value.namespace, all: true };
    if (!Array.isArray(value.ids) || !value.ids.every((id) => typeof id === "string")) return undefined;
    return { namespace: value.namespace, ids: value.ids as string[] };
  } catch {
    return undefined;
  }
}
