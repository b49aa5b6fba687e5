/** `basic`: configs, artifacts, tasks and jobs. */
import type { ProjectTemplate } from "../template.ts";
import { ENV_IMPORT, HEALTH_TEST, testPrelude } from "./_test-prelude.ts";

/** `chapkit init` by default: configs, artifacts, tasks and jobs on SQLite or PostgreSQL. */
export const basicTemplate: ProjectTemplate = {
  name: "basic",
  description: "configs, artifacts, tasks and jobs on SQLite or PostgreSQL",
  usage: "Configs live under `/api/v1/config`, artifacts under `/api/v1/artifacts`, shell tasks under " +
    "`/api/v1/tasks` (run one with `POST /api/v1/tasks/{id}/$execute`), jobs under `/api/v1/jobs`.",
  main: ({ name, title }) => `/**
 * ${title}: configs, artifacts, tasks and jobs.
 *
 * Environment: PORT (default 8000), DATABASE_URL (default sqlite:./${name}.db).
 */
${ENV_IMPORT}
import { Type } from "@sinclair/typebox";
import { ServiceBuilder } from "chapkit";

/** The data every config of this service carries. */
export const AppConfig = Type.Object({
  min_samples: Type.Integer({ default: 5, minimum: 1 }),
  region: Type.String({ default: "all" }),
}, { title: "AppConfig", additionalProperties: true });

/** The service, not yet listening; main.test.ts builds it in-process. */
export function createService(databaseUrl = process.env.DATABASE_URL ?? "sqlite:./${name}.db"): ServiceBuilder {
  return new ServiceBuilder({
    info: { display_name: "${title}", version: "0.1.0", summary: "A chapkit service" },
    databaseUrl,
  })
    .withLogging()
    .withHealth()
    .withSystem()
    .withConfig(AppConfig)
    .withArtifacts({ hierarchy: { name: "results", level_labels: { 0: "result" } } })
    // Shell tasks run commands on this machine: allow only the ones the service needs.
    .withTasks({ shell: { commands: ["echo hello"] } })
    .withJobs({ maxConcurrency: 4 })
    .withLandingPage();
}

if (import.meta.main) {
  const service = await createService().listen(Number(process.env.PORT ?? 8000));
  console.log(\`${title} listening on \${service.url} (docs at \${service.url}/docs)\`);
}
`,
  test: () => `${testPrelude()}${HEALTH_TEST}
test("stores a config with its defaults filled in", async () => {
  const created = await client.post("/api/v1/config", { name: "north", data: { region: "north" } });
  assert.equal(created.status, 201);
  assert.deepEqual(created.body.data, { min_samples: 5, region: "north" });
  const read = await client.get(\`/api/v1/config/\${created.body.id}\`);
  assert.equal(read.body.name, "north");
});

test("rejects a config whose data breaks the schema", async () => {
  const { status } = await client.post("/api/v1/config", { name: "bad", data: { min_samples: 0 } });
  assert.equal(status, 422);
});

test("runs a task as a job and stores its output", async () => {
  const task = await client.post("/api/v1/tasks", { command: "echo hello" });
  const submitted = await client.post(\`/api/v1/tasks/\${task.body.id}/$execute\`);
  assert.equal(submitted.status, 202);
  const job = await client.waitForJob(submitted.body.job_id);
  const artifact = await client.get(\`/api/v1/artifacts/\${job.artifact_id}\`);
  assert.equal(artifact.body.data.stdout, "hello\\n");
});
`,
};
