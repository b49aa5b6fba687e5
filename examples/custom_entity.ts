/**
 * A user-defined entity, `Note`, from one definition: `withEntity` migrates
 * its table, serves CRUD routes at `/api/v1/notes` (filters, sort, fields,
 * search, cursors, ETags, bulk) and hands out its typed manager for direct
 * calls.
 *
 *   bun examples/custom_entity.ts                 # or: deno run -A examples/custom_entity.ts
 *   curl -X POST localhost:8000/api/v1/notes -H 'content-type: application/json' \
 *        -d '{"title": "Buy milk", "tags": ["home"]}'
 *   curl 'localhost:8000/api/v1/notes?pinned=true&sort=-created_at&fields=id,title'
 *   curl 'localhost:8000/api/v1/notes?q=milk'
 *   curl localhost:8000/api/v1/notes/$schema
 *
 * Environment: `PORT` (default 8000), `DATABASE_URL` (default in-memory SQLite).
 * `--no-serve` stops after the direct calls (handy in scripts).
 */
import { type Static, Type } from "@sinclair/typebox";
import { defineEntity, field, listenService, ServiceBuilder } from "chapkit";

const proc = (globalThis as { process?: { env?: Record<string, string | undefined>; argv?: string[] } }).process;
const env = proc?.env ?? {};

// The one definition: table, columns, input and output schemas all come from these fields.
const Note = defineEntity({
  table: "notes",
  name: "Note",
  fields: {
    title: field(Type.String({ minLength: 1, maxLength: 200 }), { unique: true }),
    body: Type.String({ default: "" }),
    tags: Type.Array(Type.String(), { default: [] }),
    pinned: field(Type.Boolean({ default: false }), { indexed: true }),
  },
  searchable: ["title", "body"],
});

/** A stored note, as TypeBox users expect: the static type of its output schema. */
export type Note = Static<typeof Note.output>;

const service = await new ServiceBuilder({
  info: { display_name: "Notes", version: "1.0.0", summary: "A custom entity served as CRUD routes" },
  databaseUrl: env.DATABASE_URL || "sqlite::memory:",
})
  .withHealth()
  .withMonitoring()
  .withEntity(Note, {
    hooks: {
      // Hooks see validated input; a before-hook may change it or refuse by throwing.
      beforeCreate: (input) => ({ ...input, tags: [...new Set(input.tags.map((tag) => tag.toLowerCase()))] }),
    },
  })
  .build();

// The manager works without HTTP, on the service's store and with its hooks.
const notes = service.chapkit.manager(Note);
const welcome: Note = await notes.create({ title: "Welcome", body: "Try the /api/v1/notes routes.", tags: ["Intro", "intro"] });
await notes.create({ title: "Pinned", pinned: "true" });
const pinned = await notes.list({ filter: { kind: "compare", field: "pinned", op: "eq", value: true } });
console.log(`created ${welcome.title} (${welcome.id}) with tags ${JSON.stringify(welcome.tags)}`);
console.log(`pinned notes: ${pinned.map((note) => note.title).join(", ")}`);

if (proc?.argv?.includes("--no-serve")) {
  await service.chapkit.close();
} else {
  const running = await listenService(service, { port: Number(env.PORT ?? 8000) });
  console.log(`Listening on ${running.url} (notes at ${running.url}/api/v1/notes, docs at ${running.url}/docs)`);
}
