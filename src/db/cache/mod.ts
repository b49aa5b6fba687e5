/**
 * The query cache: a table opts in (`withEntity(Note, { cache: { ttlMs: 30_000 } })`),
 * and its reads by id, lists and counts are served from the cache backend of
 * the `cache.store` setting until a write changes them. The contract of
 * backends and buses is in `src/core/cache.ts` (shared with flags and rate
 * limits); the Redis backend and bus are in `src/integrations/redis-cache.ts`,
 * beside the one Redis client, since `src/db` may not load it.
 *
 * @example
 * ```ts ignore
 * import { CachedRepository, createRepository, MemoryCacheBackend, QueryCache } from "chapkit/db";
 *
 * const cache = new QueryCache({ backend: () => new MemoryCacheBackend() });
 * const notes = new CachedRepository(createRepository(db, notesTable), await cache.table("notes", { ttlMs: 30_000 }));
 * await notes.findById(id); // from the store, then from the cache until a write
 * ```
 *
 * @module
 */
export { cacheToken } from "../../core/cache.ts";
export type { CacheBackend, CacheBus, CacheInvalidation, CacheNamespaceOptions, CacheStore } from "../../core/cache.ts";
export { CachedRepository } from "./cached-repository.ts";
export { MemoryCacheBackend } from "./memory-cache.ts";
export { PostgresCacheBus } from "./postgres-bus.ts";
export type { PostgresCacheBusOptions } from "./postgres-bus.ts";
export { QUERY_CACHE_KEY, QueryCache } from "./query-cache.ts";
export type { QueryCacheOptions } from "./query-cache.ts";
export { TableCache } from "./table-cache.ts";
export type { Lookup, TableCacheOptions } from "./table-cache.ts";
