import { Type } from "@sinclair/typebox";
import { Elysia } from "elysia";
import { defineTable, type EntityRecord } from "../../src/core/entity.ts";
import { createLogger } from "../../src/core/logging.ts";
import { Manager } from "../../src/core/manager.ts";
import { entityInputSchema, entityOutputSchema } from "../../src/core/schema.ts";
import type { Driver } from "../../src/db/driver.ts";
import { migrate } from "../../src/db/migrate.ts";
import { openDatabase } from "../../src/db/open.ts";
import { createRepository } from "../../src/db/repository.ts";
import { tableMigration } from "../../src/db/table-migration.ts";
import { type CrudRouterOptions, crudRouter } from "../../src/http/crud/crud-router.ts";
import { errorHandler } from "../../src/http/error-handler.ts";
import { jsonBody } from "../../src/http/json-body.ts";
import { requestContext } from "../../src/http/request-context.ts";
import { closeRoutes } from "../../src/http/routing.ts";

/** A small custom entity for HTTP tests: notes with a title and a nested data object. */
export interface NoteRecord extends EntityRecord {
  title: string;
  data: Record<string, unknown>;
}

export const NoteData = Type.Object({ stars: Type.Integer({ default: 0 }) }, { title: "NoteData" });
export const NoteIn = entityInputSchema("NoteIn", { title: Type.String(), data: Type.Optional(NoteData) });
export const NoteOut = entityOutputSchema("NoteOut", { title: Type.String(), data: NoteData });

export const notesTable = defineTable({
  name: "notes",
  columns: { title: { type: "text" }, data: { type: "json" } },
});

export type NoteManager = Manager<NoteRecord, typeof NoteIn, typeof NoteOut>;

/** Opens an in-memory store with the notes table and a manager over it. */
export async function openNotes(): Promise<{ db: Driver; notes: NoteManager }> {
  const db = await openDatabase("sqlite::memory:");
  await migrate(db, [tableMigration(notesTable)]);
  const notes = new Manager({
    repository: createRepository<NoteRecord>(db, notesTable),
    input: NoteIn,
    output: NoteOut,
    toValues: (input) => ({ title: input.title, data: input.data ?? { stars: 0 } }),
  });
  return { db, notes };
}

type Extra = Partial<CrudRouterOptions<NoteRecord, typeof NoteIn, typeof NoteOut>>;

/** An app with the chapkit plumbing and a notes CRUD router at `/api/v1/notes`. */
export function notesApp(notes: NoteManager, extra: Extra = {}): Elysia {
  const logger = createLogger({ write: () => {} });
  const app = new Elysia()
    .use(requestContext({ logger, maxBodyBytes: 1024 }))
    .use(errorHandler({ logger }))
    .use(jsonBody({ maxBodyBytes: 1024 }))
    .use(crudRouter({ prefix: "/api/v1/notes", manager: notes, nestedSchemas: { data: NoteData }, ...extra }));
  return closeRoutes(app) as unknown as Elysia;
}

/** Sends a request to an app and returns status, headers and parsed body. */
export async function call(
  app: { handle(request: Request): Promise<Response> },
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: any; text: string }> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    if (!("content-type" in headers)) (init.headers as Record<string, string>)["content-type"] = "application/json";
  }
  const response = await app.handle(new Request(`http://localhost${path}`, init));
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text === "" ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}
