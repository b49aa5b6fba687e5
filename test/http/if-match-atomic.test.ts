import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Type } from "@sinclair/typebox";
import type { Driver } from "../../src/db/driver.ts";
import { rowVersionOf } from "../../src/db/repository.ts";
import type { ServiceApp } from "../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import { testStores } from "../_support/stores.ts";

type Json = Record<string, unknown>;

function send(app: ServiceApp, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return app.handle(new Request(`http://localhost${path}`, {
    method,
    headers: { "content-type": "application/json", ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  }));
}

for (const store of testStores()) {
  describe(`If-Match is checked inside the write, on ${store.name}`, () => {
    let db: Driver;
    let app: ServiceApp;

    before(async () => {
      db = await store.open();
      app = await new ServiceBuilder({ info: { display_name: "If-Match" } })
        .withDatabase(db)
        .withConfig(Type.Object({ n: Type.Integer() }, { additionalProperties: true }))
        .withArtifacts({ hierarchy: { name: "h", level_labels: {} } })
        .build();
    });
    after(async () => {
      await app.chapkit.close();
      await db.close();
      await store.cleanup();
    });

    const created = async (path: string, body: Json): Promise<{ id: string; etag: string }> => {
      const made = (await (await send(app, "POST", path, body)).json()) as Json;
      const read = await send(app, "GET", `${path}/${made.id}`);
      await read.body?.cancel();
      return { id: String(made.id), etag: read.headers.get("etag")! };
    };

    test("two concurrent PATCHes with the same ETag give one 200 and one 412", async () => {
      for (let round = 0; round < 5; round++) {
        const { id, etag } = await created("/api/v1/config", { name: `race-${round}`, data: { n: 0 } });
        const answers = await Promise.all([1, 2].map((n) =>
          send(app, "PATCH", `/api/v1/config/${id}`, { data: { n } }, { "if-match": etag })
        ));
        const statuses = answers.map((answer) => answer.status).sort();
        assert.deepEqual(statuses, [200, 412], `round ${round}`);
        const problem = (await answers.find((answer) => answer.status === 412)!.json()) as Json;
        assert.equal(problem.type, "urn:chapkit:error:precondition-failed");
        const winner = (await answers.find((answer) => answer.status === 200)!.json()) as { data: Json };
        const stored = (await (await send(app, "GET", `/api/v1/config/${id}`)).json()) as { data: Json };
        assert.deepEqual(stored.data, winner.data);
      }
    });

    test("two concurrent PUTs and a PUT racing a DELETE with the same ETag: exactly one wins", async () => {
      const { id, etag } = await created("/api/v1/config", { name: "put-race", data: { n: 0 } });
      const puts = await Promise.all([1, 2].map((n) =>
        send(app, "PUT", `/api/v1/config/${id}`, { name: "put-race", data: { n } }, { "if-match": etag })
      ));
      assert.deepEqual(puts.map((answer) => answer.status).sort(), [200, 412]);
      const fresh = await send(app, "GET", `/api/v1/config/${id}`);
      const tag = fresh.headers.get("etag")!;
      await fresh.body?.cancel();
      const mixed = await Promise.all([
        send(app, "PUT", `/api/v1/config/${id}`, { name: "put-race", data: { n: 9 } }, { "if-match": tag }),
        send(app, "DELETE", `/api/v1/config/${id}`, undefined, { "if-match": tag }),
      ]);
      assert.equal(mixed.filter((answer) => answer.status < 300).length, 1, mixed.map((a) => a.status).join(","));
    });

    test("concurrent artifact writes with the same ETag: one wins", async () => {
      const { id, etag } = await created("/api/v1/artifacts", { data: { v: 0 } });
      const answers = await Promise.all([1, 2].map((v) =>
        send(app, "PUT", `/api/v1/artifacts/${id}`, { data: { v } }, { "if-match": etag })
      ));
      assert.deepEqual(answers.map((answer) => answer.status).sort(), [200, 412]);
      const deleted = await send(app, "DELETE", `/api/v1/artifacts/${id}`, undefined, { "if-match": etag });
      assert.equal(deleted.status, 412);
    });

    test("every write increments the internal version, which never reaches the wire", async () => {
      const { id } = await created("/api/v1/config", { name: "versioned", data: { n: 0 } });
      const repository = app.chapkit.context.get<{ repository: { findById(id: string): Promise<Json & { id: string; created_at: string; updated_at: string } | null> } }>("config").repository;
      const first = rowVersionOf((await repository.findById(id))!);
      await send(app, "PATCH", `/api/v1/config/${id}`, { data: { n: 1 } });
      await send(app, "PATCH", `/api/v1/config/${id}`, { data: { n: 2 } });
      assert.equal(rowVersionOf((await repository.findById(id))!), first! + 2);
      const body = (await (await send(app, "GET", `/api/v1/config/${id}`)).json()) as Json;
      assert.ok(!("_version" in body) && !JSON.stringify(body).includes("_version"));
    });

    test("the ETag of a row comes from its id and version: stable while unchanged, new after a write, 304 and If-Match hold", async () => {
      const { id, etag } = await created("/api/v1/config", { name: "tagged", data: { n: 0 } });
      assert.match(etag, new RegExp(`^"${id}\\.\\d+\\.[0-9a-z-]+"$`));
      const again = await send(app, "GET", `/api/v1/config/${id}`);
      await again.body?.cancel();
      assert.equal(again.headers.get("etag"), etag);
      const cached = await send(app, "GET", `/api/v1/config/${id}`, undefined, { "if-none-match": etag });
      assert.equal(cached.status, 304);
      const unchanged = await send(app, "PATCH", `/api/v1/config/${id}`, { data: { n: 0 } }, { "if-match": etag });
      assert.equal(unchanged.status, 200, "a write that changes nothing keeps the tag");
      const patched = await send(app, "PATCH", `/api/v1/config/${id}`, { data: { n: 1 } }, { "if-match": etag });
      assert.equal(patched.status, 200);
      const read = await send(app, "GET", `/api/v1/config/${id}`, undefined, { "if-none-match": etag });
      assert.equal(read.status, 200);
      assert.notEqual(read.headers.get("etag"), etag);
      assert.equal(((await read.json()) as { data: { n: number } }).data.n, 1);
      const stale = await send(app, "DELETE", `/api/v1/config/${id}`, undefined, { "if-match": etag });
      assert.equal(stale.status, 412);
    });
  });
}
