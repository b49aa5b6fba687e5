/**
 * `Repository.stream`: rows through a server-side cursor (PostgreSQL) or a
 * stepping statement (SQLite), in the query's order, a batch at a time; and
 * NDJSON list answers for `Accept: application/x-ndjson`.
 */
import assert from "node:assert/strict";
import { after, afterEach, beforeEach, describe, it } from "node:test";
import { Type } from "@sinclair/typebox";
import { defineEntity } from "../../src/core/entity-definition.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import { countingDriver } from "../_support/counting-driver.ts";
import { call } from "../_support/http.ts";
import { testStores } from "../_support/stores.ts";
import { item, type ItemsStore, openItems } from "./_items.ts";

for (const store of testStores()) {
  describe(`Repository.stream on ${store.name}`, () => {
    let s: ItemsStore;
    beforeEach(async () => {
      s = await openItems(store);
      await s.repo.insertMany(Array.from({ length: 250 }, (_, i) => item(`n${String(i).padStart(3, "0")}`, { rank: i % 7 })));
    });
    afterEach(() => s.db.close());
    after(() => store.cleanup());

    it("yields every matching row in the query's order", async () => {
      const names: string[] = [];
      const query = { filter: { kind: "compare", field: "rank", op: "lt", value: 3 } as const, sort: [{ field: "name", direction: "desc" as const }] };
      for await (const row of s.repo.stream(query, { batchSize: 16 })) names.push(row.name);
      const expected = (await s.repo.findMany(query)).map((row) => row.name);
      assert.equal(names.length, expected.length);
      assert.deepEqual(names, expected);
    });

    it("reads batch by batch: one statement, and nothing more once the loop is left", async () => {
      const db = countingDriver(s.db);
      const { createRepository } = await import("../../src/db/repository.ts");
      const { items } = await import("./_items.ts");
      const repo = createRepository(db, items);
      await repo.findById("warm-up");
      db.reset();
      let seen = 0;
      for await (const _ of repo.stream({}, { batchSize: 10 })) {
        if (++seen === 25) break;
      }
      assert.equal(seen, 25);
      assert.equal(db.statements.length, 1, "one statement");
      assert.equal(db.batches.count, 3, "three batches of ten read for 25 rows, not all 25 batches");
      // The store is usable after an early exit (the cursor was closed).
      assert.equal(await s.repo.count(), 250);
    });

    it("streams inside a transaction, seeing its own writes", async () => {
      const names = await s.db.transaction(async () => {
        await s.repo.insert(item("zz-new"));
        const out: string[] = [];
        for await (const row of s.repo.stream({ filter: { kind: "compare", field: "name", op: "startswith", value: "zz" } })) out.push(row.name);
        return out;
      });
      assert.deepEqual(names, ["zz-new"]);
    });
  });
}

const Reading = defineEntity({ table: "readings", fields: { site: Type.String(), value: Type.Number() } });

describe("NDJSON list answers", () => {
  it("answers one JSON object a line for Accept: application/x-ndjson, with filters, sort and fields", async () => {
    const app = await new ServiceBuilder({ info: { display_name: "ndjson" } }).withSettings({ env: {} }).withEntity(Reading).build();
    try {
      for (let i = 0; i < 150; i++) await app.chapkit.context.get<{ create(body: unknown): Promise<unknown> }>("entity:readings").create({ site: i % 2 ? "a" : "b", value: i });
      const response = await call(app, "GET", "/api/v1/readings?site=a&sort=-value&fields=value", undefined, { accept: "application/x-ndjson" });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), "application/x-ndjson");
      const lines = (await response.text()).trimEnd().split("\n").map((line) => JSON.parse(line) as { value: number });
      assert.equal(lines.length, 75);
      assert.deepEqual(lines[0], { value: 149 });
      assert.deepEqual(lines.at(-1), { value: 1 });
      const page = await call(app, "GET", "/api/v1/readings?limit=10", undefined, { accept: "application/x-ndjson" });
      assert.equal((await page.text()).trimEnd().split("\n").length, 10, "a cursor page streams that page's rows");
      const json = await call(app, "GET", "/api/v1/readings?limit=10");
      assert.match(json.headers.get("content-type") ?? "", /application\/json/);
    } finally {
      await app.chapkit.close();
    }
  });

  it("answers a bad filter with a problem, not a stream", async () => {
    const app = await new ServiceBuilder({ info: { display_name: "ndjson" } }).withSettings({ env: {} }).withEntity(Reading).build();
    try {
      const response = await call(app, "GET", "/api/v1/readings?nope=1", undefined, { accept: "application/x-ndjson" });
      assert.equal(response.status, 400);
      assert.match(response.headers.get("content-type") ?? "", /problem\+json/);
    } finally {
      await app.chapkit.close();
    }
  });
});

for (const store of testStores()) {
  describe(`a service's store streams on ${store.name}`, () => {
    after(() => store.cleanup());

    it("keeps the driver's stream through the service's commit tracking, so streamed lists read batch by batch", async () => {
      const { trackCommits } = await import("../../src/db/commit-hooks.ts");
      const db = await store.open();
      try {
        const tracked = trackCommits(db);
        assert.equal(typeof tracked.stream, "function");
        const batches: number[] = [];
        for await (const rows of tracked.stream!<{ n: number }>("SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3", [], 2)) batches.push(rows.length);
        assert.deepEqual(batches, [2, 1]);
      } finally {
        await db.close();
      }
    });
  });
}
