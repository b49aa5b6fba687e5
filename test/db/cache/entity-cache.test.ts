/** `withEntity(…, { cache })`: a service's cached table, its metrics, and no cache for tables that do not opt in. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Type } from "@sinclair/typebox";
import { defineEntity } from "../../../src/core/entity-definition.ts";
import { CachedRepository } from "../../../src/db/cache/cached-repository.ts";
import { SqlRepository } from "../../../src/db/repository.ts";
import { entityManagerOf } from "../../../src/modules/entity/mod.ts";
import { ServiceBuilder } from "../../../src/service/service-builder.ts";
import { call, json } from "../../_support/http.ts";

const Note = defineEntity({ table: "notes", fields: { title: Type.String() } });
const Tag = defineEntity({ table: "tags", fields: { label: Type.String() } });

describe("an entity with the query cache", () => {
  it("serves repeated reads from the cache, counts hits and misses, and sees every write", async () => {
    const app = await new ServiceBuilder({ info: { display_name: "cache" } })
      .withSettings({ env: {} })
      .withMonitoring()
      .withEntity(Note, { cache: { ttlMs: 60_000 } })
      .withEntity(Tag)
      .build();
    try {
      const note = await json<{ id: string }>(await call(app, "POST", "/api/v1/notes", { title: "a" }), 201);
      await json(await call(app, "GET", `/api/v1/notes/${note.id}`), 200);
      await json(await call(app, "GET", `/api/v1/notes/${note.id}`), 200);
      await json(await call(app, "PUT", `/api/v1/notes/${note.id}`, { title: "b" }), 200);
      const read = await json<{ title: string }>(await call(app, "GET", `/api/v1/notes/${note.id}`), 200);
      assert.equal(read.title, "b");
      const metrics = await (await call(app, "GET", "/metrics")).text();
      assert.match(metrics, /chapkit_cache_requests_total\{table="notes",result="hit"\} [1-9]/);
      assert.match(metrics, /chapkit_cache_requests_total\{table="notes",result="miss"\} [1-9]/);
      assert.doesNotMatch(metrics, /table="tags"/);
      assert.ok(entityManagerOf(app.chapkit.context, Note).repository instanceof CachedRepository);
      assert.ok(entityManagerOf(app.chapkit.context, Tag).repository instanceof SqlRepository, "no cache unless the table opts in");
    } finally {
      await app.chapkit.close();
    }
  });
});
