/**
 * `withEntity`: one definition gives a migrated table, a manager reachable
 * from the service, and CRUD routes with every list feature, on every store.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Type } from "@sinclair/typebox";
import { defineEntity, field } from "../../../src/core/entity-definition.ts";
import { ConflictError } from "../../../src/core/errors.ts";
import { UlidSchema } from "../../../src/core/schema.ts";
import type { Driver } from "../../../src/db/driver.ts";
import type { AuthManager } from "../../../src/modules/auth/manager.ts";
import { AUTH_KEY } from "../../../src/modules/auth/mod.ts";
import type { ServiceApp } from "../../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../../src/service/service-builder.ts";
import { call, json } from "../../_support/http.ts";
import { testStores } from "../../_support/stores.ts";

const Note = defineEntity({
  table: "notes",
  name: "Note",
  fields: {
    title: field(Type.String({ minLength: 1, maxLength: 120 }), { unique: true }),
    stars: Type.Integer({ minimum: 0, default: 0 }),
    body: Type.String({ default: "" }),
    tags: Type.Array(Type.String(), { default: [] }),
    due: Type.Optional(Type.String({ format: "date-time" })),
  },
  searchable: ["title", "body"],
  indexes: [{ columns: ["stars", "created_at"] }],
});

type Page = { items: Record<string, unknown>[]; next_cursor?: string | null; total?: number };

for (const store of testStores()) {
  describe(`withEntity on ${store.name}`, () => {
    let db: Driver;
    let app: ServiceApp;
    const deleted: string[] = [];

    before(async () => {
      db = await store.open();
      app = await new ServiceBuilder({ info: { display_name: "Notes" } })
        .withDatabase(db)
        .withEntity(Note, {
          hooks: {
            beforeCreate: (input) => ({ ...input, tags: [...new Set(input.tags.map((tag) => tag.toLowerCase()))] }),
            afterDelete: (record) => void deleted.push(record.title),
          },
        })
        .build();
    });
    after(async () => {
      await app.chapkit.close();
      await db.close();
      await store.cleanup();
    });

    it("creates through the routes and answers 201 with Location", async () => {
      const res = await call(app, "POST", "/api/v1/notes", { title: "Milk", body: "buy milk", tags: ["Home", "home"], stars: 2 });
      const note = await json(res, 201);
      assert.equal(res.headers.get("location"), `http://localhost/api/v1/notes/${note.id}`);
      assert.deepEqual(note.tags, ["home"]);
      assert.equal(note.due, null);
    });

    it("gives the typed manager to direct calls that share the service's store and hooks", async () => {
      const notes = app.chapkit.manager(Note);
      const eggs = await notes.create({ title: "Eggs", tags: ["Shop"], stars: 5, due: "2026-03-01T10:00:00.000Z" });
      const stars: number = eggs.stars;
      assert.equal(stars, 5);
      assert.deepEqual(eggs.tags, ["shop"]);
      assert.equal(eggs.due, "2026-03-01T10:00:00.000Z");
      await notes.create({ title: "Bread", body: "whole grain", stars: 1 });
      const fetched = await json(await call(app, "GET", `/api/v1/notes/${eggs.id}`), 200);
      assert.equal(fetched.title, "Eggs");
    });

    it("lists with filters, sort and field selection", async () => {
      const rows = await json<Record<string, unknown>[]>(
        await call(app, "GET", "/api/v1/notes?stars[gte]=2&sort=-stars&fields=title,stars"),
        200,
      );
      assert.deepEqual(rows, [{ title: "Eggs", stars: 5 }, { title: "Milk", stars: 2 }]);
    });

    it("searches the searchable fields with q", async () => {
      const rows = await json<Record<string, unknown>[]>(await call(app, "GET", "/api/v1/notes?q=grain"), 200);
      assert.deepEqual(rows.map((row) => row.title), ["Bread"]);
    });

    it("pages with cursors", async () => {
      const first = await json<Page>(await call(app, "GET", "/api/v1/notes?limit=2&sort=title"), 200);
      assert.deepEqual(first.items.map((row) => row.title), ["Bread", "Eggs"]);
      assert.ok(first.next_cursor);
      const second = await json<Page>(await call(app, "GET", `/api/v1/notes?limit=2&sort=title&cursor=${first.next_cursor}`), 200);
      assert.deepEqual(second.items.map((row) => row.title), ["Milk"]);
      assert.equal(second.next_cursor, null);
    });

    it("answers 304 to a list request whose ETag still matches", async () => {
      const res = await call(app, "GET", "/api/v1/notes?sort=title");
      const etag = res.headers.get("etag");
      await res.body?.cancel();
      assert.ok(etag);
      const again = await call(app, "GET", "/api/v1/notes?sort=title", undefined, { "if-none-match": etag });
      assert.equal(again.status, 304);
    });

    it("refuses an update whose If-Match is stale with 412 and keeps the record", async () => {
      const [eggs] = await app.chapkit.manager(Note).list({ filter: { kind: "compare", field: "title", op: "eq", value: "Eggs" } });
      const res = await call(app, "PATCH", `/api/v1/notes/${eggs!.id}`, { stars: 0 }, { "if-match": '"stale"' });
      assert.equal(res.status, 412);
      await res.body?.cancel();
      assert.equal((await app.chapkit.manager(Note).get(eggs!.id)).stars, 5);
    });

    it("creates in bulk, all or nothing", async () => {
      const res = await call(app, "POST", "/api/v1/notes/$bulk-create", [{ title: "Tea" }, { title: "" }]);
      const problem = await json(res, 422);
      assert.equal(problem.type, "urn:chapkit:error:validation-failed");
      assert.equal(await app.chapkit.manager(Note).repository.count(), 3);
      const ok = await json<unknown[]>(await call(app, "POST", "/api/v1/notes/$bulk-create", [{ title: "Tea" }, { title: "Jam" }]), 201);
      assert.equal(ok.length, 2);
    });

    it("refuses a body that breaks the schema with a 422 problem naming the field, storing nothing", async () => {
      const res = await call(app, "POST", "/api/v1/notes", { title: "Bad", stars: -1 });
      const problem = await json<{ errors: { loc: unknown[] }[] }>(res, 422);
      assert.deepEqual(problem.errors.map((error) => error.loc), [["body", "stars"]]);
      const rows = await app.chapkit.manager(Note).list();
      assert.equal(rows.some((row) => row.title === "Bad"), false);
    });

    it("answers a duplicate unique field with 409 and keeps the first record", async () => {
      const res = await call(app, "POST", "/api/v1/notes", { title: "Milk", body: "again" });
      assert.equal((await json(res, 409)).type, "urn:chapkit:error:conflict");
      await assert.rejects(app.chapkit.manager(Note).create({ title: "Milk" }), ConflictError);
      const [milk] = await app.chapkit.manager(Note).list({ filter: { kind: "compare", field: "title", op: "eq", value: "Milk" } });
      assert.equal(milk!.body, "buy milk");
    });

    it("runs the delete hooks and answers 404 afterwards", async () => {
      const [tea] = await app.chapkit.manager(Note).list({ filter: { kind: "compare", field: "title", op: "eq", value: "Tea" } });
      const res = await call(app, "DELETE", `/api/v1/notes/${tea!.id}`);
      assert.equal(res.status, 204);
      assert.deepEqual(deleted, ["Tea"]);
      assert.equal((await call(app, "GET", `/api/v1/notes/${tea!.id}`)).status, 404);
    });

    it("serves the output schema at $schema", async () => {
      const schema = await json<{ title: string; required: string[] }>(await call(app, "GET", "/api/v1/notes/$schema"), 200);
      assert.equal(schema.title, "NoteOut");
      assert.ok(schema.required.includes("due"));
    });
  });
}

describe("entities that reference each other", () => {
  const Author = defineEntity({ table: "authors", fields: { name: field(Type.String({ minLength: 1 }), { unique: true }) } });
  const Book = defineEntity({
    table: "books",
    fields: {
      title: Type.String(),
      author_id: field(UlidSchema, { references: { table: "authors", onDelete: "cascade" } }),
    },
  });

  for (const store of [testStores()[0]!, testStores()[2]!]) {
    it(`migrates the referenced table first and cascades deletes on ${store.name}`, async () => {
      const db = await store.open();
      // Installed in the "wrong" order: `requires` puts authors first.
      const app = await new ServiceBuilder({ info: { display_name: "Library" } })
        .withDatabase(db)
        .withEntity(Book, { requires: ["entity:authors"] })
        .withEntity(Author)
        .build();
      try {
        const author = await json(await call(app, "POST", "/api/v1/authors", { name: "Le Guin" }), 201);
        await json(await call(app, "POST", "/api/v1/books", { title: "Earthsea", author_id: author.id }), 201);
        const orphan = await call(app, "POST", "/api/v1/books", { title: "Nobody's", author_id: "01K79YAHJ7BR4E87VVTG8FNBMA" });
        assert.ok(orphan.status >= 400 && orphan.status < 500, `status ${orphan.status}`);
        await orphan.body?.cancel();
        assert.equal((await call(app, "DELETE", `/api/v1/authors/${author.id}`)).status, 204);
        assert.deepEqual(await app.chapkit.manager(Book).list(), []);
      } finally {
        await app.chapkit.close();
        await db.close();
        await store.cleanup();
      }
    });
  }

  it("names the missing entity when a required one is not installed", async () => {
    await assert.rejects(
      new ServiceBuilder({ info: { display_name: "Lonely" } }).withEntity(Book, { requires: ["entity:authors"] }).build(),
      /withEntity\(<books definition>\) requires withEntity\(<authors definition>\)/,
    );
  });
});

describe("withEntity options", () => {
  it("mounts under a chosen prefix and leaves out routes that are turned off", async () => {
    const app = await new ServiceBuilder({ info: { display_name: "Read-only" } })
      .withEntity(Note, { prefix: "/api/v1/memos", permissions: { create: false, delete: false }, bulk: false })
      .build();
    try {
      assert.equal((await call(app, "GET", "/api/v1/memos")).status, 200);
      assert.equal((await call(app, "POST", "/api/v1/memos", { title: "x" })).status, 405);
      assert.equal((await call(app, "POST", "/api/v1/memos/$bulk-create", [])).status, 405);
      assert.equal((await call(app, "GET", "/api/v1/notes")).status, 404);
    } finally {
      await app.chapkit.close();
    }
  });

  it("names the entity that is not installed when its manager is asked for", async () => {
    const app = await new ServiceBuilder({ info: { display_name: "Empty" } }).build();
    try {
      assert.throws(() => app.chapkit.manager(Note), /entity:notes/);
    } finally {
      await app.chapkit.close();
    }
  });

  it("lets the auth guard require the permissions the options name", async () => {
    const app = await new ServiceBuilder({ info: { display_name: "Guarded" } })
      .withAuth({ staticKeys: [], roles: { memo_reader: { permissions: ["memo:read"] } } })
      .withEntity(Note, { access: { read: "memo:read", write: "memo:write" } })
      .build();
    try {
      const auth = app.chapkit.context.get<AuthManager>(AUTH_KEY);
      const { key } = await auth.keys.issue({ name: "reader", role: "memo_reader" });
      const headers = { "x-api-key": key };
      assert.equal((await call(app, "GET", "/api/v1/notes", undefined, headers)).status, 200);
      const denied = await call(app, "POST", "/api/v1/notes", { title: "x" }, headers);
      assert.equal((await json(denied, 403)).detail, "Permission memo:write required");
      assert.equal((await call(app, "GET", "/api/v1/notes")).status, 401);
    } finally {
      await app.chapkit.close();
    }
  });
});
