import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Type } from "@sinclair/typebox";
import { ConflictError } from "../../src/core/errors.ts";
import type { Driver } from "../../src/db/driver.ts";
import { call, type NoteManager, notesApp, openNotes } from "./_notes.ts";

const MISSING = "01K72P5N5KCRM6MD3BRE4P0999";

describe("crud router", () => {
  let db: Driver;
  let notes: NoteManager;
  let app: ReturnType<typeof notesApp>;

  before(async () => {
    ({ db, notes } = await openNotes());
    app = notesApp(notes, {
      collectionOperations: [
        { name: "$stats", method: "GET", summary: "Count notes", handler: async () => ({ count: (await notes.list()).length }) },
        {
          name: "$reset",
          method: "POST",
          summary: "Refuse to reset",
          handler: () => {
            throw new ConflictError("cannot reset");
          },
        },
      ],
      entityOperations: [
        {
          name: "$star",
          method: "PATCH",
          summary: "Set stars",
          query: Type.Object({ stars: Type.Integer({ minimum: 0 }) }),
          handler: async ({ id, query }) => {
            const note = await notes.get(id);
            return notes.update(id, { title: note.title, data: { stars: query.stars } });
          },
        },
        {
          name: "$rename",
          method: "POST",
          summary: "Rename",
          body: Type.Object({ title: Type.String() }),
          handler: async ({ id, body }) => {
            const note = await notes.get(id);
            return notes.update(id, { ...note, title: (body as { title: string }).title });
          },
        },
        { name: "$archive", method: "DELETE", summary: "Archive", status: 204, handler: () => undefined },
      ],
    });
  });
  after(() => db.close());

  it("creates an entity with 201 and an absolute Location", async () => {
    const res = await call(app, "POST", "/api/v1/notes", { title: "first" });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("location"), `http://localhost/api/v1/notes/${res.body.id}`);
    assert.deepEqual(Object.keys(res.body), ["id", "created_at", "updated_at", "title", "data"]);
  });

  it("updates and answers 200 when POST carries an existing id", async () => {
    const created = await call(app, "POST", "/api/v1/notes", { title: "before" });
    const res = await call(app, "POST", "/api/v1/notes", { id: created.body.id, title: "after" });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("location"), null);
    assert.equal(res.body.title, "after");
  });

  it("serves the collection with a trailing slash without redirecting", async () => {
    const res = await call(app, "POST", "/api/v1/notes/", { title: "slash" });
    assert.equal(res.status, 201);
    assert.equal((await call(app, "GET", "/api/v1/notes/")).status, 200);
  });

  it("lists as a plain array without page and size", async () => {
    const res = await call(app, "GET", "/api/v1/notes?page=1");
    assert.equal(res.status, 200);
    assert.ok(Array.isArray(res.body));
  });

  it("pages in the envelope when page and size are both given", async () => {
    const total = (await notes.list()).length;
    const res = await call(app, "GET", "/api/v1/notes?page=1&size=2");
    assert.deepEqual(Object.keys(res.body), ["items", "total", "page", "size", "pages"]);
    assert.equal(res.body.items.length, 2);
    assert.equal(res.body.total, total);
    assert.equal(res.body.pages, Math.ceil(total / 2));
  });

  it("answers an empty page past the end with the real total", async () => {
    const res = await call(app, "GET", "/api/v1/notes?page=99&size=2");
    assert.deepEqual(res.body.items, []);
    assert.ok(res.body.total > 0);
  });

  it("rejects page below 1 with a 422 validation problem naming the parameter", async () => {
    const res = await call(app, "GET", "/api/v1/notes?page=0&size=2");
    assert.equal(res.status, 422);
    assert.equal(res.headers.get("content-type"), "application/problem+json");
    assert.equal(res.body.type, "urn:chapkit:error:validation-failed");
    assert.deepEqual(res.body.errors, [{ loc: ["query", "page"], msg: "Input should be greater than or equal to 1", type: "greater_than_equal" }]);
  });

  it("rejects a non-integer size with a 422 int_parsing error", async () => {
    const res = await call(app, "GET", "/api/v1/notes?page=1&size=abc");
    assert.equal(res.status, 422);
    assert.deepEqual(res.body.errors[0].loc, ["query", "size"]);
    assert.equal(res.body.errors[0].type, "int_parsing");
  });

  it("gets an entity by id", async () => {
    const created = await call(app, "POST", "/api/v1/notes", { title: "get me" });
    const res = await call(app, "GET", `/api/v1/notes/${created.body.id}`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, created.body);
  });

  it("answers HEAD on an entity like GET without a body", async () => {
    const created = await call(app, "POST", "/api/v1/notes", { title: "head" });
    const res = await call(app, "HEAD", `/api/v1/notes/${created.body.id}`);
    assert.equal(res.status, 200);
    assert.equal(res.text, "");
  });

  it("answers 400 invalid-ulid with the raw id as instance for a malformed id", async () => {
    const res = await call(app, "GET", "/api/v1/notes/not-a-ulid");
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, {
      type: "urn:chapkit:error:invalid-ulid",
      title: "Invalid ULID Format",
      status: 400,
      detail: "Invalid ULID format: not-a-ulid",
      instance: "/api/v1/notes/not-a-ulid",
    });
  });

  it("rejects a lower-case ULID", async () => {
    const res = await call(app, "DELETE", `/api/v1/notes/${MISSING.toLowerCase()}`);
    assert.equal(res.status, 400);
  });

  it("answers 404 not-found for an unknown id", async () => {
    const res = await call(app, "GET", `/api/v1/notes/${MISSING}`);
    assert.equal(res.status, 404);
    assert.equal(res.body.type, "urn:chapkit:error:not-found");
    assert.equal(res.body.instance, `/api/v1/notes/${MISSING}`);
    assert.match(res.body.detail, /not found/);
  });

  it("validates the PUT body before the id", async () => {
    const res = await call(app, "PUT", "/api/v1/notes/not-a-ulid", {});
    assert.equal(res.status, 422);
    assert.deepEqual(res.body.errors, [{ loc: ["body", "title"], msg: "Field required", type: "missing" }]);
  });

  it("updates with PUT and accepts a previous GET response as body", async () => {
    const created = await call(app, "POST", "/api/v1/notes", { title: "old" });
    const res = await call(app, "PUT", `/api/v1/notes/${created.body.id}`, { ...created.body, title: "new" });
    assert.equal(res.status, 200);
    assert.equal(res.body.title, "new");
  });

  it("never creates with PUT", async () => {
    const res = await call(app, "PUT", `/api/v1/notes/${MISSING}`, { title: "x" });
    assert.equal(res.status, 404);
  });

  it("deletes with 204 and an empty body, then the id is gone", async () => {
    const created = await call(app, "POST", "/api/v1/notes", { title: "bye" });
    const res = await call(app, "DELETE", `/api/v1/notes/${created.body.id}`);
    assert.equal(res.status, 204);
    assert.equal(res.text, "");
    assert.equal((await call(app, "GET", `/api/v1/notes/${created.body.id}`)).status, 404);
  });

  it("rejects a create body missing a required field with 422", async () => {
    const res = await call(app, "POST", "/api/v1/notes", {});
    assert.equal(res.status, 422);
    assert.deepEqual(res.body.errors, [{ loc: ["body", "title"], msg: "Field required", type: "missing" }]);
  });

  it("rejects an invalid id inside a body with 422 ulid_format", async () => {
    const res = await call(app, "POST", "/api/v1/notes", { id: "bad", title: "x" });
    assert.equal(res.status, 422);
    assert.deepEqual(res.body.errors[0], { loc: ["body", "id"], msg: "Unrecognized format", type: "ulid_format" });
  });

  it("serves the output schema with the nested data schema under $defs", async () => {
    const res = await call(app, "GET", "/api/v1/notes/$schema");
    assert.equal(res.status, 200);
    assert.equal(res.body.title, "NoteOut");
    assert.deepEqual(res.body.properties.data, { $ref: "#/$defs/NoteData" });
    assert.equal(res.body.$defs.NoteData.properties.stars.type, "integer");
    assert.deepEqual(res.body.required, ["id", "created_at", "updated_at", "title", "data"]);
  });

  it("treats %24schema as $schema", async () => {
    const res = await call(app, "GET", "/api/v1/notes/%24schema");
    assert.equal(res.body.title, "NoteOut");
  });

  it("runs a collection operation before the id route", async () => {
    const res = await call(app, "GET", "/api/v1/notes/$stats");
    assert.equal(res.status, 200);
    assert.equal(typeof res.body.count, "number");
  });

  it("turns a chapkit error thrown by an operation into its problem", async () => {
    const res = await call(app, "POST", "/api/v1/notes/$reset");
    assert.equal(res.status, 409);
    assert.equal(res.body.type, "urn:chapkit:error:conflict");
    assert.equal(res.body.instance, "/api/v1/notes/$reset");
  });

  it("sends an unknown $word in the id position to the id route as an invalid ULID", async () => {
    const res = await call(app, "GET", "/api/v1/notes/$foo");
    assert.equal(res.status, 400);
    assert.equal(res.body.type, "urn:chapkit:error:invalid-ulid");
  });

  it("runs an entity operation with a validated query", async () => {
    const created = await call(app, "POST", "/api/v1/notes", { title: "stars" });
    const res = await call(app, "PATCH", `/api/v1/notes/${created.body.id}/$star?stars=4`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.data, { stars: 4 });
  });

  it("rejects an entity operation's bad query with a 422 naming it", async () => {
    const created = await call(app, "POST", "/api/v1/notes", { title: "stars" });
    const res = await call(app, "PATCH", `/api/v1/notes/${created.body.id}/$star?stars=many`);
    assert.equal(res.status, 422);
    assert.deepEqual(res.body.errors[0].loc, ["query", "stars"]);
  });

  it("checks an entity operation's id as a ULID with the operation-free instance", async () => {
    const res = await call(app, "PATCH", "/api/v1/notes/bad/$star?stars=1");
    assert.equal(res.status, 400);
    assert.equal(res.body.instance, "/api/v1/notes/bad");
  });

  it("validates an entity operation's body before its id", async () => {
    const res = await call(app, "POST", "/api/v1/notes/bad/$rename", {});
    assert.equal(res.status, 422);
  });

  it("runs an entity operation with a body", async () => {
    const created = await call(app, "POST", "/api/v1/notes", { title: "a" });
    const res = await call(app, "POST", `/api/v1/notes/${created.body.id}/$rename`, { title: "b" });
    assert.equal(res.body.title, "b");
  });

  it("answers an operation declared 204 with an empty body", async () => {
    const created = await call(app, "POST", "/api/v1/notes", { title: "a" });
    const res = await call(app, "DELETE", `/api/v1/notes/${created.body.id}/$archive`);
    assert.equal(res.status, 204);
    assert.equal(res.text, "");
  });
});

describe("crud router permissions", () => {
  let db: Driver;
  let notes: NoteManager;
  before(async () => {
    ({ db, notes } = await openNotes());
  });
  after(() => db.close());

  it("answers 405 with Allow when create is disabled", async () => {
    const app = notesApp(notes, { permissions: { create: false } });
    const res = await call(app, "POST", "/api/v1/notes", { title: "x" });
    assert.equal(res.status, 405);
    assert.equal(res.body.type, "urn:chapkit:error:method-not-allowed");
    assert.equal(res.headers.get("allow"), "GET, HEAD");
  });

  it("answers 405 on PUT and DELETE of a read-only router", async () => {
    const app = notesApp(notes, { permissions: { create: false, update: false, delete: false } });
    assert.equal((await call(app, "PUT", `/api/v1/notes/${MISSING}`, { title: "x" })).status, 405);
    assert.equal((await call(app, "DELETE", `/api/v1/notes/${MISSING}`)).status, 405);
    assert.equal((await call(app, "GET", `/api/v1/notes/${MISSING}`)).status, 404);
  });

  it("answers 404 where no method is left on a path", async () => {
    const app = notesApp(notes, { permissions: { read: false, update: false, delete: false } });
    const res = await call(app, "GET", `/api/v1/notes/${MISSING}`);
    assert.equal(res.status, 404);
    assert.equal(res.body.type, "urn:chapkit:error:not-found");
  });

  it("keeps $ operations when every permission is off", async () => {
    const app = notesApp(notes, {
      permissions: { create: false, read: false, update: false, delete: false },
      collectionOperations: [{ name: "ping", method: "GET", summary: "Ping", handler: () => ({ ok: true }) }],
    });
    assert.deepEqual((await call(app, "GET", "/api/v1/notes/$ping")).body, { ok: true });
  });
});
