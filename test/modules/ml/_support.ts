/** Helpers for the ML end-to-end tests: services on real stores, HTTP calls, job polling, exact linear data. */
import assert from "node:assert/strict";
import { Type } from "@sinclair/typebox";
import type { TSchema } from "@sinclair/typebox";
import type { JobRecord } from "../../../src/modules/jobs/types.ts";
import type { Driver } from "../../../src/db/driver.ts";
import type { ModelRunner } from "../../../src/modules/ml/engine/runner.ts";
import type { FeatureCatalog } from "../../../src/modules/ml/engine/features.ts";
import type { ServiceApp } from "../../../src/service/lifecycle.ts";
import { MLServiceBuilder } from "../../../src/service/ml-service-builder.ts";
import type { TestStore } from "../../_support/stores.ts";

/** The origin test requests use. */
import { call, json } from "../../_support/http.ts";
export { BASE, call, json } from "../../_support/http.ts";

/** A JSON object answer. */
export type Json = Record<string, unknown>;

/** An ML service on a fresh store of a test store. */
export interface MlService {
  app: ServiceApp;
  close(): Promise<void>;
}

/** Options of {@link openMlService}. */
export interface MlServiceOptions {
  /** Config data schema (default: any object). */
  configSchema?: TSchema;
  /** Feature functions and sets `$train` may name. */
  features?: FeatureCatalog;
}

/** Builds an `MLServiceBuilder` service over `runner` on a fresh store of `store`. */
export async function openMlService(
  store: TestStore,
  runner: ModelRunner,
  options: MlServiceOptions = {},
): Promise<MlService> {
  const db: Driver = await store.open();
  const app = await new MLServiceBuilder({
    info: { display_name: "ML test service" },
    configSchema: options.configSchema ?? Type.Object({}, { title: "AnyConfig", additionalProperties: true }),
    runner,
    logging: false,
    ...(options.features ? { features: options.features } : {}),
  }).withDatabase(db).build();
  return {
    app,
    close: async () => {
      await app.chapkit.close();
      await db.close();
    },
  };
}


/** Asserts an RFC 9457 problem with `status` (and `type` when given) and returns it. */
export async function problem(response: Response, status: number, type?: string): Promise<Json> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  assert.match(response.headers.get("content-type") ?? "", /^application\/problem\+json/);
  const body = JSON.parse(text) as Json;
  assert.equal(body.status, status);
  if (type !== undefined) assert.equal(body.type, type);
  return body;
}

/** Creates a config and returns its id. */
export async function createConfig(app: ServiceApp, name: string, data: Json = {}): Promise<string> {
  const created = await json(await call(app, "POST", "/api/v1/config", { name, data }), 201);
  return String(created.id);
}

/** Polls `GET /api/v1/jobs/{id}` until the job has finished (generous timeout) and returns its record. */
export async function finished(app: ServiceApp, jobId: string, timeoutMs = 30_000): Promise<JobRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const record = await json<JobRecord>(await call(app, "GET", `/api/v1/jobs/${jobId}`), 200);
    if (record.status === "completed" || record.status === "failed" || record.status === "canceled") return record;
    if (Date.now() > deadline) assert.fail(`job ${jobId} still ${record.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Polls until the job is `running`. */
export async function running(app: ServiceApp, jobId: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const record = await json<JobRecord>(await call(app, "GET", `/api/v1/jobs/${jobId}`), 200);
    if (record.status === "running") return;
    if (Date.now() > deadline) assert.fail(`job ${jobId} still ${record.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Submits `$train` and returns the 202 answer. */
export async function train(app: ServiceApp, configId: string, data: unknown): Promise<Json> {
  return json(await call(app, "POST", "/api/v1/ml/$train", { config_id: configId, data }), 202);
}

/** Submits `$predict` and returns the 202 answer. */
export async function predict(app: ServiceApp, modelArtifactId: string, future: unknown): Promise<Json> {
  return json(await call(app, "POST", "/api/v1/ml/$predict", { model_artifact_id: modelArtifactId, future }), 202);
}

/** Trains and asserts the job completed; returns the model artifact id. */
export async function trainedModel(app: ServiceApp, configId: string, data: unknown): Promise<string> {
  const answer = await train(app, configId, data);
  const record = await finished(app, String(answer.job_id));
  assert.equal(record.status, "completed", record.error ?? "");
  return String(answer.model_artifact_id);
}

/** Predicts and asserts the job completed; returns the prediction artifact. */
export async function prediction(app: ServiceApp, modelArtifactId: string, future: unknown): Promise<Json> {
  const answer = await predict(app, modelArtifactId, future);
  const record = await finished(app, String(answer.job_id));
  assert.equal(record.status, "completed", record.error ?? "");
  return json(await call(app, "GET", `/api/v1/artifacts/${answer.prediction_artifact_id}`), 200);
}

/** The exact linear target: `2 + 0.1·rainfall − 0.5·mean_temperature (+ 0.25·humidity)`. */
export function formula(rainfall: number, meanTemperature: number, humidity = 0): number {
  return 2 + 0.1 * rainfall - 0.5 * meanTemperature + 0.25 * humidity;
}

/** Training rows on the exact formula, over rainfall and mean temperature. */
export const BASIC_TRAINING = {
  columns: ["rainfall", "mean_temperature", "disease_cases"],
  data: [[100.5, 25.3], [85.2, 27.1], [120.0, 24.8], [95.3, 26.5], [110.8, 25.9], [75.4, 28.2], [130.2, 24.1], [88.6, 27.3]]
    .map(([r, t]) => [r!, t!, formula(r!, t!)]),
};

/** The future frame of the ml_basic collection. */
export const BASIC_FUTURE = {
  columns: ["rainfall", "mean_temperature"],
  data: [[110.0, 26.0], [90.0, 28.0], [125.0, 24.0], [80.0, 29.0]],
};

/** Training rows on the exact formula, over rainfall, mean temperature and humidity. */
export const WEATHER_TRAINING = {
  columns: ["rainfall", "mean_temperature", "humidity", "disease_cases"],
  data: [
    [100.5, 25.3, 75.05],
    [85.2, 27.1, 62.3],
    [120.0, 24.8, 81.7],
    [95.3, 26.5, 70.2],
    [110.8, 25.9, 66.6],
    [75.4, 28.2, 59.9],
    [130.2, 24.1, 85.4],
    [88.6, 27.3, 72.8],
  ].map(([r, t, h]) => [r!, t!, h!, formula(r!, t!, h!)]),
};

/** A future frame over the three weather features. */
export const WEATHER_FUTURE = {
  columns: ["rainfall", "mean_temperature", "humidity"],
  data: [[110.0, 26.0, 70.0], [90.0, 28.0, 65.5], [125.0, 24.0, 80.0], [80.0, 29.0, 60.0]],
};

/** Asserts `actual` equals `expected` within `relative` · max(1, |expected|). */
export function assertClose(actual: unknown, expected: number, relative = 1e-6): void {
  assert.equal(typeof actual, "number", `${actual} is not a number`);
  const tolerance = relative * Math.max(1, Math.abs(expected));
  assert.ok(Math.abs((actual as number) - expected) <= tolerance, `${actual} vs ${expected} (±${tolerance})`);
}

/** Asserts every `sample_0` of a prediction artifact's frame equals `expected(row)`. */
export function assertPredictions(
  artifact: Json,
  expected: (row: number[]) => number,
  relative = 1e-6,
): void {
  const predictions = (artifact.data as Json).predictions as { columns: string[]; data: number[][] };
  const at = predictions.columns.indexOf("sample_0");
  assert.ok(at >= 0, `no sample_0 in ${predictions.columns}`);
  assert.ok(predictions.data.length > 0);
  for (const row of predictions.data) assertClose(row[at], expected(row), relative);
}

/** A promise with its resolver, to hold a runner open until the test releases it. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}
