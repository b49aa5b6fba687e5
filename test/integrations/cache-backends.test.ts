/**
 * The cache contract (`CacheBackend`/`CacheStore` of src/core/cache.ts) run
 * against every backend: memory, the machine's Redis and a private
 * Memcached server. Then the query cache on the Memcached backend, shared by
 * two instances.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { CacheBackend } from "../../src/core/cache.ts";
import { CachedRepository } from "../../src/db/cache/cached-repository.ts";
import { MemoryCacheBackend } from "../../src/db/cache/memory-cache.ts";
import { QueryCache } from "../../src/db/cache/query-cache.ts";
import { migrate } from "../../src/db/migrate.ts";
import { createRepository } from "../../src/db/repository.ts";
import { tableMigration } from "../../src/db/table-migration.ts";
import { MemcachedCacheBackend } from "../../src/integrations/memcached-cache.ts";
import { RedisCacheBackend } from "../../src/integrations/redis-cache.ts";
import { type PrivateServer, runId, startMemcached } from "../_support/brokers.ts";
import { sqliteFileStore } from "../_support/stores.ts";
import { type Item, item, items } from "../db/_items.ts";

const REDIS_URL = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const prefix = `${runId("chapkit-test")}:`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let memcached: PrivateServer;
before(async () => {
  memcached = await startMemcached();
});
after(async () => {
  await memcached.stop();
});

const backends: { name: string; open(): Promise<CacheBackend> }[] = [
  { name: "memory", open: () => Promise.resolve(new MemoryCacheBackend()) },
  { name: "redis", open: () => RedisCacheBackend.connect(REDIS_URL, { keyPrefix: prefix }) },
  { name: "memcached", open: () => MemcachedCacheBackend.connect(`memcached://127.0.0.1:${memcached.port}`, { keyPrefix: prefix }) },
];

for (const backend of backends) {
  describe(`cache contract: ${backend.name}`, () => {
    let cache: CacheBackend;
    before(async () => {
      cache = await backend.open();
    });
    after(() => cache.close());

    it("answers undefined for missing keys and values in key order", async () => {
      const store = cache.store("order");
      await store.set("b", 2, 60_000);
      await store.set("a", { x: [1, "y"], n: null }, 60_000);
      assert.deepEqual(await store.getMany(["a", "missing", "b", "a"]), [{ x: [1, "y"], n: null }, undefined, 2, { x: [1, "y"], n: null }]);
      assert.deepEqual(await store.getMany([]), []);
    });

    it("keeps binary values byte for byte", async () => {
      const store = cache.store("binary");
      const bytes = new Uint8Array([0, 13, 10, 255, 32, 69, 78, 68, 13, 10]);
      await store.set("blob", { bytes }, 60_000);
      const [value] = await store.getMany(["blob"]) as [{ bytes: Uint8Array }];
      assert.deepEqual([...value.bytes], [...bytes]);
    });

    it("overwrites with set and deletes", async () => {
      const store = cache.store("writes");
      await store.set("k", "one", 60_000);
      await store.set("k", "two", 60_000);
      assert.deepEqual(await store.getMany(["k"]), ["two"]);
      await store.delete(["k", "never-there"]);
      assert.deepEqual(await store.getMany(["k"]), [undefined]);
    });

    it("add stores only when the key holds nothing, for exactly one of concurrent callers", async () => {
      const store = cache.store("add");
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.add("once", i, 60_000)));
      assert.equal(results.filter(Boolean).length, 1);
      const [winner] = await store.getMany(["once"]);
      assert.equal(winner, results.indexOf(true));
    });

    it("keeps namespaces apart", async () => {
      await cache.store("left").set("same", "L", 60_000);
      await cache.store("right").set("same", "R", 60_000);
      assert.deepEqual(await cache.store("left").getMany(["same"]), ["L"]);
      assert.deepEqual(await cache.store("right").getMany(["same"]), ["R"]);
    });

    it("accepts keys with spaces, newlines and any length", async () => {
      const store = cache.store("keys");
      const keys = ["with space", "line\nbreak", "é".repeat(300), "x".repeat(1000)];
      for (const [i, key] of keys.entries()) await store.set(key, i, 60_000);
      assert.deepEqual(await store.getMany(keys), [0, 1, 2, 3]);
    });

    it("forgets an entry once its time to live has passed", async () => {
      const store = cache.store("ttl");
      await store.set("short", 1, 1000);
      await store.set("long", 2, 60_000);
      await store.set("forever", 3, 0);
      assert.deepEqual(await store.getMany(["short"]), [1]);
      // Memcached counts whole seconds: wait past the next second boundary.
      let value: unknown = 1;
      for (let i = 0; i < 40 && value !== undefined; i++) {
        await sleep(100);
        [value] = await store.getMany(["short"]);
      }
      assert.equal(value, undefined);
      assert.deepEqual(await store.getMany(["long", "forever"]), [2, 3]);
    });

    it("reads a hundred keys in one call", async () => {
      const store = cache.store("many");
      const keys = Array.from({ length: 250 }, (_, i) => `k${i}`);
      await Promise.all(keys.map((key, i) => store.set(key, i, 60_000)));
      assert.deepEqual(await store.getMany(keys), keys.map((_, i) => i));
    });
  });
}

describe("memcached backend", () => {
  it("refuses a URL of another scheme and an unreachable server", async () => {
    await assert.rejects(MemcachedCacheBackend.connect("redis://127.0.0.1:6379"), /memcached:\/\//);
    await assert.rejects(MemcachedCacheBackend.connect("memcached://127.0.0.1:1", { timeoutMs: 500 }), /unreachable/);
  });

  it("fails commands after close", async () => {
    const cache = await MemcachedCacheBackend.connect(`memcached://127.0.0.1:${memcached.port}`, { keyPrefix: prefix });
    await cache.close();
    await assert.rejects(cache.store("x").getMany(["a"]), /closed/);
  });

  it("reconnects after the server went away and came back", async () => {
    const own = await startMemcached();
    const cache = await MemcachedCacheBackend.connect(`memcached://127.0.0.1:${own.port}`);
    await cache.store("r").set("a", 1, 60_000);
    await own.stop();
    await assert.rejects(cache.store("r").getMany(["a"]));
    const again = await startMemcached(own.port);
    try {
      assert.deepEqual(await cache.store("r").getMany(["a"]), [undefined], "a restarted Memcached is empty: a miss, never an error");
      await cache.store("r").set("a", 2, 60_000);
      assert.deepEqual(await cache.store("r").getMany(["a"]), [2]);
    } finally {
      await cache.close();
      await again.stop();
    }
  });

  it("serves a query cache shared by two instances: a write on one is seen by the other", async () => {
    const store = sqliteFileStore();
    const db = await store.open();
    await migrate(db, [tableMigration(items)]);
    const url = `memcached://127.0.0.1:${memcached.port}`;
    const keyPrefix = `${runId("qc")}:`;
    const one = new QueryCache({ backend: () => MemcachedCacheBackend.connect(url, { keyPrefix }) });
    const two = new QueryCache({ backend: () => MemcachedCacheBackend.connect(url, { keyPrefix }) });
    try {
      const a = new CachedRepository(createRepository<Item>(db, items), await one.table("items", { ttlMs: 60_000 }));
      const b = new CachedRepository(createRepository<Item>(db, items), await two.table("items", { ttlMs: 60_000 }));
      const row = await a.insert(item("first"));
      assert.equal((await a.findById(row.id))?.name, "first");
      assert.equal((await b.findById(row.id))?.name, "first");
      await b.update(row.id, { name: "second" });
      assert.equal((await a.findById(row.id))?.name, "second");
    } finally {
      await one.close();
      await two.close();
      await db.close();
      await store.cleanup();
    }
  });
});
