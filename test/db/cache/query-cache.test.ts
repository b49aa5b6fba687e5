/**
 * The query cache: reads by id, lists and counts served from the cache;
 * every write invalidates exactly what it affects, after its transaction,
 * on this instance and on the others (memory caches over LISTEN/NOTIFY or
 * Redis pub/sub; the Redis backend shared by all).
 */
import assert from "node:assert/strict";
import { after, afterEach, describe, it } from "node:test";
import { MemoryCacheBackend } from "../../../src/db/cache/memory-cache.ts";
import { CachedRepository } from "../../../src/db/cache/cached-repository.ts";
import { PostgresCacheBus } from "../../../src/db/cache/postgres-bus.ts";
import { QueryCache } from "../../../src/db/cache/query-cache.ts";
import type { CacheBus } from "../../../src/core/cache.ts";
import type { Driver } from "../../../src/db/driver.ts";
import { migrate } from "../../../src/db/migrate.ts";
import { createRepository } from "../../../src/db/repository.ts";
import { tableMigration } from "../../../src/db/table-migration.ts";
import { RedisCacheBackend, RedisCacheBus } from "../../../src/integrations/redis-cache.ts";
import { openDatabase } from "../../../src/db/open.ts";
import { countingDriver, type CountingDriver } from "../../_support/counting-driver.ts";
import { DATABASE_URL, postgresStore, sqliteFileStore, type TestStore } from "../../_support/stores.ts";
import { type Item, item, items } from "../_items.ts";

const REDIS_URL = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const prefix = `chapkit-test:cache:${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}:`;

interface Instance {
  db: CountingDriver;
  repo: CachedRepository<Item>;
  cache: QueryCache;
  lookups: { hit: number; miss: number };
}

async function instance(raw: Driver, options: { backend?: "memory" | "redis"; bus?: (id: string) => CacheBus | Promise<CacheBus> } = {}): Promise<Instance> {
  const db = countingDriver(raw);
  const lookups = { hit: 0, miss: 0 };
  const id = crypto.randomUUID();
  const cache = new QueryCache({
    backend: () => options.backend === "redis" ? RedisCacheBackend.connect(REDIS_URL, { keyPrefix: prefix }) : new MemoryCacheBackend(),
    ...(options.bus ? { bus: () => options.bus!(id) } : {}),
    onLookup: (_table, hit) => void (hit ? lookups.hit++ : lookups.miss++),
  });
  const repo = new CachedRepository(createRepository<Item>(db, items), await cache.table("items", { ttlMs: 60_000 }));
  return { db, repo, cache, lookups };
}

for (const store of [sqliteFileStore(), postgresStore()] satisfies TestStore[]) {
  describe(`query cache on ${store.name}`, () => {
    const open: Instance[] = [];
    afterEach(async () => {
      for (const one of open.splice(0)) {
        await one.cache.close();
        await one.db.close();
      }
    });
    after(() => store.cleanup());

    async function single(): Promise<Instance> {
      const raw = await store.open();
      await migrate(raw, [tableMigration(items)]);
      const one = await instance(raw);
      open.push(one);
      return one;
    }

    it("serves a second read by id from the cache, without a statement", async () => {
      const { db, repo, lookups } = await single();
      const row = await repo.insert(item("a", { data: { x: [1, 2] } }));
      assert.deepEqual(await repo.findById(row.id), row);
      db.reset();
      assert.deepEqual(await repo.findById(row.id), row);
      assert.deepEqual(db.statements, []);
      assert.deepEqual(lookups, { hit: 1, miss: 1 });
    });

    it("serves lists and counts from the cache until a write", async () => {
      const { db, repo } = await single();
      await repo.insertMany([item("a", { rank: 1 }), item("b", { rank: 2 })]);
      const query = { filter: { kind: "compare", field: "rank", op: "gte", value: 1 } as const, limit: 10 };
      assert.equal((await repo.findMany(query)).length, 2);
      assert.equal(await repo.count(query), 2);
      db.reset();
      assert.equal((await repo.findMany(query)).length, 2);
      assert.equal(await repo.count(query), 2);
      assert.deepEqual(db.statements, []);
      await repo.insert(item("c", { rank: 3 }));
      assert.equal((await repo.findMany(query)).length, 3);
      assert.equal(await repo.count(query), 3);
    });

    it("invalidates exactly the row an update changes, and every list", async () => {
      const { db, repo } = await single();
      const [a, b] = await repo.insertMany([item("a"), item("b")]);
      await repo.findById(a!.id);
      await repo.findById(b!.id);
      await repo.findMany({});
      await repo.update(a!.id, { name: "a2" });
      db.reset();
      assert.equal((await repo.findById(b!.id))?.name, "b");
      assert.deepEqual(db.statements, [], "the other row is still served from the cache");
      assert.equal((await repo.findById(a!.id))?.name, "a2");
      assert.deepEqual((await repo.findMany({})).map((row) => row.name), ["a2", "b"]);
      assert.equal(db.statements.length, 2, "the updated row and the list are read again");
    });

    it("forgets a deleted row, and rows deleted by a filter", async () => {
      const { repo } = await single();
      const [a, b] = await repo.insertMany([item("a", { rank: 1 }), item("b", { rank: 2 })]);
      await repo.findById(a!.id);
      await repo.findById(b!.id);
      await repo.delete(a!.id);
      assert.equal(await repo.findById(a!.id), null);
      await repo.deleteMany({ kind: "compare", field: "rank", op: "eq", value: 2 });
      assert.equal(await repo.findById(b!.id), null);
    });

    it("keeps the row version of a cached row, so If-Match writes still hold", async () => {
      const { repo } = await single();
      const row = await repo.insert(item("a"));
      await repo.findById(row.id);
      const cached = await repo.findById(row.id);
      const updated = await repo.update(row.id, { name: "b" }, { expected: cached! });
      assert.equal(updated?.name, "b");
      await assert.rejects(repo.update(row.id, { name: "c" }, { expected: cached! }), /changed since/);
    });

    it("reads inside a transaction from the store and invalidates once it has committed", async () => {
      const { repo } = await single();
      const row = await repo.insert(item("a"));
      await repo.findById(row.id);
      await repo.transaction(async (tx) => {
        await tx.update(row.id, { name: "b" });
        assert.equal((await tx.findById(row.id))?.name, "b", "the transaction sees its own write");
      });
      assert.equal((await repo.findById(row.id))?.name, "b");
    });

    it("never serves a row read before a write that finished before it was stored", async () => {
      const { repo } = await single();
      const row = await repo.insert(item("a"));
      const lookup = await repo.cache.row<unknown>(row.id);
      assert.equal(lookup.hit, false);
      const stale = await repo.inner.findById(row.id);
      await repo.update(row.id, { name: "b" });
      if (!lookup.hit) await lookup.fill([stale, undefined]);
      assert.equal((await repo.findById(row.id))?.name, "b");
    });
  });
}

describe("query cache across instances", () => {
  const pg = postgresStore();
  const open: Instance[] = [];
  afterEach(async () => {
    for (const one of open.splice(0)) {
      await one.cache.close();
      await one.db.close();
    }
  });
  after(async () => {
    await pg.cleanup();
    const { Redis } = await import("ioredis");
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  /** Two instances (two pools) on one PostgreSQL schema. */
  async function pair(options: Parameters<typeof instance>[1]): Promise<[Instance, Instance]> {
    const first = await pg.open();
    await migrate(first, [tableMigration(items)]);
    const schema = new URL(pg.url()).searchParams.get("search_path")!;
    const second = await openDatabase(DATABASE_URL, { postgres: { schema, max: 4 } });
    const one = await instance(first, options);
    const two = await instance(second, options);
    open.push(one, two);
    return [one, two];
  }

  it("reads no stale row or list after a write on another instance (shared Redis backend)", async () => {
    const [a, b] = await pair({ backend: "redis" });
    const row = await a.repo.insert(item("a"));
    await a.repo.findById(row.id);
    await a.repo.findMany({});
    assert.equal((await b.repo.findById(row.id))?.name, "a");
    assert.equal(b.lookups.hit, 1, "b is served a's entry");
    await b.repo.update(row.id, { name: "b" });
    assert.equal((await a.repo.findById(row.id))?.name, "b");
    assert.deepEqual((await a.repo.findMany({})).map((r) => r.name), ["b"]);
  });

  for (const transport of ["postgres", "redis"] as const) {
    it(`invalidates memory caches of other instances over ${transport === "postgres" ? "LISTEN/NOTIFY" : "Redis pub/sub"}`, async () => {
      // Each instance's bus delivers to the cache first; the test's own subscriber then knows it was applied.
      const delivered: ((ids: string[]) => boolean)[] = [];
      const bus = async (id: string, db: Driver): Promise<CacheBus> => {
        const real = transport === "postgres" ? new PostgresCacheBus(db, { instanceId: id }) : await RedisCacheBus.connect(REDIS_URL, { instanceId: id, channel: `${prefix}bus` });
        return {
          publish: (message) => real.publish(message),
          subscribe: (onMessage) =>
            real.subscribe((message) => {
              onMessage(message);
              for (const notify of [...delivered]) if (notify(message.ids ?? [])) delivered.splice(delivered.indexOf(notify), 1);
            }),
        };
      };
      const first = await pg.open();
      await migrate(first, [tableMigration(items)]);
      const schema = new URL(pg.url()).searchParams.get("search_path")!;
      const second = await openDatabase(DATABASE_URL, { postgres: { schema, max: 4 } });
      const a = await instance(first, { bus: (id) => bus(id, first) });
      const b = await instance(second, { bus: (id) => bus(id, second) });
      open.push(a, b);
      const row = await a.repo.insert(item("a"));
      assert.equal((await a.repo.findById(row.id))?.name, "a");
      assert.equal((await a.repo.findById(row.id))?.name, "a");
      assert.equal(a.lookups.hit, 1);
      const arrived = new Promise<void>((resolve) => delivered.push((ids) => ids.includes(row.id) && (resolve(), true)));
      await b.repo.update(row.id, { name: "b" });
      await arrived;
      assert.equal((await a.repo.findById(row.id))?.name, "b");
    });
  }
});
