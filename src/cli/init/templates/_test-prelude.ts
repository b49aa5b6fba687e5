/** The opening of every template's `main.test.ts`: the service built in-process and a request helper. */

/** Imports and the service built in-process (in-memory SQLite, closed after the tests) behind a test client. */
export function testPrelude(createArgs = `"sqlite::memory:"`): string {
  return `import assert from "node:assert/strict";
import { after, test } from "node:test";
import { testClient } from "chapkit/testing";
import { createService } from "./main.ts";

// The service runs in-process on an in-memory database: no port, no files.
const client = await testClient(createService(${createArgs}));
after(() => client.close());
`;
}

/** The standard health test. */
export const HEALTH_TEST = `
test("answers health with 200", async () => {
  const { status, body } = await client.get("/api/v1/health");
  assert.equal(status, 200);
  assert.equal(body.status, "healthy");
});
`;

/** A train → predict round trip on the ml_basic data (rainfall, mean_temperature → disease_cases). */
export function trainPredictTest(columns: string[], rows: number[][], future: number[][]): string {
  return `
test("trains a model and predicts one value per future row", async () => {
  const config = await client.post("/api/v1/config", { name: "test", data: {} });
  assert.equal(config.status, 201);
  const train = await client.post("/api/v1/ml/$train", {
    config_id: config.body.id,
    data: { columns: ${JSON.stringify(columns)}, data: ${JSON.stringify(rows)} },
  });
  assert.equal(train.status, 202);
  assert.equal((await client.waitForJob(train.body.job_id)).status, "completed");
  const predict = await client.post("/api/v1/ml/$predict", {
    model_artifact_id: train.body.model_artifact_id,
    future: { columns: ${JSON.stringify(columns.slice(0, -1))}, data: ${JSON.stringify(future)} },
  });
  assert.equal(predict.status, 202);
  const job = await client.waitForJob(predict.body.job_id);
  assert.equal(job.status, "completed", job.error ?? undefined);
  const artifact = await client.get(\`/api/v1/artifacts/\${predict.body.prediction_artifact_id}\`);
  assert.equal(artifact.body.data.predictions.data.length, ${future.length});
});
`;
}

/** The data the ML templates train on. */
export const ML_COLUMNS = ["rainfall", "mean_temperature", "disease_cases"];
/** Five rows of rainfall, temperature and cases. */
export const ML_ROWS = [[100, 25, 12], [85, 27, 8], [90, 26, 10], [110, 24, 14], [95, 28, 9]];
/** Two future rows. */
export const ML_FUTURE = [[100, 25], [90, 27]];

/** The `process.env` preamble of a template's main.ts. */
export const ENV_IMPORT = `import process from "node:process";`;
