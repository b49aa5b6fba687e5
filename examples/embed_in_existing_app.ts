/**
 * Mounting a chapkit service inside an existing Elysia app under a prefix.
 * `basePath` is the one setting: the built service answers under `/chapkit`
 * (routes, `Location` headers, problem `instance` values, the OpenAPI
 * `servers` entry and the docs page agree), and the host keeps its own routes
 * and hooks, which the service's hooks leave alone.
 *
 *   bun examples/embed_in_existing_app.ts   # or: deno run -A examples/embed_in_existing_app.ts
 *   curl http://127.0.0.1:8000/                          # the host's route
 *   curl http://127.0.0.1:8000/chapkit/api/v1/health     # the service's health
 *   open http://127.0.0.1:8000/chapkit/docs              # the service's docs
 */
import { Elysia } from "elysia";
import { onTermination, serve, ServiceBuilder } from "chapkit";

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};

const chapkit = await new ServiceBuilder({
  info: { display_name: "Embedded chapkit", summary: "A chapkit service inside a larger app" },
  basePath: "/chapkit",
})
  .withHealth()
  .withMonitoring()
  .withSystem()
  .withLandingPage()
  .build();

// The service goes in before the host's hooks: Elysia applies a hook only to routes added after it.
const host = new Elysia()
  .use(chapkit)
  .onAfterHandle(({ set }) => {
    set.headers["x-served-by"] = "host";
  })
  .get("/", () => ({ app: "existing", chapkit: "/chapkit/" }));

// `host.fetch` works with Bun.serve and Deno.serve alike; `serve` picks the runtime's own.
const server = await serve((request) => host.fetch(request), { port: Number(env.PORT ?? 8000) });
console.log(`Host app on http://127.0.0.1:${server.port}, chapkit under /chapkit`);

onTermination(async () => {
  await server.stop(10_000);
  await chapkit.chapkit.close();
  console.log("Stopped: host server and chapkit service closed");
});
