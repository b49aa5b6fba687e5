/**
 * The one Redis client of chapkit: every feature that talks to Redis (rate
 * limits, the cache, its invalidations) connects through {@link connectRedis},
 * which loads the optional peer dependency `ioredis` (runs on Bun and Deno) on
 * first use and shares one connection per URL among its users.
 *
 * @module
 */

/** The commands chapkit sends, as `ioredis` types them (a subset). */
export interface RedisClient {
  connect(): Promise<void>;
  disconnect(): void;
  quit(): Promise<unknown>;
  duplicate(): RedisClient;
  on(event: "error", listener: (error: Error) => void): void;
  on(event: "messageBuffer", listener: (channel: Uint8Array, message: Uint8Array) => void): void;
  on(event: "message", listener: (channel: string, message: string) => void): void;
  defineCommand(name: string, definition: { numberOfKeys: number; lua: string }): void;
  mgetBuffer(...keys: string[]): Promise<(Uint8Array | null)[]>;
  set(key: string, value: string | Uint8Array, ...args: (string | number)[]): Promise<string | null>;
  del(...keys: string[]): Promise<number>;
  publish(channel: string, message: string): Promise<number>;
  subscribe(...channels: string[]): Promise<unknown>;
  unsubscribe(...channels: string[]): Promise<unknown>;
  [command: string]: unknown;
}

type RedisConstructor = new (url: string, options: Record<string, unknown>) => RedisClient;

/** A use of a shared connection: `release()` closes it once every user has released theirs. */
export interface RedisHandle {
  /** The shared connection (commands only: subscribers use {@link RedisHandle.subscriber}). */
  readonly client: RedisClient;
  /** A connection of its own in subscriber mode (closed by `release()`). */
  subscriber(): Promise<RedisClient>;
  /** Gives the connection back. */
  release(): Promise<void>;
}

const shared = new Map<string, { client: Promise<RedisClient>; users: number }>();

async function loadRedis(): Promise<RedisConstructor> {
  try {
    return ((await import("ioredis")) as unknown as { default: RedisConstructor }).default;
  } catch (error) {
    throw new Error("Redis support needs the ioredis package: bun add ioredis (or npm install ioredis)", { cause: error });
  }
}

async function open(url: string): Promise<RedisClient> {
  const Redis = await loadRedis();
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  // Errors reach callers through their commands; ioredis reconnects by itself.
  redis.on("error", () => {});
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  return redis;
}

/**
 * A handle on the shared connection to `url` (`redis://host:6379/0`),
 * opened on first use.
 *
 * @throws {Error} naming the package to add when `ioredis` is not installed, or when Redis cannot be reached.
 */
export async function connectRedis(url: string): Promise<RedisHandle> {
  let entry = shared.get(url);
  if (!entry) {
    entry = { client: open(url), users: 0 };
    shared.set(url, entry);
    entry.client.catch(() => {
      if (shared.get(url) === entry) shared.delete(url);
    });
  }
  entry.users += 1;
  const current = entry;
  let client: RedisClient;
  try {
    client = await current.client;
  } catch (error) {
    current.users -= 1;
    throw error;
  }
  const subscribers: RedisClient[] = [];
  let released = false;
  return {
    client,
    async subscriber(): Promise<RedisClient> {
      const subscriber = client.duplicate();
      subscriber.on("error", () => {});
      subscribers.push(subscriber);
      await subscriber.connect();
      return subscriber;
    },
    async release(): Promise<void> {
      if (released) return;
      released = true;
      for (const subscriber of subscribers) subscriber.disconnect();
      current.users -= 1;
      if (current.users > 0) return;
      if (shared.get(url) === current) shared.delete(url);
      await client.quit().catch(() => client.disconnect());
    },
  };
}
