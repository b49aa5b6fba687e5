/** `onnx`: a model exported as ONNX bytes, predictions in a pool of WASM workers. */
import type { ProjectTemplate } from "../template.ts";
import { ENV_IMPORT } from "./_test-prelude.ts";
import { mlService, mlTest, ML_USAGE } from "./ml.ts";

/** `chapkit init --template onnx`: uploaded `.onnx` models run by onnxruntime-web in worker threads. */
export const onnxTemplate: ProjectTemplate = {
  name: "onnx",
  description: "ONNX models run by onnxruntime-web in worker threads; upload your own .onnx files",
  peerPackages: { "onnxruntime-web": "^1.30.0" },
  usage: `${ML_USAGE} Trained models are ONNX bytes; upload a model of your own with ` +
    "`POST /api/v1/artifacts/$upload?config_id=…` (the .onnx bytes as the body) and predict with it.",
  main: ({ name, title }) => `/**
 * ${title}: a linear model fitted in TypeScript, exported as ONNX and served by a WASM worker pool.
 *
 * Environment: PORT (default 8000), DATABASE_URL (default sqlite:./${name}.db), ONNX_WORKERS (pool size).
 */
${ENV_IMPORT}
import { Type } from "@sinclair/typebox";
import { MLServiceBuilder } from "chapkit";
import { fitLinearRegression } from "chapkit/ml";
import { linearRegressionOnnx, OnnxModelRunner } from "chapkit/onnx";

const FEATURES = ["rainfall", "mean_temperature"];

/** Trains into ONNX bytes; predicts in the worker pool. */
export function createRunner(): OnnxModelRunner {
  const size = process.env.ONNX_WORKERS ? Number(process.env.ONNX_WORKERS) : undefined;
  return new OnnxModelRunner({
    inputColumns: FEATURES,
    outputColumns: ["sample_0"],
    train: ({ data }) => {
      const model = fitLinearRegression(data, { features: FEATURES, target: "disease_cases" });
      return linearRegressionOnnx({ weights: model.weights, bias: model.bias });
    },
    ...(size ? { executor: { size } } : {}),
  });
}

${mlService({ name, title, summary: "Disease cases from weather data, inferred with ONNX", configTitle: "OnnxConfig", runner: "createRunner()" })}`,
  test: mlTest,
};
