/**
 * Rate-limit counters in Redis, so every instance sharing the Redis server
 * enforces one combined limit. One Lua script per request keeps the
 * sliding-window check and the increment atomic. Needs the optional peer
 * dependency `ioredis` (runs on Bun and Deno).
 */
import { type RateLimitDecision, type RateLimitPolicy, type RateLimitStore, slidingWindow } from "../core/rate-limit.ts";

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

interface RedisClient {
  connect(): Promise<void>;
  disconnect(): void;
  on(event: "error", listener: (error: Error) => void): void;
  defineCommand(name: string, definition: { numberOfKeys: number; lua: string }): void;
  quit(): Promise<unknown>;
  chapkitRateLimit?: (current: string, previous: string, limit: number, windowMs: number, now: number) => Promise<[number, number, number]>;
}

type RedisConstructor = new (url: string, options: Record<string, unknown>) => RedisClient;

/** Options of {@link RedisRateLimitStore.connect}. */
export interface RedisRateLimitOptions {
  /** Prefix of every key (default `chapkit:ratelimit:`); separate services or tests with it. */
  keyPrefix?: string;
}

/** See the module doc. */
export class RedisRateLimitStore implements RateLimitStore {
  readonly #redis: RedisClient;
  readonly #prefix: string;

  private constructor(redis: RedisClient, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  /**
   * Connects to `url` (`redis://host:6379/0`).
   *
   * @throws {Error} naming the package to add when `ioredis` is not installed, or when Redis cannot be reached.
   */
  static async connect(url: string, options: RedisRateLimitOptions = {}): Promise<RedisRateLimitStore> {
    let Redis: RedisConstructor;
    try {
      Redis = ((await import("ioredis")) as unknown as { default: RedisConstructor }).default;
    } catch (error) {
      throw new Error("The Redis rate-limit store needs the ioredis package: bun add ioredis (or npm install ioredis)", { cause: error });
    }
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
    // Errors reach callers through the commands (and the limiter lets requests through); ioredis reconnects.
    redis.on("error", () => {});
    try {
      await redis.connect();
    } catch (error) {
      redis.disconnect();
      throw error;
    }
    redis.defineCommand("chapkitRateLimit", { numberOfKeys: 2, lua: SCRIPT });
    return new RedisRateLimitStore(redis, options.keyPrefix ?? "chapkit:ratelimit:");
  }

  /** Counts a request of `key` when it fits the combined limit of every instance. */
  async consume(key: string, policy: RateLimitPolicy, now: number = Date.now()): Promise<RateLimitDecision> {
    const windowMs = policy.windowSeconds * 1000;
    const window = Math.floor(now / windowMs);
    const base = `${this.#prefix}${policy.name}:${policy.windowSeconds}:${key}:`;
    const [counted, current, previous] = await this.#redis.chapkitRateLimit!(`${base}${window}`, `${base}${window - 1}`, policy.limit, windowMs, now);
    // The same arithmetic as the script, on the counts it saw, gives the headers.
    const { allowed: _, count: __, ...decision } = slidingWindow(previous, current, policy, now);
    return counted === 1 ? { ...decision, allowed: true } : { ...decision, allowed: false };
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    await this.#redis.quit();
  }
}
