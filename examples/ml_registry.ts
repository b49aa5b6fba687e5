/**
 * ML registry: one ONNX-backed model ("disease") trained twice at start-up,
 * the two versions aliased `champion` and `challenger`, requests for
 * "disease" routed 80/20 between them (sticky by the `x-user` header), the
 * challenger also shadowing the champion, and the model served over KServe
 * V2 (`POST /v2/models/disease/infer`) beside `$predict`.
 *
 *   bun examples/ml_registry.ts         # or: deno run -A examples/ml_registry.ts
 *
 * Environment: `PORT` (default 8000), `DATABASE_URL` (default in-memory SQLite).
 */
import { Type } from "@sinclair/typebox";
import { MLServiceBuilder, type RunningService } from "chapkit";
import { fitLinearRegression } from "chapkit/ml";
import { linearRegressionOnnx, OnnxModelRunner } from "chapkit/onnx";

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
const FEATURES = ["rainfall", "mean_temperature"];
const TRAINING = {
  columns: ["rainfall", "mean_temperature", "disease_cases"],
  data: [[100.5, 25.3, 12], [85.2, 27.1, 8], [120.0, 24.8, 15], [95.3, 26.5, 10], [110.8, 25.9, 13], [75.4, 28.2, 6]],
};

/** The runner: a least-squares fit (with a ridge penalty from the config) exported as ONNX. */
export function createRunner(): OnnxModelRunner<{ shift?: number }> {
  return new OnnxModelRunner<{ shift?: number }>({
    inputColumns: FEATURES,
    outputColumns: ["sample_0"],
    train: ({ data, config, metrics }) => {
      const model = fitLinearRegression(data, { features: FEATURES, target: "disease_cases" });
      if (metrics) metrics.shift = config.shift ?? 0;
      return linearRegressionOnnx({ weights: model.weights, bias: model.bias + (config.shift ?? 0) });
    },
  });
}

async function call(service: RunningService, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${service.url}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) as Record<string, unknown> : {};
}

async function trainVersion(service: RunningService, name: string, shift: number): Promise<string> {
  const config = await call(service, "POST", "/api/v1/config", { name, data: { shift } });
  const job = await call(service, "POST", "/api/v1/ml/$train", { config_id: config.id, data: TRAINING, model: "disease" });
  for (;;) {
    const record = await call(service, "GET", `/api/v1/jobs/${job.job_id}`);
    if (record.status === "completed") break;
    if (record.status === "failed" || record.status === "canceled") throw new Error(`training failed: ${record.error}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const versions = await call(service, "GET", "/api/v1/models/disease");
  return String(versions.latest_version);
}

/** Starts the service, trains both versions, sets the aliases and the 80/20 policy. */
export async function startRegistryService(options: { port?: number; databaseUrl?: string } = {}): Promise<RunningService> {
  const service = await new MLServiceBuilder({
    info: {
      display_name: "Disease model registry",
      version: "1.0.0",
      summary: "Two versions of one ONNX model, champion and challenger, routed 80/20",
      author: "ML Team",
      author_assessed_status: "yellow",
    },
    configSchema: Type.Object({ shift: Type.Optional(Type.Number()) }, { title: "DiseaseConfig" }),
    runner: createRunner(),
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
    logging: false,
  }).withLandingPage()
    // The port and store come from the options (the caller reads PORT and DATABASE_URL).
    .withSettings({ env: {} })
    .listen(options.port ?? 8000, { handleSignals: import.meta.main === true });
  const existing = await fetch(`${service.url}/api/v1/models/disease`);
  if (existing.status === 404) {
    const champion = await trainVersion(service, "disease-baseline", 0);
    const challenger = await trainVersion(service, "disease-shifted", 0.5);
    await call(service, "PUT", "/api/v1/models/disease/aliases/champion", { version: champion });
    await call(service, "PUT", "/api/v1/models/disease/aliases/challenger", { version: challenger });
  }
  await call(service, "PUT", "/api/v1/models/disease/route", {
    split: [{ target: "champion", weight: 80 }, { target: "challenger", weight: 20 }],
    sticky_by: "header:x-user",
    shadow: { target: "challenger", sample_rate: 0.2 },
  });
  return service;
}

if (import.meta.main) {
  const service = await startRegistryService({
    port: Number(env.PORT ?? 8000),
    ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
  });
  console.log(`ML registry service on ${service.url} (KServe V2 at ${service.url}/v2/models/disease)`);
}
