/**
 * A complete ML workflow over HTTP, from data upload to a promoted model in
 * production: upload the training data (a CSV file) as an artifact, create a
 * config, train two versions of one model through the job queue, compare them
 * in the registry, promote the better one to the `production` alias, and
 * predict through `disease@production`. `runWorkflow` is the client; run
 * this file to start the service and walk the workflow against it.
 *
 *   bun examples/ml_workflow.ts        (PORT, DATABASE_URL)
 */
import { Type } from "@sinclair/typebox";
import { MLServiceBuilder } from "chapkit";
import { DataFrame, fitLinearRegression, functionalRunner, type LinearModel, predictLinear } from "chapkit/ml";

const FEATURES = ["rainfall", "mean_temperature"];

/** Least squares over the features the config names; reports its training error as `rmse`. */
export const runner = functionalRunner<{ features?: string[] }, LinearModel>({
  onTrain: ({ config, data, metrics }) => {
    const features = config.features ?? FEATURES;
    const model = fitLinearRegression(data, { features, target: "disease_cases" });
    const fitted = predictLinear(model, data);
    const actual = data.column("disease_cases").map(Number);
    if (metrics) metrics.rmse = Math.sqrt(fitted.reduce((sum, value, i) => sum + (value - actual[i]!) ** 2, 0) / fitted.length);
    return model;
  },
  onPredict: ({ model, future }) => future.withColumn("sample_0", predictLinear(model, future)),
});

/** The service the workflow runs against. */
export function createMlService(databaseUrl = "sqlite::memory:"): MLServiceBuilder {
  return new MLServiceBuilder({
    info: { display_name: "Disease model", version: "1.0.0", author: "ML Team", author_assessed_status: "yellow" },
    configSchema: Type.Object({ features: Type.Optional(Type.Array(Type.String())) }, { title: "DiseaseConfig", additionalProperties: true }),
    runner,
    databaseUrl,
  });
}

/** Training data as a CSV file would hold it. */
export const TRAINING_CSV = `rainfall,mean_temperature,disease_cases
100.5,25.3,12
85.2,27.1,8
120.0,24.8,15
95.3,26.5,10
110.8,25.9,13
70.1,28.4,6
130.2,24.1,17
`;

type Fetch = (path: string, init?: RequestInit) => Promise<Response>;

async function send<T>(fetchFrom: Fetch, method: string, path: string, body?: unknown, type = "application/json"): Promise<T> {
  const response = await fetchFrom(path, {
    method,
    headers: { "content-type": type },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${await response.text()}`);
  return await response.json() as T;
}

async function finished(fetchFrom: Fetch, jobId: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const job = await send<{ status: string; error: string | null }>(fetchFrom, "GET", `/api/v1/jobs/${jobId}`);
    if (job.status === "completed") return;
    if (job.status === "failed" || job.status === "canceled") throw new Error(`job ${jobId} ${job.status}: ${job.error}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`job ${jobId} did not finish`);
}

/** What the workflow did, step by step. */
export interface WorkflowResult {
  dataArtifactId: string;
  versions: { version: string; rmse: number }[];
  promoted: string;
  predictions: number[];
}

/** Walks the workflow against a service reached through `fetchFrom` (paths relative to the service). */
export async function runWorkflow(fetchFrom: Fetch, log: (line: string) => void = () => {}): Promise<WorkflowResult> {
  // 1. Upload the data file as an artifact (raw bytes), then read it as a data frame for training.
  const upload = await send<{ id: string }>(fetchFrom, "POST", "/api/v1/artifacts/$upload", TRAINING_CSV, "text/csv");
  log(`uploaded the training data as artifact ${upload.id}`);
  const csv = await (await fetchFrom(`/api/v1/artifacts/${upload.id}/$download`)).text();
  const data = DataFrame.fromCSV(csv).toJSON();

  // 2. Two configs: rainfall only, and rainfall with temperature; train a version of "disease" on each.
  const versions: { version: string; rmse: number }[] = [];
  for (const features of [["rainfall"], FEATURES]) {
    const config = await send<{ id: string }>(fetchFrom, "POST", "/api/v1/config", { name: `disease-${features.join("-")}`, data: { features } });
    const job = await send<{ job_id: string }>(fetchFrom, "POST", "/api/v1/ml/$train", { config_id: config.id, data, model: { name: "disease" } });
    await finished(fetchFrom, job.job_id);
  }
  for (const version of await send<{ version: string; metrics: { rmse: number } }[]>(fetchFrom, "GET", "/api/v1/models/disease/versions")) {
    versions.push({ version: version.version, rmse: version.metrics.rmse });
  }
  log(`trained ${versions.map((v) => `${v.version} (rmse ${v.rmse.toFixed(3)})`).join(", ")}`);

  // 3. Compare and promote the better version to production (atomic, audited).
  const best = versions.reduce((a, b) => (b.rmse < a.rmse ? b : a));
  await send(fetchFrom, "PUT", "/api/v1/models/disease/aliases/production", { version: best.version, reason: "lowest training rmse" });
  log(`promoted ${best.version} to production`);

  // 4. Predict through the alias.
  const job = await send<{ job_id: string; prediction_artifact_id: string }>(fetchFrom, "POST", "/api/v1/ml/$predict", {
    model: "disease@production",
    future: { columns: FEATURES, data: [[110, 26], [90, 28]] },
  });
  await finished(fetchFrom, job.job_id);
  const prediction = await send<{ data: { predictions: { columns: string[]; data: number[][] }; model_version: string } }>(
    fetchFrom, "GET", `/api/v1/artifacts/${job.prediction_artifact_id}`,
  );
  const column = prediction.data.predictions.columns.indexOf("sample_0");
  const predictions = prediction.data.predictions.data.map((row) => row[column]!);
  log(`predicted ${predictions.map((p) => p.toFixed(2)).join(", ")} with ${prediction.data.model_version}`);
  return { dataArtifactId: upload.id, versions, promoted: best.version, predictions };
}

if (import.meta.main) {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  const service = await createMlService(env.DATABASE_URL ?? "sqlite:./ml_workflow.db").listen();
  await runWorkflow((path, init) => fetch(`${service.url}${path}`, init), console.log);
}
