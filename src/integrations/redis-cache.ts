/**
 * The Redis backend of the cache layer (entries shared by every instance, so
 * a write invalidates them for all at once) and a Redis pub/sub
 * {@link CacheBus}. Values are MessagePack, so binary columns survive. Both
 * connect through the one Redis client (`ioredis`, an optional peer).
 *
 * @module
 */
import { type CacheBackend, type CacheBus, type CacheInvalidation, type CacheStore, parseInvalidation } from "../core/cache.ts";
import { connectRedis, type RedisClient, type RedisHandle } from "./redis-client.ts";
import { importPeer } from "../core/optional-peer.ts";

/** The MessagePack codec (`msgpackr`, an optional peer, loaded when a Redis cache connects). */
interface Codec {
  pack(value: unknown): Uint8Array;
  unpack(bytes: Uint8Array): unknown;
}

export { connectRedis };
export type { RedisClient, RedisHandle };

/** Options of {@link RedisCacheBackend.connect}. */
export interface RedisCacheOptions {
  /** Prefix of every key (default `chapkit:cache:`); separate services or tests with it. */
  keyPrefix?: string;
}

class RedisCacheStore implements CacheStore {
  readonly shared = true;
  readonly #redis: RedisClient;
  readonly #prefix: string;
  readonly #codec: Codec;

  constructor(redis: RedisClient, prefix: string, codec: Codec) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#codec = codec;
  }

  async getMany(keys: readonly string[]): Promise<(unknown | undefined)[]> {
    // MGET of no key is a Redis error.
    if (keys.length === 0) return [];
    const values = await this.#redis.mgetBuffer(...keys.map((key) => this.#prefix + key));
    return values.map((value) => (value === null ? undefined : this.#codec.unpack(value)));
  }

  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    const ttl = ttlMs > 0 ? ["PX", Math.ceil(ttlMs)] : [];
    await this.#redis.set(this.#prefix + key, this.#codec.pack(value), ...ttl);
  }

  async add(key: string, value: unknown, ttlMs: number): Promise<boolean> {
    const ttl = ttlMs > 0 ? ["PX", Math.ceil(ttlMs)] : [];
    return (await this.#redis.set(this.#prefix + key, this.#codec.pack(value), ...ttl, "NX")) === "OK";
  }

  async delete(keys: readonly string[]): Promise<void> {
    if (keys.length > 0) await this.#redis.del(...keys.map((key) => this.#prefix + key));
  }
}

/** See the module doc. `maxEntries` does not apply: Redis evicts by its own `maxmemory` policy. */
export class RedisCacheBackend implements CacheBackend {
  /** `redis`. */
  readonly name = "redis";
  /** Every instance sees the same entries. */
  readonly shared = true;
  readonly #handle: RedisHandle;
  readonly #prefix: string;
  readonly #codec: Codec;

  private constructor(handle: RedisHandle, prefix: string, codec: Codec) {
    this.#handle = handle;
    this.#prefix = prefix;
    this.#codec = codec;
  }

  /**
   * Connects to `url` (`redis://host:6379/0`).
   *
   * @throws {Error} naming the package to add when `ioredis` or `msgpackr` is not installed, or when Redis cannot be reached.
   */
  static async connect(url: string, options: RedisCacheOptions = {}): Promise<RedisCacheBackend> {
    const codec: Codec = await importPeer("msgpackr", "Redis caches", () => import("msgpackr"));
    return new RedisCacheBackend(await connectRedis(url), options.keyPrefix ?? "chapkit:cache:", codec);
  }

  /** The keys of `namespace`, under `<keyPrefix><namespace>:`. */
  store(namespace: string): CacheStore {
    return new RedisCacheStore(this.#handle.client, `${this.#prefix}${namespace}:`, this.#codec);
  }

  /** Gives the shared connection back. */
  close(): Promise<void> {
    return this.#handle.release();
  }
}

/** Options of {@link RedisCacheBus.connect}. */
export interface RedisCacheBusOptions {
  /** The channel (default `chapkit:cache:invalidate`); instances of one service share it. */
  channel?: string;
  /** This instance's id: its own messages are not delivered back to it. */
  instanceId: string;
}

/** Invalidations over Redis pub/sub, for memory caches on several instances. */
export class RedisCacheBus implements CacheBus {
  readonly #handle: RedisHandle;
  readonly #channel: string;
  readonly #instanceId: string;

  private constructor(handle: RedisHandle, options: RedisCacheBusOptions) {
    this.#handle = handle;
    this.#channel = options.channel ?? "chapkit:cache:invalidate";
    this.#instanceId = options.instanceId;
  }

  /** Connects to `url`. @throws {Error} as {@link RedisCacheBackend.connect}. */
  static async connect(url: string, options: RedisCacheBusOptions): Promise<RedisCacheBus> {
    return new RedisCacheBus(await connectRedis(url), options);
  }

  /** Sends an invalidation to the other instances. */
  async publish(message: CacheInvalidation): Promise<void> {
    await this.#handle.client.publish(this.#channel, JSON.stringify({ ...message, from: this.#instanceId }));
  }

  /** Delivers the other instances' invalidations until the returned function is called. */
  async subscribe(onMessage: (message: CacheInvalidation) => void): Promise<() => Promise<void>> {
    const subscriber = await this.#handle.subscriber();
    subscriber.on("message", (channel: string, text: string) => {
      if (channel !== this.#channel) return;
      const message = parseInvalidation(text, this.#instanceId);
      if (message) onMessage(message);
    });
    await subscriber.subscribe(this.#channel);
    return async () => {
      await subscriber.unsubscribe(this.#channel).catch(() => {});
      subscriber.disconnect();
    };
  }

  /** Gives the shared connection back. */
  close(): Promise<void> {
    return this.#handle.release();
  }
}
