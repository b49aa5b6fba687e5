/**
 * The Memcached backend of the cache layer: entries shared by every instance
 * (a write invalidates them for all at once), values in MessagePack so
 * binary columns survive, through chapkit's own small text-protocol client
 * (no driver package). Memcached has no pub/sub: memory caches that need a
 * bus use PostgreSQL or Redis.
 *
 * Differences from Redis a user may notice: time to live counts in whole
 * seconds (rounded up), values are limited by the server's item size
 * (1 MiB by default: a larger one is simply not cached), and the server may
 * evict any entry at any time (a miss, never a stale read).
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { CacheBackend, CacheStore } from "../core/cache.ts";
import { importPeer } from "../core/optional-peer.ts";
import { MemcachedClient } from "./memcached-client.ts";

/** The MessagePack codec (`msgpackr`, an optional peer). */
interface Codec {
  pack(value: unknown): Uint8Array;
  unpack(bytes: Uint8Array): unknown;
}

/** Options of {@link MemcachedCacheBackend.connect}. */
export interface MemcachedCacheOptions {
  /** Prefix of every key (default `chapkit:cache:`); separate services or tests with it. */
  keyPrefix?: string;
  /** Milliseconds a connection attempt or a reply may take (default 2 000). */
  timeoutMs?: number;
}

/** Memcached's limit on a key, in bytes. */
const MAX_KEY_BYTES = 250;
/** Expiry times above 30 days are read by Memcached as Unix times. */
const RELATIVE_LIMIT_S = 30 * 24 * 3600;

/** A valid Memcached key for `key`: itself when it fits (printable, no spaces, ≤ 250 bytes), else a SHA-256 of it. */
function memcachedKey(key: string): string {
  // deno-lint-ignore no-control-regex
  if (new TextEncoder().encode(key).byteLength <= MAX_KEY_BYTES && !/[\s\x00-\x1f\x7f]/.test(key)) return key;
  return `sha256:${createHash("sha256").update(key).digest("base64url")}`;
}

function exptime(ttlMs: number): number {
  if (!(ttlMs > 0)) return 0;
  const seconds = Math.ceil(ttlMs / 1000);
  return seconds > RELATIVE_LIMIT_S ? Math.floor(Date.now() / 1000) + seconds : seconds;
}

class MemcachedCacheStore implements CacheStore {
  readonly shared = true;
  readonly #client: MemcachedClient;
  readonly #prefix: string;
  readonly #codec: Codec;

  constructor(client: MemcachedClient, prefix: string, codec: Codec) {
    this.#client = client;
    this.#prefix = prefix;
    this.#codec = codec;
  }

  async getMany(keys: readonly string[]): Promise<(unknown | undefined)[]> {
    const names = keys.map((key) => memcachedKey(this.#prefix + key));
    const values = await this.#client.getMany([...new Set(names)]);
    return names.map((name) => {
      const bytes = values.get(name);
      return bytes === undefined ? undefined : this.#codec.unpack(bytes);
    });
  }

  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    await this.#client.store("set", memcachedKey(this.#prefix + key), this.#codec.pack(value), exptime(ttlMs));
  }

  add(key: string, value: unknown, ttlMs: number): Promise<boolean> {
    return this.#client.store("add", memcachedKey(this.#prefix + key), this.#codec.pack(value), exptime(ttlMs));
  }

  async delete(keys: readonly string[]): Promise<void> {
    await Promise.all(keys.map((key) => this.#client.delete(memcachedKey(this.#prefix + key))));
  }
}

/**
 * See the module doc. `maxEntries` does not apply: Memcached evicts by its
 * own memory limit (`-m`).
 *
 * @example
 * ```ts ignore
 * import { MemcachedCacheBackend } from "chapkit/db";
 * const cache = await MemcachedCacheBackend.connect("memcached://127.0.0.1:11211");
 * await cache.store("notes").set("a", { title: "hi" }, 60_000);
 * ```
 */
export class MemcachedCacheBackend implements CacheBackend {
  /** `memcached`. */
  readonly name = "memcached";
  /** Every instance sees the same entries. */
  readonly shared = true;
  readonly #client: MemcachedClient;
  readonly #prefix: string;
  readonly #codec: Codec;

  private constructor(client: MemcachedClient, prefix: string, codec: Codec) {
    this.#client = client;
    this.#prefix = prefix;
    this.#codec = codec;
  }

  /**
   * Connects to `url` (`memcached://host:11211`, port 11211 when absent) and
   * checks the server answers.
   *
   * @throws {Error} naming the package to add when `msgpackr` is not installed, or when the server cannot be reached.
   */
  static async connect(url: string, options: MemcachedCacheOptions = {}): Promise<MemcachedCacheBackend> {
    const parsed = new URL(url);
    if (parsed.protocol !== "memcached:") throw new TypeError(`A Memcached URL starts with memcached://, not ${parsed.protocol}//`);
    const codec: Codec = await importPeer("msgpackr", "Memcached caches", () => import("msgpackr"));
    const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1") || "127.0.0.1";
    const client = new MemcachedClient(host, Number(parsed.port || 11211), options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs });
    try {
      await client.getMany([memcachedKey(`${options.keyPrefix ?? "chapkit:cache:"}ping`)]);
    } catch (error) {
      await client.close();
      throw error;
    }
    return new MemcachedCacheBackend(client, options.keyPrefix ?? "chapkit:cache:", codec);
  }

  /** The keys of `namespace`, under `<keyPrefix><namespace>:`. */
  store(namespace: string): CacheStore {
    return new MemcachedCacheStore(this.#client, `${this.#prefix}${namespace}:`, this.#codec);
  }

  /** Closes the connection. */
  close(): Promise<void> {
    return this.#client.close();
  }
}
