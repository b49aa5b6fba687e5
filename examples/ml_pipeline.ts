/**
 * Scheduled retraining with hyperparameter search, registry promotion and
 * batch prediction. A pipeline declared in code ("dengue-retrain") runs on a
 * cron schedule (and on demand): it loads the latest case counts, searches
 * the learning rate and the number of epochs of a gradient-descent model
 * (four trials, two at a time, each a recorded run with its loss curve),
 * evaluates the best trial and the current `production` version on a
 * holdout, registers the candidate and moves `production` to it when it is
 * better. Districts are then predicted in bulk through `dengue@production`
 * with `$batch-predict` (a CSV upload, a CSV result).
 *
 *   bun examples/ml_pipeline.ts        # or: deno run -A examples/ml_pipeline.ts
 *
 * Environment: `PORT` (default 8000), `DATABASE_URL` (default `sqlite:./ml_pipeline.db`),
 * `SCHEDULE` (cron, default `0 3 * * *`: every day at 03:00 UTC).
 */
import { Type } from "@sinclair/typebox";
import { MLServiceBuilder } from "chapkit";
import { DataFrame, definePipeline, experimentsModule, functionalRunner, type PipelineDefinition, pipelinesModule } from "chapkit/ml";

const FEATURES = ["rainfall", "mean_temperature"];

/** Config of the model: gradient-descent settings the search tunes. */
interface DengueConfig {
  rate?: number;
  epochs?: number;
}

/** Standardized features, weights and bias. */
interface DengueModel {
  mean: number[];
  std: number[];
  weights: number[];
  bias: number;
}

function features(frame: DataFrame, model: Pick<DengueModel, "mean" | "std">): number[][] {
  const columns = FEATURES.map((name) => frame.column(name));
  return Array.from({ length: frame.rowCount }, (_, row) => columns.map((column, j) => (column[row]! - model.mean[j]!) / model.std[j]!));
}

/** Linear regression by gradient descent; logs the loss of every epoch and the final training rmse. */
export const runner = functionalRunner<DengueConfig, DengueModel>({
  inputColumns: FEATURES,
  outputColumns: ["sample_0"],
  onTrain: ({ config, data, logMetric }) => {
    const mean = FEATURES.map((name) => data.column(name).reduce((a, b) => a + b, 0) / data.rowCount);
    const std = FEATURES.map((name, j) =>
      Math.sqrt(data.column(name).reduce((a, b) => a + (b - mean[j]!) ** 2, 0) / data.rowCount) || 1
    );
    const x = features(data, { mean, std });
    const y = data.column("disease_cases");
    const model: DengueModel = { mean, std, weights: FEATURES.map(() => 0), bias: 0 };
    const rate = config.rate ?? 0.05;
    let loss = 0;
    for (let epoch = 0; epoch < (config.epochs ?? 50); epoch++) {
      const gradient = model.weights.map(() => 0);
      let biasGradient = 0;
      loss = 0;
      x.forEach((row, i) => {
        const error = row.reduce((sum, value, j) => sum + value * model.weights[j]!, model.bias) - y[i]!;
        loss += error * error / x.length;
        row.forEach((value, j) => (gradient[j]! += 2 * error * value / x.length));
        biasGradient += 2 * error / x.length;
      });
      model.weights = model.weights.map((w, j) => w - rate * gradient[j]!);
      model.bias -= rate * biasGradient;
      logMetric?.("loss", loss, epoch);
    }
    logMetric?.("rmse", Math.sqrt(loss));
    return model;
  },
  onPredict: ({ model, future }) =>
    future.withColumn(
      "sample_0",
      features(future, model).map((row) => row.reduce((sum, value, j) => sum + value * model.weights[j]!, model.bias)),
    ),
});

/** The latest weekly case counts (a stand-in for a warehouse query): cases follow rain and temperature. */
export function latestCases(weeks = 120): { columns: string[]; data: number[][] } {
  const data: number[][] = [];
  for (let week = 0; week < weeks; week++) {
    const rainfall = 80 + 40 * Math.sin(week / 5) + (week % 7);
    const temperature = 26 + 2 * Math.cos(week / 9);
    data.push([rainfall, temperature, 2 + 0.1 * rainfall - 0.5 * temperature + 20 + ((week * 37) % 11) / 10]);
  }
  return { columns: [...FEATURES, "disease_cases"], data };
}

/** The retraining pipeline: search, evaluate on the last 20 % of weeks, register, promote `production`. */
export function retrainPipeline(schedule: string): PipelineDefinition {
  return definePipeline({
    name: "dengue-retrain",
    model: "dengue",
    config: "dengue-base",
    data: () => latestCases(),
    target: "disease_cases",
    metric: "rmse",
    alias: "production",
    search: {
      strategy: "grid",
      space: { rate: { values: [0.01, 0.1] }, epochs: { values: [10, 100] } },
      metric: "rmse",
      concurrency: 2,
    },
    schedule,
  });
}

/** The service: an ML service with experiments (runs, search) and the pipeline on `schedule`. */
export function createPipelineService(options: { databaseUrl?: string; schedule?: string } = {}): MLServiceBuilder {
  return new MLServiceBuilder({
    info: { display_name: "Dengue retraining", version: "1.0.0", author: "ML Team", author_assessed_status: "yellow" },
    configSchema: Type.Object({ rate: Type.Optional(Type.Number()), epochs: Type.Optional(Type.Integer()) }, { title: "DengueConfig" }),
    runner,
    databaseUrl: options.databaseUrl ?? "sqlite:./ml_pipeline.db",
    logging: false,
  })
    .module(experimentsModule())
    .module(pipelinesModule({ pipelines: [retrainPipeline(options.schedule ?? "0 3 * * *")] }));
}

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

/** A pipeline run as the API answers it. */
export interface PipelineRun {
  id: string;
  status: string;
  trigger: string;
  error: string | null;
  steps: { name: string; status: string; outcome: Record<string, unknown> | null }[];
}

/** Waits until a pipeline run has ended (every step settled) and returns it. */
export async function pipelineRunEnded(fetchFrom: Fetch, id: string, timeoutMs = 60_000): Promise<PipelineRun> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await send<PipelineRun>(fetchFrom, "GET", `/api/v1/pipelines/dengue-retrain/runs/${id}`);
    if (run.status !== "running" && run.steps.every((step) => step.status !== "pending" && step.status !== "running")) return run;
    if (Date.now() > deadline) throw new Error(`pipeline run ${id} did not end: ${JSON.stringify(run)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Creates the config the pipeline trains under, unless it exists. */
export async function ensureConfig(fetchFrom: Fetch): Promise<void> {
  const found = await send<unknown[]>(fetchFrom, "GET", "/api/v1/config?name=dengue-base");
  if (found.length === 0) await send(fetchFrom, "POST", "/api/v1/config", { name: "dengue-base", data: { rate: 0.05, epochs: 50 } });
}

/** What {@link runWalkthrough} did. */
export interface WalkthroughResult {
  run: PipelineRun;
  production: string;
  predictions: DataFrame;
}

/** Runs the pipeline now, then predicts a CSV of districts through `dengue@production` in bulk. */
export async function runWalkthrough(fetchFrom: Fetch, log: (line: string) => void = () => {}): Promise<WalkthroughResult> {
  await ensureConfig(fetchFrom);
  const started = await send<PipelineRun>(fetchFrom, "POST", "/api/v1/pipelines/dengue-retrain/$run");
  const run = await pipelineRunEnded(fetchFrom, started.id);
  if (run.status !== "completed") throw new Error(`pipeline run failed: ${run.error}`);
  for (const step of run.steps) log(`${step.name}: ${JSON.stringify(step.outcome)}`);
  const aliases = await send<Record<string, string>>(fetchFrom, "GET", "/api/v1/models/dengue/aliases");
  log(`production is dengue ${aliases.production}`);

  const districts = ["rainfall,mean_temperature", ...Array.from({ length: 500 }, (_, i) => `${60 + (i % 80)},${24 + (i % 5)}`)].join("\n");
  const batch = await send<{ job_id: string; result_artifact_id: string }>(
    fetchFrom,
    "POST",
    "/api/v1/ml/$batch-predict?model=dengue@production&format=csv",
    districts,
    "text/csv",
  );
  for (;;) {
    const job = await send<{ status: string; error: string | null }>(fetchFrom, "GET", `/api/v1/jobs/${batch.job_id}`);
    if (job.status === "completed") break;
    if (job.status === "failed" || job.status === "canceled") throw new Error(`batch prediction ${job.status}: ${job.error}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const csv = await (await fetchFrom(`/api/v1/artifacts/${batch.result_artifact_id}/$download`)).text();
  const predictions = DataFrame.fromCSV(csv);
  log(`predicted ${predictions.rowCount} districts in bulk (artifact ${batch.result_artifact_id})`);
  return { run, production: aliases.production!, predictions };
}

if (import.meta.main) {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  const service = await createPipelineService({
    ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
    ...(env.SCHEDULE ? { schedule: env.SCHEDULE } : {}),
  }).listen(Number(env.PORT ?? 8000));
  // The config the pipeline trains under, before the first scheduled tick needs it.
  await ensureConfig((path, init) => fetch(`${service.url}${path}`, init));
  await runWalkthrough((path, init) => fetch(`${service.url}${path}`, init), console.log);
  console.log(`Retraining service on ${service.url}: pipeline runs at ${service.url}/api/v1/pipelines/dengue-retrain/runs`);
}
