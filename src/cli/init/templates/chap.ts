/** `chap`: a chap-core model service (chap profile) with least squares of disease cases on climate covariates. */
import type { ProjectTemplate } from "../template.ts";
import { ENV_IMPORT, testPrelude } from "./_test-prelude.ts";

const TRAINING = {
  columns: ["time_period", "location", "rainfall", "mean_temperature", "disease_cases"],
  data: [
    ["2024-01", "a", 100, 25, 12],
    ["2024-02", "a", 85, 27, 8],
    ["2024-03", "a", 90, 26, 10],
    ["2024-01", "b", 110, 24, 14],
    ["2024-02", "b", 95, 28, 9],
  ],
};
const FUTURE = { columns: ["time_period", "location", "rainfall", "mean_temperature"], data: [["2024-04", "a", 100, 25], ["2024-03", "b", 90, 27]] };

/** The test of the chap template: chap-core's health, then its train → predict round trip. */
const chapTest = (): string =>
  `${testPrelude()}
test("answers chap-core's GET /health with healthy", async () => {
  const { status, body } = await client.get("/health");
  assert.equal(status, 200);
  assert.equal(body.status, "healthy");
});

test("trains and predicts as chap-core does: a sample_0 value for every future row", async () => {
  const config = await client.post("/api/v1/configs", { name: "test", data: {} });
  assert.equal(config.status, 201);
  const train = await client.post("/api/v1/ml/$train", {
    config_id: config.body.id,
    data: ${JSON.stringify(TRAINING)},
  });
  assert.equal(train.status, 202);
  assert.deepEqual(Object.keys(train.body).sort(), ["artifact_id", "job_id", "message"]);
  const trained = await client.waitForJob(train.body.job_id);
  assert.equal(trained.status, "completed", trained.error ?? undefined);
  const predict = await client.post("/api/v1/ml/$predict", {
    artifact_id: train.body.artifact_id,
    historic: ${JSON.stringify(TRAINING)},
    future: ${JSON.stringify(FUTURE)},
  });
  assert.equal(predict.status, 202);
  assert.deepEqual(Object.keys(predict.body).sort(), ["artifact_id", "job_id", "message"]);
  const job = await client.waitForJob(predict.body.job_id);
  assert.equal(job.status, "completed", job.error ?? undefined);
  const artifact = await client.get(\`/api/v1/artifacts/\${predict.body.artifact_id}\`);
  assert.equal(artifact.status, 200);
  assert.deepEqual(artifact.body.data.content.columns, ["time_period", "location", "sample_0"]);
  assert.equal(artifact.body.data.content.data.length, ${FUTURE.data.length});
});
`;

/** The chap template: the chap profile (chapkit 1.x contract chap-core speaks), self-registering when configured. */
export const chapTemplate: ProjectTemplate = {
  name: "chap",
  description: "a chap-core model service: disease cases from rainfall and temperature",
  // The chap profile's workspace artifacts are zips holding a config.yml.
  peerPackages: { fflate: "^0.8.3", "js-yaml": "^5.5.0" },
  usage: "The service speaks the chap profile that chap-core expects. Create a config (`POST /api/v1/configs`), " +
    "train with `POST /api/v1/ml/$train` (`{config_id, data: {columns, data}}`), then predict with " +
    "`POST /api/v1/ml/$predict` (`{artifact_id, historic, future}`); both answer `{job_id, artifact_id, message}` " +
    "with a job to poll at `/api/v1/jobs/{id}`. Data needs time_period, location, rainfall and mean_temperature, " +
    "with disease_cases as the training target. Check a running service with " +
    "`npx chapkit test --url URL --profile chap`. To register with chap-core, set `SERVICEKIT_ORCHESTRATOR_URL` " +
    "(and `SERVICEKIT_HOST`, `SERVICEKIT_PORT`, `SERVICEKIT_REGISTRATION_KEY`).",
  main: ({ name, title }) => `/**
 * ${title}: a model chap-core can discover, train and predict with (the chap
 * profile). Ordinary least squares of disease_cases on rainfall and
 * mean_temperature; predictions in sample_0 for every future row.
 *
 * Environment: PORT (default 8000), DATABASE_URL (default sqlite:./${name}.db),
 * and for self-registration with chap-core SERVICEKIT_ORCHESTRATOR_URL,
 * SERVICEKIT_HOST, SERVICEKIT_PORT and SERVICEKIT_REGISTRATION_KEY.
 */
${ENV_IMPORT}
import { Type } from "@sinclair/typebox";
import { MLServiceBuilder } from "chapkit";
import { fitLinearRegression, functionalRunner, type LinearModel, predictLinear, ValueError } from "chapkit/ml";

const FEATURES = ["rainfall", "mean_temperature"];
const TARGET = "disease_cases";

/** Fits on every training row; a frame without a required column fails the job naming it. */
export const runner = functionalRunner<Record<string, unknown>, LinearModel>({
  onTrain: ({ data }) => {
    const missing = [...FEATURES, TARGET].filter((column) => !data.has(column));
    if (missing.length > 0) throw new ValueError(\`Training data is missing required column(s): \${missing.join(", ")}\`);
    return fitLinearRegression(data, { features: FEATURES, target: TARGET });
  },
  onPredict: ({ model, future }) => {
    const missing = FEATURES.filter((column) => !future.has(column));
    if (missing.length > 0) throw new ValueError(\`Future data is missing required column(s): \${missing.join(", ")}\`);
    return future.select(["time_period", "location"]).withColumn("sample_0", predictLinear(model, future));
  },
});

/** The service, not yet listening; main.test.ts builds it in-process. */
export function createService(databaseUrl = process.env.DATABASE_URL ?? "sqlite:./${name}.db"): MLServiceBuilder {
  return new MLServiceBuilder({
    info: {
      id: "${name}",
      display_name: "${title}",
      version: "0.1.0",
      description: "Ordinary least squares of disease_cases on rainfall and mean_temperature",
      model_metadata: {
        author: "${title}",
        author_assessed_status: "red",
        contact_email: "${name}@example.org",
      },
      period_type: "monthly",
      required_covariates: FEATURES,
    },
    configSchema: Type.Object({}, { title: "ModelConfig", additionalProperties: true }),
    runner,
    profile: "chap",
    databaseUrl,
  }).withRegistration();
}

if (import.meta.main) {
  const service = await createService().listen(Number(process.env.PORT ?? 8000));
  console.log(\`${title} listening on \${service.url} (docs at \${service.url}/docs)\`);
}
`,
  test: chapTest,
};
