/**
 * Rate-limit counters in Redis, so every instance sharing the Redis server
 * enforces one combined limit. One Lua script per request keeps the
 * sliding-window check and the increment atomic. Connects through the one
 * Redis client ({@link connectRedis}: the optional peer `ioredis`).
 */
import { type RateLimitDecision, type RateLimitPolicy, type RateLimitStore, slidingWindow } from "../core/rate-limit.ts";
import { connectRedis, type RedisClient, type RedisHandle } from "./redis-client.ts";

type RateLimitCommand = (current: string, previous: string, limit: number, windowMs: number, now: number) => Promise<[number, number, number]>;

// KEYS: current window, previous window. ARGV: limit, window ms, now ms. Mirrors slidingWindow().
const SCRIPT = `
local limit = tonumber(ARGV[1])
local window_ms = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
local elapsed = now % window_ms
local used = previous * (window_ms - elapsed) / window_ms + current
if used + 1 > limit then
  return {0, current, previous}
end
redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], window_ms * 2)
return {1, current, previous}
`;

/** Options of {@link RedisRateLimitStore.connect}. */
export interface RedisRateLimitOptions {
  /** Prefix of every key (default `chapkit:ratelimit:`); separate services or tests with it. */
  keyPrefix?: string;
}

/** See the module doc. */
export class RedisRateLimitStore implements RateLimitStore {
  readonly #handle: RedisHandle;
  readonly #redis: RedisClient;
  readonly #prefix: string;

  private constructor(handle: RedisHandle, prefix: string) {
    this.#handle = handle;
    this.#redis = handle.client;
    this.#prefix = prefix;
  }

  /**
   * Connects to `url` (`redis://host:6379/0`).
   *
   * @throws {Error} naming the package to add when `ioredis` is not installed, or when Redis cannot be reached.
   */
  static async connect(url: string, options: RedisRateLimitOptions = {}): Promise<RedisRateLimitStore> {
    const handle = await connectRedis(url);
    handle.client.defineCommand("chapkitRateLimit", { numberOfKeys: 2, lua: SCRIPT });
    return new RedisRateLimitStore(handle, options.keyPrefix ?? "chapkit:ratelimit:");
  }

  /** Counts a request of `key` when it fits the combined limit of every instance. */
  async consume(key: string, policy: RateLimitPolicy, now: number = Date.now()): Promise<RateLimitDecision> {
    const windowMs = policy.windowSeconds * 1000;
    const window = Math.floor(now / windowMs);
    const base = `${this.#prefix}${policy.name}:${policy.windowSeconds}:${key}:`;
    const [counted, current, previous] = await (this.#redis.chapkitRateLimit as RateLimitCommand)(`${base}${window}`, `${base}${window - 1}`, policy.limit, windowMs, now);
    // The same arithmetic as the script, on the counts it saw, gives the headers.
    const { allowed: _, count: __, ...decision } = slidingWindow(previous, current, policy, now);
    return counted === 1 ? { ...decision, allowed: true } : { ...decision, allowed: false };
  }

  /** Gives the shared connection back (closed once nobody else uses it). */
  async close(): Promise<void> {
    await this.#handle.release();
  }
}
