/** The query cache of a service, opened when the first table opts in and closed on shutdown. */
import type { Logger } from "../core/logging.ts";
import type { Settings } from "../core/settings/schema.ts";
import { QUERY_CACHE_KEY, QueryCache } from "../db/cache/query-cache.ts";
import type { Driver } from "../db/driver.ts";
import type { ServiceModule } from "../http/module.ts";
import type { Monitoring } from "../observability/monitoring.ts";

/** What the query cache module needs of the service. */
export interface QueryCacheModuleParts {
  settings: Settings["cache"];
  db: Driver;
  instanceId: string;
  logger: Logger;
  monitoring?: Monitoring;
}

/**
 * Provides the service's {@link QueryCache} under {@link QUERY_CACHE_KEY}:
 * its backend is the `cache.store` setting; memory caches learn of other
 * instances' writes over the `cache.bus` setting. Hits and misses count in
 * `chapkit_cache_requests_total{table,result}`.
 */
export function queryCacheModule(parts: QueryCacheModuleParts): ServiceModule {
  const { settings, db, instanceId, logger, monitoring } = parts;
  const requests = monitoring?.registry.counter({
    name: "chapkit_cache_requests_total",
    help: "Query cache lookups by table and result (hit or miss)",
    labelNames: ["table", "result"],
  });
  let warned = false;
  const cache = new QueryCache({
    // Every backend and bus loads with the first cached table, not at start-up.
    backend: async () => {
      if (settings.store === "redis") {
        return (await import("../integrations/redis-cache.ts")).RedisCacheBackend.connect(settings.redisUrl, { keyPrefix: settings.keyPrefix });
      }
      if (settings.store === "memcached") {
        return (await import("../integrations/memcached-cache.ts")).MemcachedCacheBackend.connect(settings.memcachedUrl, { keyPrefix: settings.keyPrefix });
      }
      return new (await import("../db/cache/memory-cache.ts")).MemoryCacheBackend();
    },
    bus: async () => {
      const bus = settings.bus === "auto" ? (db.dialect === "postgres" ? "postgres" : "none") : settings.bus;
      if (bus === "postgres") return new (await import("../db/cache/postgres-bus.ts")).PostgresCacheBus(db, { instanceId });
      if (bus === "redis") {
        const { RedisCacheBus } = await import("../integrations/redis-cache.ts");
        return RedisCacheBus.connect(settings.redisUrl, { instanceId, channel: `${settings.keyPrefix}invalidate` });
      }
      return undefined;
    },
    ...(requests ? { onLookup: (table: string, hit: boolean) => requests.inc(1, table, hit ? "hit" : "miss") } : {}),
    onError: (error: unknown) => {
      // One line per failure would flood the log while the backend is down.
      if (warned) return;
      warned = true;
      logger.warn("cache.unavailable", { store: settings.store, error });
    },
  });
  return {
    name: "query-cache",
    setup(context): void {
      context.provide(QUERY_CACHE_KEY, cache);
    },
    async stop(): Promise<void> {
      await cache.close();
    },
  };
}
