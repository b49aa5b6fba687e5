/**
 * One definition per entity: the table, the input and output schemas and the
 * static types all come from the fields.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Static, Type } from "@sinclair/typebox";
import { defineEntity, type EntityRecordOf, entityView, field, inferColumnType } from "../../src/core/entity-definition.ts";
import { UlidSchema } from "../../src/core/schema.ts";
import { validateValue } from "../../src/core/validation.ts";

const Author = defineEntity({ table: "authors", fields: { name: Type.String() } });

const Book = defineEntity({
  table: "books",
  name: "Book",
  fields: {
    title: field(Type.String({ minLength: 1 }), { unique: true }),
    pages: Type.Integer({ minimum: 1 }),
    price: Type.Number(),
    in_print: Type.Boolean({ default: true }),
    published_at: Type.Optional(Type.String({ format: "date-time" })),
    author_id: field(UlidSchema, { references: { table: Author.table.name, onDelete: "cascade" } }),
    meta: Type.Object({ isbn: Type.String() }),
    status: Type.Union([Type.Literal("draft"), Type.Literal("final")]),
    note: Type.Union([Type.String(), Type.Null()], { default: null }),
    shelf: field(Type.String({ default: "A" }), { indexed: true }),
  },
  indexes: [{ columns: ["author_id", "pages"] }],
  jsonIndexes: ["meta.isbn"],
  searchable: ["title"],
});

describe("defineEntity", () => {
  it("derives each column's type and nullability from its schema", () => {
    assert.deepEqual(Book.table.columns, {
      title: { type: "text", nullable: false, unique: true },
      pages: { type: "integer", nullable: false },
      price: { type: "real", nullable: false },
      in_print: { type: "boolean", nullable: false },
      published_at: { type: "timestamp", nullable: true },
      author_id: { type: "ulid", nullable: false, references: { table: "authors", onDelete: "cascade" } },
      meta: { type: "json", nullable: false },
      status: { type: "text", nullable: false },
      note: { type: "text", nullable: true },
      shelf: { type: "text", nullable: false, indexed: true },
    });
    assert.deepEqual(Book.table.indexes, [{ columns: ["author_id", "pages"] }]);
    assert.deepEqual(Book.table.jsonIndexes, ["meta.isbn"]);
    assert.deepEqual(Book.table.searchable, ["title"]);
  });

  it("names its schemas after the entity, or after the table in PascalCase", () => {
    assert.equal(Book.input.title, "BookIn");
    assert.equal(Book.output.title, "BookOut");
    assert.equal(Author.name, "Authors");
    assert.equal(Author.output.title, "AuthorsOut");
  });

  it("gives the input an optional id and the fields as declared", () => {
    const input = validateValue<Static<typeof Book.input>>(Book.input, {
      title: "Dune", pages: "412", price: 9.5, author_id: "01K79YAHJ7BR4E87VVTG8FNBMA", meta: { isbn: "x" }, status: "final",
    });
    assert.equal(input.pages, 412);
    assert.equal(input.in_print, true);
    assert.equal(input.shelf, "A");
    assert.equal(input.published_at, undefined);
    assert.equal((Book.input.required as string[]).includes("published_at"), false);
    assert.equal((Book.input.required as string[]).includes("id"), false);
  });

  it("makes every output field required, optional ones nullable", () => {
    assert.deepEqual(Book.output.required, ["id", "created_at", "updated_at", ...Object.keys(Book.fields)]);
    const published = JSON.parse(JSON.stringify(Book.output.properties.published_at));
    assert.deepEqual(published, { anyOf: [{ format: "date-time", type: "string" }, { type: "null" }] });
  });

  it("keeps column settings out of the JSON Schema", () => {
    assert.equal(JSON.stringify(Book.input.properties.title), JSON.stringify(Type.String({ minLength: 1 })));
  });

  it("infers the record type from the output schema", () => {
    type BookRecord = Static<typeof Book.output>;
    const record: BookRecord = {
      id: "01K79YAHJ7BR4E87VVTG8FNBMA", created_at: "", updated_at: "", title: "t", pages: 1, price: 1, in_print: true,
      published_at: null, author_id: "01K79YAHJ7BR4E87VVTG8FNBMA", meta: { isbn: "i" }, status: "draft", note: null, shelf: "A",
    };
    // @ts-expect-error a status outside the union is not a BookRecord
    const wrong: BookRecord = { ...record, status: "lost" };
    assert.ok(record && wrong);
  });

  it("keeps an optional field marked nullable: false optional on input and never null on output", () => {
    const Ticket = defineEntity({
      table: "tickets",
      fields: { state: field(Type.Optional(Type.Union([Type.Literal("open"), Type.Literal("closed")])), { nullable: false }) },
    });
    assert.equal(Ticket.table.columns.state?.nullable, false);
    assert.equal((Ticket.input.required as string[] | undefined)?.includes("state") ?? false, false);
    const state = JSON.parse(JSON.stringify(Ticket.output.properties.state));
    assert.deepEqual(state, { anyOf: [{ const: "open", type: "string" }, { const: "closed", type: "string" }] });
    assert.ok(Ticket.output.required?.includes("state"));
    type TicketRecord = Static<typeof Ticket.output>;
    // @ts-expect-error the stored field is never null
    const wrong: TicketRecord = { id: "01K79YAHJ7BR4E87VVTG8FNBMA", created_at: "", updated_at: "", state: null };
    assert.ok(wrong);
  });

  it("infers json for mixed unions and unknown values", () => {
    assert.equal(inferColumnType(Type.Union([Type.String(), Type.Integer()])), "json");
    assert.equal(inferColumnType(Type.Unknown()), "json");
    assert.equal(inferColumnType(Type.Literal(1.5)), "real");
    assert.equal(inferColumnType(Type.Uint8Array()), "blob");
  });

  it("refuses an identifier that is not a plain SQL name", () => {
    assert.throws(() => defineEntity({ table: "bad name", fields: { a: Type.String() } }), /Invalid SQL identifier/);
    assert.throws(() => defineEntity({ table: "t", fields: { id: Type.String() } }), /implicit/);
    assert.throws(() => defineEntity({ table: "t", fields: { n: Type.Integer() }, searchable: ["n"] }), /text or json/);
  });
});

const Document = defineEntity({
  table: "documents",
  name: "Document",
  fields: {
    title: field(Type.String(), { indexed: true }),
    body: Type.Record(Type.String(), Type.Unknown()),
    depth: field(Type.Integer({ minimum: 0 }), { input: false }),
    token: field(Type.String(), { output: false }),
    labels: Type.Optional(Type.Array(Type.String())),
  },
  views: {
    lean: { fields: ["title", "body"] },
    full: { fields: ["labels", "title", "body", "depth", "token"], output: { labels: Type.Array(Type.String()) } },
  },
});

describe("defineEntity views and field visibility", () => {
  it("keeps a field marked input: false out of the input, but stores and answers it", () => {
    assert.deepEqual(Object.keys(Document.input.properties), ["id", "title", "body", "token", "labels"]);
    assert.ok("depth" in Document.output.properties);
    assert.deepEqual(Document.table.columns.depth, { type: "integer", nullable: false });
    // @ts-expect-error no input type lists a server-set field
    const depth: Static<typeof Document.input>["depth"] = 1;
    assert.equal(depth, 1);
  });

  it("keeps a field marked output: false out of the output, but accepts and stores it", () => {
    assert.ok(!("token" in Document.output.properties));
    assert.ok("token" in Document.input.properties);
    assert.deepEqual(Document.table.columns.token, { type: "text", nullable: false });
    type DocumentRecord = EntityRecordOf<typeof Document>;
    const record: DocumentRecord = { id: "01K79YAHJ7BR4E87VVTG8FNBMA", created_at: "", updated_at: "", title: "t", body: {}, depth: 0, token: "s", labels: null };
    assert.equal(record.token, "s");
  });

  it("gives each view its fields in its order, under the entity's titles", () => {
    assert.deepEqual(Object.keys(Document.views.lean.output.properties), ["id", "created_at", "updated_at", "title", "body"]);
    assert.deepEqual(Object.keys(Document.views.lean.input.properties), ["id", "title", "body"]);
    assert.deepEqual(Object.keys(Document.views.full.output.properties), ["id", "created_at", "updated_at", "labels", "title", "body", "depth"]);
    assert.deepEqual(Object.keys(Document.views.full.input.properties), ["id", "labels", "title", "body", "token"]);
    assert.equal(Document.views.lean.input.title, "DocumentIn");
    assert.equal(Document.views.full.output.title, "DocumentOut");
  });

  it("answers a view's output override instead of the derived schema", () => {
    assert.deepEqual(Document.views.full.output.properties.labels, Type.Array(Type.String()));
    assert.ok(Document.views.full.output.required?.includes("labels"));
    assert.deepEqual(Document.output.properties.labels, Type.Union([Type.Array(Type.String()), Type.Null()]));
    const labels: Static<typeof Document.views.full.output>["labels"] = ["a"];
    // @ts-expect-error the view answers labels as an array, never null
    const none: Static<typeof Document.views.full.output>["labels"] = null;
    assert.ok(labels && none === null);
  });

  it("puts a schema given at run time in a view's field, keeping order and titles", () => {
    const pages = Type.Object({ pages: Type.Integer() }, { title: "Pages" });
    const view = entityView(Document, "full", { body: pages });
    assert.equal(view.output.properties.body, pages);
    assert.equal(view.input.properties.body, pages);
    assert.deepEqual(Object.keys(view.output.properties), Object.keys(Document.views.full.output.properties));
    assert.equal(view.output.title, "DocumentOut");
    assert.equal(Document.views.full.output.properties.body, Document.fields.body);
  });

  it("takes other schema titles than {name}In and {name}Out", () => {
    const Entry = defineEntity({ table: "entries", fields: { n: Type.Integer() }, titles: { output: "Entry" } });
    assert.equal(Entry.output.title, "Entry");
    assert.equal(Entry.input.title, "EntriesIn");
  });

  it("refuses a view that lists an unknown field, and a view that was not declared", () => {
    assert.throws(
      () => defineEntity({ table: "t", fields: { a: Type.String() }, views: { v: { fields: ["b" as "a"] } } }),
      /'b', which is not a field/,
    );
    assert.throws(() => entityView(Document, "missing" as "lean"), /Document has no view 'missing'/);
  });
});
