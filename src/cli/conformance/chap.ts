/**
 * The chap profile: what chap-core needs of a chapkit service (the chapkit
 * 1.x contract, contract-chapcore §12–§13). The checks replay chap-core's
 * calls in its order — health, info, config schema, the probe config, config
 * create and list, train, poll, predict, poll, prediction artifact — plus
 * `$validate`, and check every body with the models chap-core validates
 * with (`chap-models.ts`), extra keys refused where chap-core refuses them.
 */
import type { TSchema } from "@sinclair/typebox";
import { sampleFrame } from "../../modules/ml/engine/sample-data.ts";
import { type CheckContext, type ConformanceCheck, type ConformanceProfile, expect, skip } from "./check.ts";
import type { Answer, ServiceClient } from "./client.ts";
import {
  ArtifactOut,
  ChapkitJobRecord,
  ConfigOut,
  HealthStatus,
  JobSubmitted,
  MLPredictionArtifactData,
  MLServiceInfo,
  violations,
} from "./chap-models.ts";

type Json = Record<string, unknown>;
type Frame = { columns: string[]; data: unknown[][] };

const CONFIGS = "/api/v1/configs";
const RESERVED = ["prediction_periods", "additional_continuous_covariates"];

function valid(schema: TSchema, answer: Answer, what: string): Json {
  const problems = violations(schema, answer.body);
  expect(problems.length === 0, `${what} is not what chap-core accepts: ${problems.join("; ")} in ${answer.text.slice(0, 300)}`);
  return answer.body as Json;
}

function check(name: string, run: (context: CheckContext) => Promise<void>): ConformanceCheck {
  return { name, run };
}

function stateOf<T>(context: CheckContext, key: string, reason: string): T {
  const value = context.state.get(key) as T | undefined;
  if (value === undefined) skip(reason);
  return value;
}

/** chap-core's config names: a base and a microsecond suffix. */
function uniqueName(base: string): string {
  return `${base}_${Date.now()}${Math.floor(Math.random() * 1000).toString().padStart(3, "0")}`;
}

/** Training and prediction frames: `--ml-data`, or a generated panel with the service's required covariates. */
function frames(context: CheckContext, info: Json, periods: number): { train: Frame; historic: Frame; future: Frame; geo: unknown } {
  if (context.mlData) {
    const { train, predict, historic, geo } = context.mlData;
    return { train, historic: historic ?? train, future: predict, geo: geo ?? null };
  }
  const periodType = info.period_type === "weekly" ? "weekly" : "monthly";
  const covariates = Array.isArray(info.required_covariates) ? info.required_covariates as string[] : [];
  const base = { locations: 3, features: 0, periodType, seed: 11, covariates } as const;
  const train = sampleFrame({ ...base, periods: 24 }) as Frame;
  const future = sampleFrame({ ...base, periods, startPeriod: 24 }) as Frame;
  const cases = future.columns.indexOf("disease_cases");
  for (const row of future.data) row[cases] = null;
  return { train, historic: train, future, geo: null };
}

const health = check("health: GET /health is a healthy HealthStatus", async ({ client }) => {
  const body = valid(HealthStatus, await client.expectStatus("GET", "/health", 200), "the health answer");
  expect(body.status === "healthy", `chap-core requires status "healthy", got ${JSON.stringify(body.status)}`);
});

const info = check("info: GET /api/v1/info is exactly an MLServiceInfo (no extra keys)", async (context) => {
  const body = valid(MLServiceInfo, await context.client.expectStatus("GET", "/api/v1/info", 200), "the service info");
  context.state.set("info", body);
});

const schema = check("schema: GET /api/v1/configs/$schema is the bare config schema", async (context) => {
  const answer = await context.client.expectStatus("GET", `${CONFIGS}/$schema`, 200);
  const body = answer.body as Json | undefined;
  const properties = body?.properties as Json | undefined;
  expect(properties && typeof properties === "object", `the schema has no top-level properties: ${answer.text.slice(0, 200)}`);
  for (const key of RESERVED) expect(key in properties, `the schema does not declare the reserved ${key}`);
  for (const key of ["id", "created_at", "updated_at", "name", "data"]) {
    expect(!(key in properties), `the schema lists ConfigOut's ${key}: chap-core would record it as a user option`);
  }
});

const probe = check("config: the probe config (data {}) is created with defaults and deleted", async ({ client }) => {
  const body = valid(ConfigOut, await client.expectStatus("POST", CONFIGS, 201, { name: `__chap_probe_defaults_${Date.now()}__`, data: {} }), "the probe config");
  const data = body.data as Json;
  expect(Array.isArray(data.additional_continuous_covariates), "the probe config has no additional_continuous_covariates list");
  await client.expectStatus("DELETE", `${CONFIGS}/${String(body.id)}`, 204);
});

const configCreate = check("config: POST /api/v1/configs with chap-core's data answers a ConfigOut", async (context) => {
  const { client } = context;
  const name = uniqueName("chapkit_conformance");
  const data = { id: 1, name, model_template_id: 1, user_option_values: {}, archived: false, uses_chapkit: true, ...context.mlData?.config };
  const body = valid(ConfigOut, await client.expectStatus("POST", CONFIGS, 201, { name, data }), "the created config");
  context.defer(() => client.request("DELETE", `${CONFIGS}/${String(body.id)}`));
  context.state.set("config", body);
});

const configList = check("config: GET /api/v1/configs is a plain array of ConfigOut holding the new config", async (context) => {
  const config = stateOf<Json>(context, "config", "no config was created");
  const answer = await context.client.expectStatus("GET", CONFIGS, 200);
  expect(Array.isArray(answer.body), `the config list is not a plain array: ${answer.text.slice(0, 200)}`);
  for (const [index, item] of (answer.body as unknown[]).entries()) {
    const problems = violations(ConfigOut, item);
    expect(problems.length === 0, `config ${index} of the list fails chap-core's ConfigOut: ${problems.join("; ")}`);
  }
  expect((answer.body as Json[]).some((item) => item.id === config.id), "the new config is not in the list");
});

async function validateBody(client: ServiceClient, body: Json, what: string): Promise<void> {
  const answer = await client.expectStatus("POST", "/api/v1/ml/$validate", 200, body);
  const result = answer.body as { valid?: unknown; diagnostics?: unknown } | undefined;
  expect(typeof result?.valid === "boolean" && Array.isArray(result.diagnostics), `$validate answered ${answer.text.slice(0, 200)}`);
  expect(result.valid === true, `$validate finds the ${what} request invalid: ${JSON.stringify(result.diagnostics)}`);
}

const validateTrain = check("validate: $validate accepts the training request", async (context) => {
  const config = stateOf<Json>(context, "config", "no config was created");
  const info = stateOf<Json>(context, "info", "no service info");
  const data = frames(context, info, Number((config.data as Json).prediction_periods));
  context.state.set("frames", data);
  await validateBody(context.client, { type: "train", config_id: config.id, data: data.train, ...(data.geo ? { geo: data.geo } : {}) }, "training");
});

const train = check("train: $train answers {job_id, artifact_id, message} and the job completes", async (context) => {
  const { client } = context;
  const config = stateOf<Json>(context, "config", "no config was created");
  const data = stateOf<ReturnType<typeof frames>>(context, "frames", "no training data");
  const periods = Number((config.data as Json).prediction_periods);
  const submitted = valid(JobSubmitted, await client.expectStatus("POST", "/api/v1/ml/$train", 202, {
    config_id: config.id,
    data: data.train,
    run_info: { prediction_length: periods },
    ...(data.geo ? { geo: data.geo } : {}),
  }), "the $train answer");
  const job = await waitForJob(context, String(submitted.job_id));
  expect(job.status === "completed", `Training failed: ${String(job.error)}. Stacktrace: ${String(job.error_traceback)}`);
  context.state.set("training", String(submitted.artifact_id));
});

async function waitForJob(context: CheckContext, id: string): Promise<Json> {
  const record = await context.client.waitForJob(id, context.jobTimeoutMs);
  const problems = violations(ChapkitJobRecord, record);
  expect(problems.length === 0, `the job record fails chap-core's ChapkitJobRecord: ${problems.join("; ")}`);
  return record;
}

const validatePredict = check("validate: $validate accepts the prediction request", async (context) => {
  const training = stateOf<string>(context, "training", "no training artifact");
  const data = stateOf<ReturnType<typeof frames>>(context, "frames", "no data");
  await validateBody(context.client, { type: "predict", artifact_id: training, historic: data.historic, future: data.future }, "prediction");
});

const predict = check("predict: $predict with historic answers {job_id, artifact_id, message} and the job completes", async (context) => {
  const { client } = context;
  const training = stateOf<string>(context, "training", "no training artifact");
  const data = stateOf<ReturnType<typeof frames>>(context, "frames", "no data");
  const submitted = valid(JobSubmitted, await client.expectStatus("POST", "/api/v1/ml/$predict", 202, {
    artifact_id: training,
    future: data.future,
    run_info: { prediction_length: new Set(data.future.data.map((row) => row[0])).size },
    historic: data.historic,
    ...(data.geo ? { geo: data.geo } : {}),
  }), "the $predict answer");
  const job = await waitForJob(context, String(submitted.job_id));
  expect(job.status === "completed", `Prediction failed: ${String(job.error)}`);
  context.state.set("prediction", String(submitted.artifact_id));
});

const artifacts = check("artifacts: the prediction is an MLPredictionArtifactData with time_period, location and sample_0 per future row", async (context) => {
  const { client } = context;
  const prediction = stateOf<string>(context, "prediction", "no prediction artifact");
  const data = stateOf<ReturnType<typeof frames>>(context, "frames", "no data");
  const artifact = valid(ArtifactOut, await client.expectStatus("GET", `/api/v1/artifacts/${prediction}`, 200), "the prediction artifact");
  const problems = violations(MLPredictionArtifactData, artifact.data);
  expect(problems.length === 0, `the prediction's data fails chap-core's MLPredictionArtifactData: ${problems.join("; ")}`);
  const content = (artifact.data as { content: Frame }).content;
  for (const column of ["time_period", "location", "sample_0"]) {
    expect(content.columns.includes(column), `the prediction has no ${column} column (columns: ${content.columns.join(", ")})`);
  }
  expect(content.data.length === data.future.data.length, `the prediction has ${content.data.length} rows for ${data.future.data.length} future rows`);
  const training = stateOf<string>(context, "training", "no training artifact");
  const trained = valid(ArtifactOut, await client.expectStatus("GET", `/api/v1/artifacts/${training}`, 200), "the training artifact");
  expect((trained.data as Json | null)?.type === "ml_training_workspace", "the training artifact's type is not ml_training_workspace");
  expect(artifact.parent_id === training, "the prediction is not a child of its training artifact");
});

/** The checks of the chap profile, in chap-core's order. */
export const CHAP_CHECKS: readonly ConformanceCheck[] = [
  health,
  info,
  schema,
  probe,
  configCreate,
  configList,
  validateTrain,
  train,
  validatePredict,
  predict,
  artifacts,
];

/** The chap profile: what chap-core calls and validates (chapkit 1.x). */
export const chapProfile: ConformanceProfile = {
  name: "chap",
  description: "what chap-core needs: /health, strict MLServiceInfo, /api/v1/configs, $validate, train → poll → predict, prediction artifacts",
  checks: CHAP_CHECKS,
  async detect(client: ServiceClient): Promise<boolean> {
    const answer = await client.request("GET", "/api/v1/info");
    const body = answer.body as Json | undefined;
    return answer.status === 200 && typeof body?.model_metadata === "object" && typeof body?.id === "string";
  },
};
