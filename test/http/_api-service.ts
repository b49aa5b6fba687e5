/**
 * A served service for the API-surface tests (negotiation, links,
 * versioning, GraphQL): a `notes` entity over a real socket, on a SQLite
 * file or a PostgreSQL schema of its own.
 */
import { Type } from "@sinclair/typebox";
import { defineEntity, field } from "../../src/core/entity-definition.ts";
import { listenService, type RunningService } from "../../src/service/listen.ts";
import { ServiceBuilder } from "../../src/service/service-builder.ts";
import { temporaryPostgres, temporarySqlite, type TemporaryStore } from "../../src/testing/stores.ts";
import { DATABASE_URL } from "../_support/stores.ts";

/** The entity every API-surface test serves. */
export const Note = defineEntity({
  table: "notes",
  name: "Note",
  fields: {
    title: field(Type.String({ minLength: 1 }), { unique: true }),
    stars: Type.Integer({ minimum: 0 }),
    tags: Type.Optional(Type.Array(Type.String())),
  },
  searchable: ["title"],
});

/** The stores the API-surface tests run on. */
export const STORES: { name: string; open(): Promise<TemporaryStore> }[] = [
  { name: "sqlite", open: () => temporarySqlite() },
  { name: "postgres", open: () => temporaryPostgres(DATABASE_URL) },
];

/** A running service and the store under it; `stop()` ends both. */
export interface ApiService {
  readonly url: string;
  readonly running: RunningService;
  stop(): Promise<void>;
}

/** Builds a notes service on `store` (customised by `extend`) and serves it on a free port. */
export async function serveNotes(
  store: TemporaryStore,
  extend: (builder: ServiceBuilder) => ServiceBuilder = (builder) => builder,
): Promise<ApiService> {
  const builder = new ServiceBuilder({ info: { display_name: "API surface", version: "2.0.0" }, databaseUrl: store.url })
    .withEntity(Note);
  const app = await extend(builder as unknown as ServiceBuilder).build();
  const running = await listenService(app, { port: 0, handleSignals: false });
  return {
    url: running.url,
    running,
    stop: async () => {
      await running.stop();
      await store.cleanup();
    },
  };
}
