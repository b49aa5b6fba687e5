/** The rate-limit store of a service: memory, or Redis for one limit across instances; closed on shutdown. */
import type { Logger } from "../core/logging.ts";
import { MemoryRateLimitStore, type RateLimitStore } from "../core/rate-limit.ts";
import type { Settings } from "../core/settings/schema.ts";
import type { ServiceModule } from "../http/module.ts";

/** The registry key of the service's {@link RateLimitStore}. */
export const RATE_LIMIT_STORE_KEY = "rate-limit-store";

/**
 * Opens the store the `rateLimit.store` setting names and wraps it in a
 * module that provides it and closes it on shutdown.
 *
 * @throws {Error} when the Redis store is chosen and Redis cannot be reached or `ioredis` is missing.
 */
export async function rateLimitModule(settings: Settings["rateLimit"], logger: Logger): Promise<ServiceModule> {
  const store: RateLimitStore = settings.store === "redis"
    ? await (await import("../integrations/redis-rate-limit.ts")).RedisRateLimitStore.connect(settings.redisUrl, { keyPrefix: settings.keyPrefix })
    : new MemoryRateLimitStore();
  if (settings.store === "redis") logger.info("ratelimit.store", { store: "redis" });
  return {
    name: "rate-limit",
    setup(context): void {
      context.provide(RATE_LIMIT_STORE_KEY, store);
    },
    async stop(): Promise<void> {
      await store.close?.();
    },
  };
}
