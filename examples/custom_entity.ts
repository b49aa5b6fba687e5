/**
 * A user-defined entity, `Note`, from nothing but its schemas and its table:
 * migrated, stored and validated by a Manager you can call directly, then
 * served as CRUD routes (`/api/v1/notes`) by a chapkit service.
 *
 *   bun examples/custom_entity.ts                 # or: deno run -A examples/custom_entity.ts
 *   curl -X POST localhost:8000/api/v1/notes -H 'content-type: application/json' \
 *        -d '{"title": "Buy milk", "tags": ["home"]}'
 *   curl 'localhost:8000/api/v1/notes?page=1&size=10'
 *   curl localhost:8000/api/v1/notes/$schema
 *
 * Environment: `PORT` (default 8000), `DATABASE_URL` (default in-memory SQLite).
 * `--no-serve` stops after the direct calls (handy in scripts).
 */
import { Type } from "@sinclair/typebox";
import {
  createRepository,
  crudRouter,
  defineTable,
  type EntityRecord,
  entityInputSchema,
  entityOutputSchema,
  Manager,
  migrate,
  openDatabase,
  ServiceBuilder,
  tableMigration,
} from "../mod.ts";

const proc = (globalThis as { process?: { env?: Record<string, string | undefined>; argv?: string[] } }).process;
const env = proc?.env ?? {};

// What a client sends: `id` is optional (a ULID), the rest is the note's own data.
const NoteIn = entityInputSchema("NoteIn", {
  title: Type.String({ minLength: 1, maxLength: 200 }),
  body: Type.String({ default: "" }),
  tags: Type.Array(Type.String(), { default: [] }),
  pinned: Type.Boolean({ default: false }),
});
// What a client gets back: `id`, `created_at`, `updated_at`, then the same fields.
const NoteOut = entityOutputSchema("NoteOut", {
  title: Type.String(),
  body: Type.String(),
  tags: Type.Array(Type.String()),
  pinned: Type.Boolean(),
});

/** A stored note. */
type Note = EntityRecord & { title: string; body: string; tags: string[]; pinned: boolean };

// Where notes live: the table (its first migration is derived from it).
const notesTable = defineTable({
  name: "notes",
  columns: {
    title: { type: "text", unique: true },
    body: { type: "text" },
    tags: { type: "json" },
    pinned: { type: "boolean", indexed: true },
  },
  searchable: ["title", "body"],
});

const db = await openDatabase(env.DATABASE_URL || "sqlite::memory:");
await migrate(db, [tableMigration(notesTable)]);

const notes = new Manager({
  repository: createRepository<Note>(db, notesTable),
  input: NoteIn,
  output: NoteOut,
  hooks: {
    // Hooks see validated input; a before-hook may change it or refuse by throwing.
    beforeCreate: (input) => ({ ...input, tags: [...new Set(input.tags.map((tag) => tag.toLowerCase()))] }),
  },
});

// The manager works without HTTP.
const welcome = await notes.create({ title: "Welcome", body: "Try the /api/v1/notes routes.", tags: ["Intro", "intro"] });
await notes.create({ title: "Pinned", pinned: "true" });
const pinned = await notes.list({ filter: { kind: "compare", field: "pinned", op: "eq", value: true } });
console.log(`created ${welcome.title} (${welcome.id}) with tags ${JSON.stringify(welcome.tags)}`);
console.log(`pinned notes: ${pinned.map((note) => note.title).join(", ")}`);

if (proc?.argv?.includes("--no-serve")) {
  await db.close();
} else {
  // The same manager, served: create (upsert by id), list (pagination), $schema, get, update, delete.
  const service = await new ServiceBuilder({
    info: { display_name: "Notes", version: "1.0.0", summary: "A custom entity served as CRUD routes" },
  })
    .withDatabase(db)
    .withHealth()
    .use(crudRouter({ prefix: "/api/v1/notes", manager: notes, tags: ["notes"] }))
    .listen(Number(env.PORT ?? 8000));
  console.log(`Listening on ${service.url} (notes at ${service.url}/api/v1/notes, docs at ${service.url}/docs)`);
}
