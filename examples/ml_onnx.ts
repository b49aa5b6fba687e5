/**
 * ML ONNX: the ml_basic model (disease cases from rainfall and mean
 * temperature), fitted in TypeScript and exported as ONNX bytes; predictions
 * run in a pool of Web Workers with onnxruntime-web (WASM). Models can also
 * be uploaded: `POST /api/v1/artifacts/$upload?config_id=…` with the ONNX
 * bytes as the body.
 *
 *   bun examples/ml_onnx.ts         # or: deno run -A examples/ml_onnx.ts
 *
 * Environment: `PORT` (default 8000), `DATABASE_URL` (default in-memory SQLite),
 * `ONNX_WORKERS` (pool size, default: the number of cores).
 */
import { Type } from "@sinclair/typebox";
import { MLServiceBuilder } from "chapkit";
import { fitLinearRegression } from "chapkit/ml";
import { linearRegressionOnnx, OnnxModelRunner } from "chapkit/onnx";

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
const FEATURES = ["rainfall", "mean_temperature"];

/** The runner: trains a linear model into ONNX bytes, predicts in the worker pool. */
export function createRunner(poolSize?: number): OnnxModelRunner {
  return new OnnxModelRunner({
    inputColumns: FEATURES,
    outputColumns: ["sample_0"],
    train: ({ data }) => {
      const model = fitLinearRegression(data, { features: FEATURES, target: "disease_cases" });
      return linearRegressionOnnx({ weights: model.weights, bias: model.bias });
    },
    ...(poolSize ? { executor: { size: poolSize } } : {}),
  });
}

if (import.meta.main) {
  const service = await new MLServiceBuilder({
    info: {
      display_name: "Disease Prediction ONNX Service",
      version: "1.0.0",
      summary: "Linear regression exported as ONNX, served by a WASM worker pool",
      author: "ML Team",
      author_assessed_status: "yellow",
    },
    configSchema: Type.Object({}, { title: "OnnxConfig", additionalProperties: true }),
    runner: createRunner(env.ONNX_WORKERS ? Number(env.ONNX_WORKERS) : undefined),
    ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
  }).withMonitoring().listen(Number(env.PORT ?? 8000));
  console.log(`ML ONNX service on ${service.url} (docs at ${service.url}/docs)`);
}
