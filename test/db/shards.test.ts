/**
 * Sharding over two real PostgreSQL databases, created for the run and
 * dropped after: rows routed by the key's hash through the shard map, reads
 * pinned to one shard or merged across both in order, cursor paging across
 * shards, writes by id found on their shard.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import postgres from "postgres";
import { defineTable, type EntityRecord } from "../../src/core/entity.ts";
import { BadRequestError, InvalidQueryError } from "../../src/core/errors.ts";
import type { Driver } from "../../src/db/driver.ts";
import { openDatabase } from "../../src/db/open.ts";
import { ShardedRepository, shardHash, ShardMap } from "../../src/db/shards.ts";
import { entityTableMigrations } from "../../src/db/table-migration.ts";
import { DATABASE_URL } from "../_support/stores.ts";
import { Type } from "@sinclair/typebox";
import { defineEntity } from "../../src/core/entity-definition.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import { call, json } from "../_support/http.ts";

interface Reading extends EntityRecord {
  site: string;
  value: number;
  note: string | null;
}

const readings = defineTable({
  name: "readings",
  columns: { site: { type: "text", indexed: true }, value: { type: "integer" }, note: { type: "text", nullable: true } },
});
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const names = [0, 1].map((i) => `chapkit_shard_${run}_${i}`);

describe("ShardMap", () => {
  it("routes a key to the same shard every time, spreading keys over every shard", () => {
    const map = new ShardMap(["a", "b"]);
    assert.equal(map.shardOf("site-7"), map.shardOf("site-7"));
    assert.equal(shardHash("abc"), 440920331); // FNV-1a: stable across runtimes and releases
    const used = new Set(Array.from({ length: 50 }, (_, i) => map.shardOf(`k${i}`)));
    assert.deepEqual([...used].sort(), [0, 1]);
    assert.deepEqual(map.toJSON().buckets.slice(0, 4), [0, 1, 0, 1]);
  });

  it("follows an explicit bucket assignment and refuses one naming a missing shard", () => {
    const map = new ShardMap(["a", "b"], { assignment: [1, 1, 1] });
    assert.equal(map.shardOf("anything"), 1);
    assert.throws(() => new ShardMap(["a"], { assignment: [0, 1] }), /shard 1, which does not exist/);
  });
});

describe("a table sharded over two PostgreSQL databases", () => {
  let admin: postgres.Sql;
  let drivers: Driver[] = [];
  let repo: ShardedRepository<Reading>;
  const rows: Reading[] = [];

  // Set up by the first test that needs it (hooks have a short timeout on Bun).
  let starting: Promise<void> | undefined;
  const ready = (): Promise<void> =>
    starting ??= (async () => {
      admin = postgres(DATABASE_URL, { max: 2, onnotice: () => {} });
      for (const name of names) await admin.unsafe(`CREATE DATABASE "${name}"`);
      drivers = await Promise.all(names.map((name) => {
        const url = new URL(DATABASE_URL);
        url.pathname = `/${name}`;
        return openDatabase(url.toString(), { postgres: { max: 2 } });
      }));
      repo = new ShardedRepository<Reading>(drivers, readings, { key: "site" });
      await repo.migrate(entityTableMigrations(readings));
      // Values repeat (i % 25), so the id tie-breaker decides between shards too.
      rows.push(...await repo.insertMany(Array.from({ length: 120 }, (_, i) => ({ site: `s${i % 12}`, value: i % 25, note: i % 7 === 0 ? null : `n${i}` }))));
    })();

  /** Closes the shards and drops their databases (a checkpoint each: slow on a busy server). */
  let dropping: Promise<void> | undefined;
  const dropAll = (): Promise<void> =>
    dropping ??= (async () => {
      if (!starting) return;
      await starting.catch(() => {});
      await Promise.all(drivers.map((driver) => driver.close()));
      await Promise.all(names.map((name) => admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)));
      await admin.end({ timeout: 1 });
    })();
  // The last test drops the databases (hooks have a short timeout on Bun); this is the safety net.
  after(() => dropAll());

  const byValueThenId = (a: Reading, b: Reading) => a.value - b.value || (a.id < b.id ? -1 : 1);

  it("stores each row in the database its key's shard names, and both databases hold rows", async () => {
    await ready();
    const held = await Promise.all(drivers.map((driver) => driver.query<{ id: string; site: string }>("SELECT id, site FROM readings")));
    assert.equal(held[0]!.length + held[1]!.length, 120);
    assert.ok(held[0]!.length > 0 && held[1]!.length > 0);
    held.forEach((shardRows, shard) => {
      for (const row of shardRows) assert.equal(repo.map.shardOf(row.site), shard, `${row.site} on shard ${shard}`);
    });
    assert.deepEqual(rows.map((row) => row.site).slice(0, 3), ["s0", "s1", "s2"], "insertMany answers in the input order");
  });

  it("merges a list across shards in the query's order, with offset and limit", async () => {
    await ready();
    const expected = [...rows].sort((a, b) => b.value - a.value || (a.id < b.id ? -1 : 1)).slice(10, 30).map((row) => row.id);
    const got = await repo.findMany({ sort: [{ field: "value", direction: "desc" }], offset: 10, limit: 20 });
    assert.deepEqual(got.map((row) => row.id), expected);
    assert.equal(await repo.count(), 120);
  });

  it("reads a pinned key from its shard alone", async () => {
    await ready();
    const pinned = await repo.findMany({
      filter: { kind: "and", items: [{ kind: "compare", field: "site", op: "eq", value: "s5" }, { kind: "compare", field: "value", op: "gte", value: 0 }] },
    });
    assert.deepEqual(pinned.map((row) => row.id).sort(), rows.filter((row) => row.site === "s5").map((row) => row.id).sort());
    assert.equal(await repo.count({ filter: { kind: "compare", field: "site", op: "eq", value: "s5" } }), 10);
  });

  it("pages across shards with a cursor: every row once, in order, nulls first", async () => {
    await ready();
    for (const sort of [[{ field: "value", direction: "asc" as const }], [{ field: "note", direction: "asc" as const }]]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: { items: Reading[]; next_cursor: string | null } = await repo.page({ sort, limit: 17, cursor });
        seen.push(...page.items.map((row) => row.id));
        cursor = page.next_cursor;
        pages++;
      } while (cursor);
      assert.equal(pages, Math.ceil(120 / 17));
      const expected = sort[0]!.field === "value"
        ? [...rows].sort(byValueThenId)
        : [...rows].sort((a, b) => (a.note === b.note ? 0 : a.note === null ? -1 : b.note === null ? 1 : a.note < b.note ? -1 : 1) || (a.id < b.id ? -1 : 1));
      assert.deepEqual(seen, expected.map((row) => row.id));
    }
  });

  it("finds, updates and deletes a row by id on whichever shard holds it", async () => {
    await ready();
    const target = rows.find((row) => repo.map.shardOf(row.site) === 1)!;
    assert.equal((await repo.findById(target.id))?.site, target.site);
    assert.equal((await repo.update(target.id, { value: 999 }))?.value, 999);
    assert.equal(await repo.delete(target.id), true);
    assert.equal(await repo.findById(target.id), null);
    assert.equal(await repo.count(), 119);
  });

  it("refuses a row without its key, a key that would move a row, a bad cursor and a cross-shard transaction", async () => {
    await ready();
    await assert.rejects(
      repo.insert({ value: 1, note: null } as never),
      (error: unknown) => error instanceof BadRequestError && /sharded by site/.test(error.message),
    );
    const row = rows.find((r) => repo.map.shardOf(r.site) === 0 && r.value !== 999)!;
    const other = Array.from({ length: 50 }, (_, i) => `x${i}`).find((site) => repo.map.shardOf(site) === 1)!;
    await assert.rejects(repo.update(row.id, { site: other }), (error: unknown) => error instanceof BadRequestError && /cannot change/.test(error.message));
    await assert.rejects(repo.page({ limit: 5, cursor: "not-a-cursor" }), InvalidQueryError);
    await assert.rejects(repo.transaction(async () => {}), /cannot span its databases/);
    await repo.forKey(row.site).transaction(async (shard) => shard.update(row.id, { note: "in one shard" }));
    assert.equal((await repo.findById(row.id))?.note, "in one shard");
  });

  it("serves a sharded entity over HTTP: writes routed by key, lists merged across databases with cursor pages", async () => {
    await ready();
    const Visit = defineEntity({ table: "visits", fields: { site: Type.String(), n: Type.Integer() } });
    const urls = names.map((name) => {
      const url = new URL(DATABASE_URL);
      url.pathname = `/${name}`;
      return url.toString();
    });
    const app = await new ServiceBuilder({ info: { display_name: "shards" } })
      .withSettings({ env: {} })
      .withEntity(Visit, { shards: { key: "site", urls } })
      .build();
    try {
      const made: { id: string; site: string; n: number }[] = [];
      for (let i = 0; i < 12; i++) made.push(await json(await call(app, "POST", "/api/v1/visits", { site: `v${i % 5}`, n: i }), 201));
      const held = await Promise.all(drivers.map((driver) => driver.query<{ id: string }>("SELECT id FROM visits")));
      assert.ok(held[0]!.length > 0 && held[1]!.length > 0, "both databases hold visits");
      assert.equal(held[0]!.length + held[1]!.length, 12);
      const first = await json<{ items: { n: number }[]; next_cursor: string | null }>(await call(app, "GET", "/api/v1/visits?sort=-n&limit=5"), 200);
      assert.deepEqual(first.items.map((item) => item.n), [11, 10, 9, 8, 7]);
      const second = await json<{ items: { n: number }[] }>(await call(app, "GET", `/api/v1/visits?limit=5&cursor=${encodeURIComponent(first.next_cursor!)}`), 200);
      assert.deepEqual(second.items.map((item) => item.n), [6, 5, 4, 3, 2]);
      const one = made[3]!;
      assert.equal((await json<{ n: number }>(await call(app, "GET", `/api/v1/visits/${one.id}`), 200)).n, 3);
      assert.equal((await call(app, "DELETE", `/api/v1/visits/${one.id}`)).status, 204);
      const missing = await call(app, "POST", "/api/v1/visits", { n: 1 });
      assert.equal(missing.status, 422, "site is required by the schema");
      assert.throws(() => new ServiceBuilder({ info: { display_name: "x" } }).withEntity(Visit, { shards: { key: "site", urls }, cache: true }), /neither cache nor partition/);
      assert.throws(() => new ServiceBuilder({ info: { display_name: "x" } }).withEntity(Visit, { shards: { key: "nope", urls } }), /no such column/);
    } finally {
      await app.chapkit.close();
    }
  });

  it("drops its databases when done", { timeout: 60_000 }, async () => {
    await dropAll();
    const check = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
    try {
      const left = await check`SELECT datname FROM pg_database WHERE datname = ANY(${names})`;
      assert.equal(left.length, 0);
    } finally {
      await check.end({ timeout: 1 });
    }
  });
});
