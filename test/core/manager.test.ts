/** The Manager over a real (in-memory SQLite) store: validation, hooks, CRUD semantics, pages. */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { type Static, Type } from "@sinclair/typebox";
import { defineTable, type EntityRecord } from "../../src/core/entity.ts";
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from "../../src/core/errors.ts";
import { Manager, type ManagerHooks } from "../../src/core/manager.ts";
import { entityInputSchema, entityOutputSchema } from "../../src/core/schema.ts";
import { newUlid } from "../../src/core/ulid.ts";
import type { Driver } from "../../src/db/driver.ts";
import { migrate } from "../../src/db/migrate.ts";
import { openDatabase } from "../../src/db/open.ts";
import { createRepository } from "../../src/db/repository.ts";
import { tableMigration } from "../../src/db/table-migration.ts";

const noteFields = {
  title: Type.String({ minLength: 1 }),
  count: Type.Integer({ default: 0 }),
  pinned: Type.Boolean({ default: false }),
  tags: Type.Array(Type.String(), { default: [] }),
  body: Type.Optional(Type.Union([Type.String(), Type.Null()])),
};
const NoteIn = entityInputSchema("NoteIn", noteFields);
const NoteOut = entityOutputSchema("NoteOut", { ...noteFields, body: Type.Union([Type.String(), Type.Null()]) });
type NoteRow = EntityRecord & { title: string; count: number; pinned: boolean; tags: string[]; body: string | null };

const notes = defineTable({
  name: "notes",
  columns: {
    title: { type: "text", unique: true },
    count: { type: "integer" },
    pinned: { type: "boolean" },
    tags: { type: "json" },
    body: { type: "text", nullable: true },
  },
});

function validationErrors(error: unknown): { loc: (string | number)[]; msg: string; type: string }[] {
  assert.ok(error instanceof ValidationError, String(error));
  assert.equal(error.status, 422);
  return error.errors;
}

describe("Manager", () => {
  let db: Driver;
  let events: string[];
  let hooks: ManagerHooks<NoteRow, Static<typeof NoteIn>>;
  let manager: Manager<NoteRow, typeof NoteIn, typeof NoteOut>;

  beforeEach(async () => {
    db = await openDatabase("sqlite::memory:");
    await migrate(db, [tableMigration(notes)]);
    events = [];
    hooks = {};
    const repository = createRepository<NoteRow>(db, notes);
    manager = new Manager({ repository, input: NoteIn, output: NoteOut, hooks: new Proxy({}, { get: (_, key) => hooks[key as keyof typeof hooks] }) });
  });
  afterEach(async () => {
    await db.close();
  });

  describe("validation", () => {
    it("creates a record and returns it as output with base fields first", async () => {
      const note = await manager.create({ title: "hello", count: 2, pinned: true, tags: ["a"], body: "text" });
      assert.deepEqual(Object.keys(note).slice(0, 3), ["id", "created_at", "updated_at"]);
      assert.equal(note.title, "hello");
      assert.deepEqual(note.tags, ["a"]);
      assert.deepEqual(await manager.get(note.id), note);
    });

    it("coerces strings to the declared integer and boolean types", async () => {
      const note = await manager.create({ title: "c", count: "7", pinned: "true" });
      assert.equal(note.count, 7);
      assert.equal(note.pinned, true);
    });

    it("fills declared defaults", async () => {
      const note = await manager.create({ title: "d" });
      assert.equal(note.count, 0);
      assert.equal(note.pinned, false);
      assert.deepEqual(note.tags, []);
    });

    it("drops unknown keys", async () => {
      const note = await manager.create({ title: "u", unknown: 1, created_at: "1999-01-01T00:00:00.000Z" });
      assert.equal("unknown" in note, false);
      assert.notEqual(note.created_at, "1999-01-01T00:00:00.000Z");
    });

    it("reports a missing field as 422 missing with its location", async () => {
      const errors = validationErrors(await manager.create({}).catch((e: unknown) => e));
      assert.deepEqual(errors, [{ loc: ["body", "title"], msg: "Field required", type: "missing" }]);
    });

    it("reports a value that cannot be coerced with its type and location", async () => {
      const errors = validationErrors(await manager.create({ title: "x", count: "seven" }).catch((e: unknown) => e));
      assert.deepEqual(errors, [{
        loc: ["body", "count"],
        msg: "Input should be a valid integer, unable to parse string as an integer",
        type: "int_parsing",
      }]);
    });

    it("reports every failing field, with list indices as numbers", async () => {
      const errors = validationErrors(await manager.create({ tags: ["ok", { not: "text" }] }).catch((e: unknown) => e));
      assert.deepEqual(errors.map((e) => [e.loc, e.type]), [
        [["body", "title"], "missing"],
        [["body", "tags", 1], "string_type"],
      ]);
    });

    it("rejects a malformed id in the body as ulid_format", async () => {
      const errors = validationErrors(await manager.create({ id: "01k72p5n5kcrm6md3bre4p0999", title: "x" }).catch((e: unknown) => e));
      assert.deepEqual(errors, [{ loc: ["body", "id"], msg: "Unrecognized format", type: "ulid_format" }]);
    });

    it("rejects a body that is not an object as dict_type", async () => {
      for (const body of [null, [], "text", 3]) {
        const errors = validationErrors(await manager.create(body).catch((e: unknown) => e));
        assert.equal(errors[0]?.type, "dict_type");
      }
    });

    it("stores nothing when validation fails", async () => {
      await manager.create({ title: "" }).catch(() => {});
      assert.equal((await manager.list()).length, 0);
    });
  });

  describe("create, get, update, delete", () => {
    it("keeps a client-chosen id on create", async () => {
      const id = newUlid();
      const { output, created } = await manager.save({ id, title: "mine" });
      assert.equal(created, true);
      assert.equal(output.id, id);
    });

    it("updates instead when the body's id exists", async () => {
      const first = await manager.create({ title: "a", count: 1 });
      const { output, created } = await manager.save({ id: first.id, title: "a", count: 2 });
      assert.equal(created, false);
      assert.equal(output.count, 2);
      assert.equal(output.created_at, first.created_at);
    });

    it("turns a taken unique value into ConflictError", async () => {
      await manager.create({ title: "same" });
      await assert.rejects(manager.create({ title: "same" }), ConflictError);
    });

    it("answers NotFoundError naming the id for an unknown id", async () => {
      const id = newUlid();
      for (const call of [() => manager.get(id), () => manager.update(id, { title: "x" }), () => manager.delete(id)]) {
        const error = await call().catch((e: unknown) => e);
        assert.ok(error instanceof NotFoundError);
        assert.equal(error.message, `Entity with id ${id} not found`);
      }
    });

    it("update assigns the body's fields and null clears an optional one", async () => {
      const note = await manager.create({ title: "a", body: "text", count: 3 });
      const updated = await manager.update(note.id, { title: "b", body: null });
      assert.equal(updated.title, "b");
      assert.equal(updated.body, null);
      assert.equal(updated.count, 0, "a field left out takes its default, as in a full replacement");
    });

    it("delete removes the record", async () => {
      const note = await manager.create({ title: "a" });
      await manager.delete(note.id);
      await assert.rejects(manager.get(note.id), NotFoundError);
    });

    it("maps stored rows through toOutput", async () => {
      const repository = createRepository<NoteRow>(db, notes);
      const upper = new Manager({
        repository,
        input: NoteIn,
        output: NoteOut,
        toOutput: (row) => ({ ...row, title: row.title.toUpperCase() }),
      });
      assert.equal((await upper.create({ title: "quiet" })).title, "QUIET");
    });
  });

  describe("pages", () => {
    it("answers the contract's envelope", async () => {
      for (const title of ["a", "b", "c"]) await manager.create({ title });
      const page = await manager.page(2, 2);
      assert.deepEqual(Object.keys(page), ["items", "total", "page", "size", "pages"]);
      assert.deepEqual(page.items.map((n) => n.title), ["c"]);
      assert.equal(page.total, 3);
      assert.equal(page.pages, 2);
    });

    it("answers zero pages for an empty collection and an empty page past the end", async () => {
      assert.deepEqual(await manager.page(1, 10), { items: [], total: 0, page: 1, size: 10, pages: 0 });
      await manager.create({ title: "a" });
      assert.deepEqual((await manager.page(5, 10)).items, []);
    });

    it("rejects page or size below 1 with 422 naming the query parameter", async () => {
      const errors = validationErrors(await manager.page(0, 0).catch((e: unknown) => e));
      assert.deepEqual(errors.map((e) => e.loc), [["query", "page"], ["query", "size"]]);
    });
  });

  describe("hooks", () => {
    const record = (): ManagerHooks<NoteRow, Static<typeof NoteIn>> => ({
      beforeCreate: (input) => void events.push(`beforeCreate ${input.title}`),
      afterCreate: (row) => void events.push(`afterCreate ${row.title}`),
      beforeUpdate: (input, existing) => void events.push(`beforeUpdate ${existing.title}->${input.title}`),
      afterUpdate: (row, previous) => void events.push(`afterUpdate ${previous.title}->${row.title}`),
      beforeDelete: (row) => void events.push(`beforeDelete ${row.title}`),
      afterDelete: (row) => void events.push(`afterDelete ${row.title}`),
    });

    it("run before and after each operation, in order", async () => {
      hooks = record();
      const note = await manager.create({ title: "a" });
      await manager.update(note.id, { title: "b" });
      await manager.save({ id: note.id, title: "c" });
      await manager.delete(note.id);
      assert.deepEqual(events, [
        "beforeCreate a",
        "afterCreate a",
        "beforeUpdate a->b",
        "afterUpdate a->b",
        "beforeUpdate b->c",
        "afterUpdate b->c",
        "beforeDelete c",
        "afterDelete c",
      ]);
    });

    it("use the input a before-hook returns", async () => {
      hooks = { beforeCreate: (input) => ({ ...input, title: input.title.trim(), tags: ["hooked"] }) };
      const note = await manager.create({ title: "  spaced  " });
      assert.equal(note.title, "spaced");
      assert.deepEqual(note.tags, ["hooked"]);
    });

    it("a before-create hook that throws refuses the insert", async () => {
      hooks = {
        beforeCreate: (input) => {
          if (input.title === "forbidden") throw new ConflictError("That title is reserved");
        },
      };
      await assert.rejects(manager.create({ title: "forbidden" }), /reserved/);
      assert.equal((await manager.list()).length, 0);
    });

    it("a before-update hook that throws leaves the record unchanged", async () => {
      const note = await manager.create({ title: "a" });
      hooks = { beforeUpdate: () => { throw new ForbiddenError("Read-only"); } };
      await assert.rejects(manager.update(note.id, { title: "b" }), ForbiddenError);
      assert.deepEqual(await manager.get(note.id), note);
    });

    it("a before-delete hook that throws keeps the record", async () => {
      const note = await manager.create({ title: "a" });
      hooks = { beforeDelete: () => { throw new ForbiddenError("Keep it"); } };
      await assert.rejects(manager.delete(note.id), ForbiddenError);
      assert.deepEqual(await manager.get(note.id), note);
    });
  });
});
