/**
 * The seed profile: what every chapkit (and Python Chapkit) service answers —
 * health, info, OpenAPI, config CRUD, jobs, tasks run as jobs, and train/predict
 * when the service has ML. Checks for modules a service does not mount are
 * skipped, not failed.
 */
import { type CheckContext, type ConformanceCheck, type ConformanceProfile, expect, skip } from "./check.ts";
import type { Answer } from "./client.ts";
import { sampleValue } from "./_sample.ts";

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
/** A well-formed ULID no service will have stored. */
const UNKNOWN_ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
const CONFIG = "/api/v1/config";
const CONFIG_KEY = "seed.config";

function object(answer: Answer, what: string): Record<string, unknown> {
  expect(answer.body !== null && typeof answer.body === "object" && !Array.isArray(answer.body), `${what} is not a JSON object: ${answer.text.slice(0, 200)}`);
  return answer.body as Record<string, unknown>;
}

/** The rows of a list answer: a plain array, or the `items` of a page envelope. */
function rows(answer: Answer, what: string): Record<string, unknown>[] {
  const body = answer.body as { items?: unknown } | unknown[] | undefined;
  const list = Array.isArray(body) ? body : (body as { items?: unknown } | undefined)?.items;
  expect(Array.isArray(list), `${what} is neither an array nor a page with items: ${answer.text.slice(0, 200)}`);
  return list as Record<string, unknown>[];
}

function check(name: string, run: (context: CheckContext) => Promise<void>): ConformanceCheck {
  return { name, run };
}

async function requireConfig(context: CheckContext): Promise<void> {
  if (!(await context.client.hasOperation("post", CONFIG))) skip("the service has no config module");
}

function createdConfig(context: CheckContext): Record<string, unknown> {
  const config = context.state.get(CONFIG_KEY) as Record<string, unknown> | undefined;
  if (!config) skip("no config was created");
  return config;
}

const health = check("health: GET /api/v1/health answers 200 and is not unhealthy", async ({ client }) => {
  const body = object(await client.expectStatus("GET", "/api/v1/health", 200), "the health answer");
  expect(["healthy", "degraded", "unhealthy"].includes(String(body.status)), `health status is ${JSON.stringify(body.status)}`);
  expect(body.status !== "unhealthy", `the service reports itself unhealthy: ${JSON.stringify(body.checks ?? {})}`);
});

const info = check("info: GET /api/v1/info names the service", async ({ client }) => {
  const body = object(await client.expectStatus("GET", "/api/v1/info", 200), "the info answer");
  expect(typeof body.display_name === "string" && body.display_name.length > 0, "info has no display_name");
});

const openapi = check("openapi: GET /openapi.json is an OpenAPI 3 document", async ({ client }) => {
  const body = object(await client.expectStatus("GET", "/openapi.json", 200), "the OpenAPI document");
  expect(String(body.openapi ?? "").startsWith("3."), `openapi version is ${JSON.stringify(body.openapi)}`);
  expect(body.paths && typeof body.paths === "object", "the OpenAPI document has no paths");
});

const configCreate = check("config: POST creates a config (201, Location, id, timestamps)", async (context) => {
  await requireConfig(context);
  const { client } = context;
  const schema = object(await client.expectStatus("GET", `${CONFIG}/$schema`, 200), "the config $schema");
  const dataSchema = ((schema.properties as Record<string, unknown> | undefined)?.data ?? {}) as Record<string, unknown>;
  const data = sampleValue(dataSchema, schema);
  const name = `chapkit-conformance-${Date.now().toString(36)}`;
  const answer = await client.expectStatus("POST", CONFIG, 201, { name, data });
  const config = object(answer, "the created config");
  context.state.set(CONFIG_KEY, config);
  context.defer(() => client.request("DELETE", `${CONFIG}/${String(config.id)}`));
  expect(ULID.test(String(config.id)), `id ${JSON.stringify(config.id)} is not a ULID`);
  expect(config.name === name, `name came back as ${JSON.stringify(config.name)}`);
  expect(typeof config.created_at === "string" && typeof config.updated_at === "string", "created_at/updated_at missing");
  expect(config.data !== null && typeof config.data === "object", "data is not an object");
  const location = answer.headers.get("location") ?? "";
  expect(location.endsWith(`${CONFIG}/${String(config.id)}`), `Location is ${JSON.stringify(location)}`);
});

const configRead = check("config: GET by id returns the created config", async (context) => {
  const config = createdConfig(context);
  const read = object(await context.client.expectStatus("GET", `${CONFIG}/${String(config.id)}`, 200), "the config");
  expect(read.id === config.id && read.name === config.name, `read back ${JSON.stringify(read).slice(0, 200)}`);
});

const configList = check("config: GET lists the created config", async (context) => {
  const config = createdConfig(context);
  const list = rows(await context.client.expectStatus("GET", `${CONFIG}?page=1&size=1000`, 200), "the config list");
  expect(list.some((row) => row.id === config.id), "the created config is not in the list");
});

const configUpdate = check("config: PUT replaces name and data (200)", async (context) => {
  const config = createdConfig(context);
  const name = `${String(config.name)}-renamed`;
  const updated = object(
    await context.client.expectStatus("PUT", `${CONFIG}/${String(config.id)}`, 200, { name, data: config.data }),
    "the updated config",
  );
  expect(updated.id === config.id && updated.name === name, `update answered ${JSON.stringify(updated).slice(0, 200)}`);
});

const configErrors = check("config: malformed id → 400, unknown id → 404, invalid body → 422", async (context) => {
  await requireConfig(context);
  const { client } = context;
  await client.expectStatus("GET", `${CONFIG}/not-a-ulid`, 400);
  await client.expectStatus("GET", `${CONFIG}/${UNKNOWN_ID}`, 404);
  await client.expectStatus("POST", CONFIG, 422, { data: {} });
});

const configDelete = check("config: DELETE answers 204 and the config is gone", async (context) => {
  const config = createdConfig(context);
  await context.client.expectStatus("DELETE", `${CONFIG}/${String(config.id)}`, 204);
  await context.client.expectStatus("GET", `${CONFIG}/${String(config.id)}`, 404);
});

const jobsList = check("jobs: GET /api/v1/jobs lists job records; unknown id → 404", async ({ client }) => {
  if (!(await client.hasOperation("get", "/api/v1/jobs"))) skip("the service has no job scheduler");
  const list = rows(await client.expectStatus("GET", "/api/v1/jobs", 200), "the job list");
  for (const job of list.slice(0, 5)) {
    expect(ULID.test(String(job.id)) && typeof job.status === "string", `job record ${JSON.stringify(job).slice(0, 200)}`);
  }
  await client.expectStatus("GET", `/api/v1/jobs/${UNKNOWN_ID}`, 404);
  await client.expectStatus("GET", "/api/v1/jobs?status_filter=bogus", 422);
});

const taskJob = check("jobs: a task runs as a job to completion and stores its output", async (context) => {
  const { client } = context;
  if (!(await client.hasOperation("post", "/api/v1/tasks/{id}/$execute")) && !(await client.hasOperation("post", "/api/v1/tasks"))) {
    skip("the service has no task module");
  }
  const created = await client.request("POST", "/api/v1/tasks", { command: "echo chapkit-conformance" });
  // Shell tasks are off unless a service enables them; a 403 refusal is the contract then.
  if (created.status === 403) skip("the service does not run shell tasks (403)");
  expect(created.status === 201, `POST /api/v1/tasks answered ${created.status}, expected 201 or 403: ${created.text.slice(0, 300)}`);
  const task = object(created, "the task");
  context.defer(() => client.request("DELETE", `/api/v1/tasks/${String(task.id)}`));
  const submitted = object(await client.expectStatus("POST", `/api/v1/tasks/${String(task.id)}/$execute`, 202), "the $execute answer");
  expect(ULID.test(String(submitted.job_id)), `$execute answered ${JSON.stringify(submitted)}`);
  context.defer(() => client.request("DELETE", `/api/v1/jobs/${String(submitted.job_id)}`));
  const job = await client.waitForJob(String(submitted.job_id), context.jobTimeoutMs);
  expect(job.status === "completed", `the task job ended ${String(job.status)}: ${String(job.error)}`);
  expect(ULID.test(String(job.artifact_id)), "the completed job has no artifact_id");
  context.defer(() => client.request("DELETE", `/api/v1/artifacts/${String(job.artifact_id)}`));
  const artifact = object(await client.expectStatus("GET", `/api/v1/artifacts/${String(job.artifact_id)}`, 200), "the result artifact");
  const data = artifact.data as Record<string, unknown> | undefined;
  expect(String(data?.stdout ?? "").includes("chapkit-conformance"), `the result artifact holds ${JSON.stringify(data).slice(0, 200)}`);
});

async function requireMl(context: CheckContext): Promise<void> {
  if (!(await context.client.hasOperation("post", "/api/v1/ml/$train"))) skip("the service has no ML module");
}

const mlValidation = check("ml: $train and $predict reject invalid bodies with 422", async (context) => {
  await requireMl(context);
  await context.client.expectStatus("POST", "/api/v1/ml/$train", 422, { data: { columns: ["a"], data: [[1]] } });
  await context.client.expectStatus("POST", "/api/v1/ml/$predict", 422, { future: { columns: ["a"], data: [[1]] } });
});

/**
 * A reference to something missing is refused at submission with a 404 problem
 * (chapkit) or accepted with 202 and its job then fails with "... not found"
 * (Python Chapkit); both are conformant, anything else is not.
 */
async function expectMissingReferent(context: CheckContext, path: string, body: unknown): Promise<void> {
  const { client } = context;
  const answer = await client.request("POST", path, body);
  if (answer.status === 404) {
    const problem = object(answer, "the 404 answer");
    expect(String(problem.detail ?? "").includes("not found"), `the 404 detail is ${JSON.stringify(problem.detail)}`);
    return;
  }
  expect(answer.status === 202, `POST ${path} answered ${answer.status}, expected 404 or 202: ${answer.text.slice(0, 300)}`);
  const submitted = object(answer, "the 202 answer");
  expect(ULID.test(String(submitted.job_id)), `POST ${path} answered ${JSON.stringify(submitted)}`);
  context.defer(() => client.request("DELETE", `/api/v1/jobs/${String(submitted.job_id)}`));
  const job = await client.waitForJob(String(submitted.job_id), context.jobTimeoutMs);
  expect(job.status === "failed", `the job ended ${String(job.status)}, expected failed`);
  expect(String(job.error ?? "").includes("not found"), `the job error is ${JSON.stringify(job.error)}`);
}

const mlUnknownConfig = check("ml: $train with an unknown config is refused (404) or its job fails", async (context) => {
  await requireMl(context);
  await expectMissingReferent(context, "/api/v1/ml/$train", { config_id: UNKNOWN_ID, data: { columns: ["x"], data: [[1]] } });
});

const mlUnknownModel = check("ml: $predict with an unknown model is refused (404) or its job fails", async (context) => {
  await requireMl(context);
  await expectMissingReferent(context, "/api/v1/ml/$predict", { model_artifact_id: UNKNOWN_ID, future: { columns: ["x"], data: [[1]] } });
});

const mlRoundTrip = check("ml: train then predict completes and stores a prediction", async (context) => {
  await requireMl(context);
  const { client, mlData } = context;
  if (!mlData) skip("pass --ml-data FILE with train and predict data for a full round trip");
  const config = object(
    await client.expectStatus("POST", CONFIG, 201, { name: `chapkit-conformance-ml-${Date.now().toString(36)}`, data: mlData.config ?? {} }),
    "the config",
  );
  context.defer(() => client.request("DELETE", `${CONFIG}/${String(config.id)}`));
  const trained = object(
    await client.expectStatus("POST", "/api/v1/ml/$train", 202, { config_id: config.id, data: mlData.train, geo: mlData.geo ?? null }),
    "the $train answer",
  );
  context.defer(() => client.request("DELETE", `/api/v1/artifacts/${String(trained.model_artifact_id)}`));
  const trainJob = await client.waitForJob(String(trained.job_id), context.jobTimeoutMs);
  expect(trainJob.status === "completed", `training ended ${String(trainJob.status)}: ${String(trainJob.error)}`);
  expect(trainJob.artifact_id === trained.model_artifact_id, "the train job's artifact_id is not the announced model_artifact_id");
  const predicted = object(
    await client.expectStatus("POST", "/api/v1/ml/$predict", 202, {
      model_artifact_id: trained.model_artifact_id,
      future: mlData.predict,
      historic: mlData.historic ?? null,
      geo: mlData.geo ?? null,
    }),
    "the $predict answer",
  );
  const predictJob = await client.waitForJob(String(predicted.job_id), context.jobTimeoutMs);
  expect(predictJob.status === "completed", `prediction ended ${String(predictJob.status)}: ${String(predictJob.error)}`);
  const artifact = object(
    await client.expectStatus("GET", `/api/v1/artifacts/${String(predicted.prediction_artifact_id)}`, 200),
    "the prediction artifact",
  );
  const data = artifact.data as Record<string, unknown> | undefined;
  expect(data?.ml_type === "prediction", `the prediction artifact's ml_type is ${JSON.stringify(data?.ml_type)}`);
  const predictions = data?.predictions as { data?: unknown[] } | undefined;
  expect(Array.isArray(predictions?.data) && predictions.data.length === mlData.predict.data.length, "the prediction has not one row per future row");
});

/** The checks of the seed profile, in run order. */
export const SEED_CHECKS: readonly ConformanceCheck[] = [
  health,
  info,
  openapi,
  configCreate,
  configRead,
  configList,
  configUpdate,
  configErrors,
  configDelete,
  jobsList,
  taskJob,
  mlValidation,
  mlUnknownConfig,
  mlUnknownModel,
  mlRoundTrip,
];

/** The seed profile: the Chapkit contract every service shares. */
export const seedProfile: ConformanceProfile = {
  name: "seed",
  description: "health, info, OpenAPI, config CRUD, jobs and tasks, train/predict when the service has ML",
  checks: SEED_CHECKS,
};
