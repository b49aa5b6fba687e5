/**
 * `Last-Modified` on entity GETs (from `updated_at`), `If-Modified-Since`
 * answered with 304, beside the per-route `Cache-Control` setting.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Type } from "@sinclair/typebox";
import { defineEntity } from "../../src/core/entity-definition.ts";
import type { Driver } from "../../src/db/driver.ts";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import { call, json } from "../_support/http.ts";
import { postgresStore, sqliteFileStore } from "../_support/stores.ts";

const Memo = defineEntity({ table: "memos", name: "Memo", fields: { text: Type.String() } });

for (const store of [sqliteFileStore(), postgresStore()]) {
  describe(`Last-Modified on ${store.name}`, () => {
    let db: Driver;
    let app: ServiceApp;

    before(async () => {
      db = await store.open();
      app = await new ServiceBuilder({
        info: { display_name: "Memos" },
        settings: { http: { cacheControl: { "GET /api/v1/memos/*": "private, max-age=60" } } },
      }).withDatabase(db).withEntity(Memo).build();
    });
    after(async () => {
      await app.chapkit.close();
      await db.close();
      await store.cleanup();
    });

    it("sends Last-Modified from updated_at next to the route's Cache-Control, and 304 while unchanged", async () => {
      const memo = await json(await call(app, "POST", "/api/v1/memos", { text: "a" }), 201);
      const res = await call(app, "GET", `/api/v1/memos/${memo.id}`);
      const lastModified = res.headers.get("last-modified");
      assert.equal(res.status, 200);
      await res.body?.cancel();
      assert.equal(lastModified, new Date(String(memo.updated_at)).toUTCString());
      assert.equal(res.headers.get("cache-control"), "private, max-age=60");

      const same = await call(app, "GET", `/api/v1/memos/${memo.id}`, undefined, { "if-modified-since": lastModified! });
      assert.equal(same.status, 304);
      assert.equal(same.headers.get("last-modified"), lastModified);
      assert.equal(await same.text(), "");

      const older = new Date(Date.parse(String(memo.updated_at)) - 60_000).toUTCString();
      assert.equal((await call(app, "GET", `/api/v1/memos/${memo.id}`, undefined, { "if-modified-since": older })).status, 200);
      assert.equal((await call(app, "GET", `/api/v1/memos/${memo.id}`, undefined, { "if-modified-since": "not a date" })).status, 200);
      // If-None-Match decides alone when both are sent (RFC 9110 §13.2.2).
      assert.equal((await call(app, "GET", `/api/v1/memos/${memo.id}`, undefined, { "if-modified-since": lastModified!, "if-none-match": '"other"' })).status, 200);
    });

    it("answers 200 with the new date once the entity changed later", async () => {
      const memo = await json(await call(app, "POST", "/api/v1/memos", { text: "b" }), 201);
      const since = new Date(String(memo.updated_at)).toUTCString();
      // The date has whole seconds: change the memo in the next second.
      const nextSecond = Math.floor(Date.parse(String(memo.updated_at)) / 1000) * 1000 + 1000;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, nextSecond - Date.now()) + 5));
      const changed = await json(await call(app, "PUT", `/api/v1/memos/${memo.id}`, { text: "c" }), 200);
      const res = await call(app, "GET", `/api/v1/memos/${memo.id}`, undefined, { "if-modified-since": since });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("last-modified"), new Date(String(changed.updated_at)).toUTCString());
      assert.equal((await res.json() as { text: string }).text, "c");
    });
  });
}
