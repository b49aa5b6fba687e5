/**
 * The smallest useful chapkit service: health, system, info, a landing page
 * and offline API docs on an embedded SQLite file.
 *
 *   bun examples/quickstart.ts          # or: deno run -A examples/quickstart.ts
 *   open http://127.0.0.1:8000/         # landing page
 *   open http://127.0.0.1:8000/docs     # API docs
 *
 * Environment: `PORT` (default 8000), `DATABASE_URL` (default
 * `sqlite:./quickstart.db`), `LOG_FORMAT` (`console`|`json`), `LOG_LEVEL`.
 */
import { ServiceBuilder } from "../src/service/service-builder.ts";

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};

const service = await new ServiceBuilder({
  info: {
    display_name: "Quickstart Service",
    version: "1.0.0",
    summary: "A chapkit service with health, system info and docs",
  },
  databaseUrl: env.DATABASE_URL ?? "sqlite:./quickstart.db",
})
  .withLogging()
  .withHealth()
  .withSystem()
  .withLandingPage()
  .listen(Number(env.PORT ?? 8000));

console.log(`Listening on ${service.url} (docs at ${service.url}/docs)`);
