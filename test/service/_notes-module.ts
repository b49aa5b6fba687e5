import { Manager } from "../../src/core/manager.ts";
import { createRepository } from "../../src/db/repository.ts";
import { tableMigration } from "../../src/db/table-migration.ts";
import { crudRouter } from "../../src/http/crud/crud-router.ts";
import type { ServiceContext, ServiceModule } from "../../src/http/module.ts";
import { NoteData, NoteIn, type NoteManager, NoteOut, type NoteRecord, notesTable } from "../http/_notes.ts";

/** A user's own module: notes CRUD at `/api/v1/notes`. */
export function notesModule(options: { requires?: string[]; name?: string; events?: string[] } = {}): ServiceModule {
  const events = options.events ?? [];
  const name = options.name ?? "notes";
  return {
    name,
    requires: options.requires ?? [],
    migrations: [tableMigration(notesTable, name)],
    setup(context: ServiceContext): void {
      events.push(`setup:${name}`);
      context.provide<NoteManager>(name, new Manager({
        repository: createRepository<NoteRecord>(context.db, notesTable),
        input: NoteIn,
        output: NoteOut,
        toValues: (input) => ({ title: input.title, data: input.data ?? { stars: 0 } }),
      }));
    },
    routes(context: ServiceContext) {
      return crudRouter({
        prefix: "/api/v1/notes",
        manager: context.get<NoteManager>(name),
        tags: ["Notes"],
        nestedSchemas: { data: NoteData },
      });
    },
    start(): void {
      events.push(`start:${name}`);
    },
    stop(): void {
      events.push(`stop:${name}`);
    },
  };
}
