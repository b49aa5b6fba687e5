/**
 * A typed client for a chapkit service: the built app keeps its route types,
 * so `treaty<typeof service>` from `@elysiajs/eden` checks every call (paths,
 * bodies, query parameters, answers) at compile time.
 *
 *   bun examples/typed_client.ts          # or: deno run -A examples/typed_client.ts
 *
 * It serves configs, artifacts, jobs and a custom `notes` entity on `PORT`
 * (default 8000; 0 picks a free port), then calls them through the typed
 * client. Another program types its client from this file alone:
 * `import type { TypedService } from "./typed_client.ts"`.
 */
import { treaty } from "@elysiajs/eden";
import { Type } from "@sinclair/typebox";
import { defineEntity, field, listenService, ServiceBuilder } from "chapkit";

/** A custom entity; its routes are typed from this definition. */
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

/** The config schema: `data` of every config is typed from it. */
export const WeatherConfig = Type.Object({ min_samples: Type.Integer({ default: 5 }), region: Type.String() }, { title: "WeatherConfig" });

/** Builds the service; its type is what a client is typed from. */
export function buildService(databaseUrl = "sqlite::memory:") {
  return new ServiceBuilder({ info: { display_name: "Typed service", version: "1.0.0" }, databaseUrl })
    .withHealth()
    .withConfig(WeatherConfig)
    .withArtifacts({ hierarchy: { name: "weather", level_labels: { 0: "model" } } })
    .withJobs()
    .withEntity(Note)
    .build();
}

/** The built service's type, routes included: `treaty<TypedService>(url)`. */
export type TypedService = Awaited<ReturnType<typeof buildService>>;

if (import.meta.main) {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  const service = await buildService(env.DATABASE_URL || undefined);
  const running = await listenService(service, { port: Number(env.PORT ?? 8000), hostname: "127.0.0.1" });
  console.log(`Listening on ${running.url}`);

  const client = treaty<TypedService>(running.url);
  const note = await client.api.v1.notes.post({ title: "typed", stars: 3 });
  console.log(`created note ${note.data?.title} with ${note.data?.stars} stars`);
  const config = await client.api.v1.config.post({ name: "north", data: { min_samples: 3, region: "north" } });
  console.log(`created config ${config.data?.name} for region ${config.data?.data.region}`);
  const missing = await client.api.v1.notes({ entity_id: "01K79YAHJ7BR4E87VVTG8FNBMA" }).get();
  console.log(`unknown note: ${missing.status} ${missing.error?.value.type}`);
}
