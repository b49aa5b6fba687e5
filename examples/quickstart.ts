/**
 * The quickstart service: config and artifact CRUD, jobs, health, system, info, a landing
 * page and offline API docs on an embedded SQLite file.
 *
 *   npm ci && npm run quickstart        # or: bun examples/quickstart.ts / deno run -A examples/quickstart.ts
 *   open http://127.0.0.1:8000/         # landing page
 *   open http://127.0.0.1:8000/docs     # API docs
 *
 * Environment: `PORT` (default 8000), `DATABASE_URL` (default
 * `sqlite:./quickstart.db`), `LOG_FORMAT` (`console`|`json`), `LOG_LEVEL`.
 */
import { Type } from "@sinclair/typebox";
import { ServiceBuilder } from "chapkit";

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};

/** The data every config of this service carries. */
const ModelConfig = Type.Object({
  min_samples: Type.Integer({ default: 5, title: "Min Samples" }),
  normalize_features: Type.Boolean({ default: true, title: "Normalize Features" }),
}, { title: "ModelConfig", additionalProperties: true });

const service = await new ServiceBuilder({
  info: {
    display_name: "Quickstart Service",
    version: "1.0.0",
    summary: "A chapkit service with configs, artifacts, jobs, health, system info and docs",
  },
  databaseUrl: env.DATABASE_URL ?? "sqlite:./quickstart.db",
})
  .withLogging()
  .withHealth()
  .withMonitoring()
  .withSystem()
  .withConfig(ModelConfig)
  .withArtifacts({ hierarchy: { name: "quickstart", level_labels: { 0: "model", 1: "output" } } })
  .withJobs({ maxConcurrency: 4 })
  .withLandingPage()
  .listen(Number(env.PORT ?? 8000));

console.log(`Listening on ${service.url} (docs at ${service.url}/docs)`);
