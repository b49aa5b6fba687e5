import type { CacheBackend, CacheBus, CacheInvalidation } from "../../core/cache.ts";
import { TableCache, type TableCacheOptions } from "./table-cache.ts";

/** How a {@link QueryCache} reaches its backend and the other instances. */
export interface QueryCacheOptions {
  /** Opens the backend (called once, when the first table asks for a cache). */
  backend: () => CacheBackend | Promise<CacheBackend>;
  /** Opens the bus to the other instances, if any (called with the backend, unless its stores are shared). */
  bus?: () => CacheBus | undefined | Promise<CacheBus | undefined>;
  /** Told of every lookup: the table and whether it hit. */
  onLookup?: (table: string, hit: boolean) => void;
  /** Told of a backend or bus failure (lookups then miss; writes still reach the store). */
  onError?: (error: unknown) => void;
}

/**
 * The query cache of a service: one {@link TableCache} per table that opts
 * in, all on one backend, with other instances' invalidations applied as
 * they arrive. Nothing is opened until a table asks for its cache, so a
 * service without cached tables pays nothing.
 */
export class QueryCache {
  readonly #options: QueryCacheOptions;
  readonly #tables = new Map<string, TableCache>();
  #opened: Promise<{ backend: CacheBackend; bus: CacheBus | undefined; stop?: () => Promise<void> }> | undefined;

  /** A cache that opens its backend and bus on first use. */
  constructor(options: QueryCacheOptions) {
    this.#options = options;
  }

  #open(): Promise<{ backend: CacheBackend; bus: CacheBus | undefined; stop?: () => Promise<void> }> {
    this.#opened ??= (async () => {
      const backend = await this.#options.backend();
      const bus = backend.shared ? undefined : await this.#options.bus?.();
      if (!bus) return { backend, bus };
      const stop = await bus.subscribe((message) => this.#receive(message));
      return { backend, bus, stop };
    })();
    return this.#opened;
  }

  #receive(message: CacheInvalidation): void {
    const table = this.#tables.get(message.namespace);
    if (table) void table.apply(message);
  }

  /** The cache of `table` (the same object for the same table). */
  async table(table: string, options: TableCacheOptions = {}): Promise<TableCache> {
    const existing = this.#tables.get(table);
    if (existing) return existing;
    const { backend, bus } = await this.#open();
    const onLookup = this.#options.onLookup;
    const onError = this.#options.onError;
    const cache = new TableCache(table, backend.store(table, options.maxEntries === undefined ? {} : { maxEntries: options.maxEntries }), {
      ...options,
      ...(bus ? { publish: (message: CacheInvalidation) => bus.publish(message) } : {}),
      ...(onLookup ? { onLookup: (hit: boolean) => onLookup(table, hit) } : {}),
      ...(onError ? { onError } : {}),
    });
    this.#tables.set(table, cache);
    return cache;
  }

  /** Stops listening and closes the backend. */
  async close(): Promise<void> {
    const opened = this.#opened;
    this.#opened = undefined;
    this.#tables.clear();
    if (!opened) return;
    const { backend, stop } = await opened.catch(() => ({ backend: undefined, stop: undefined }));
    await stop?.().catch(() => {});
    await backend?.close();
  }
}

/** The service-registry key of the service's {@link QueryCache}. */
export const QUERY_CACHE_KEY = "query-cache";
