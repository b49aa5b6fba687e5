/**
 * ONNX models (`chapkit/onnx`, `@chapkit/core/onnx`): a model runner that
 * runs `.onnx` models with onnxruntime-web (WASM) in worker threads, the
 * worker pool behind it, and writers of small ONNX models (linear
 * regression, MLP). Needs the optional peer `onnxruntime-web`
 * (`bun add onnxruntime-web`), loaded when the first model runs.
 * Runnable: `examples/ml_onnx.ts`.
 *
 * @example
 * ```ts ignore
 * import { MLServiceBuilder } from "chapkit";
 * import { fitLinearRegression } from "chapkit/ml";
 * import { linearRegressionOnnx, OnnxModelRunner } from "chapkit/onnx";
 *
 * const runner = new OnnxModelRunner({
 *   inputColumns: ["rainfall"],
 *   outputColumns: ["sample_0"],
 *   train: ({ data }) => {
 *     const model = fitLinearRegression(data, { features: ["rainfall"], target: "disease_cases" });
 *     return linearRegressionOnnx({ weights: model.weights, bias: model.bias });
 *   },
 * });
 * await new MLServiceBuilder({ info: { display_name: "ONNX" }, configSchema, runner }).listen(8000);
 * ```
 *
 * @module
 */

export { OnnxModelRunner, onnxRunner, ONNX_CONTENT_TYPE } from "../ml/onnx-runner.ts";
export { BatchingExecutor } from "../ml/onnx-batching.ts";
export type { BatchingOptions } from "../ml/onnx-batching.ts";
export { chooseExecutionProvider } from "../ml/onnx-providers.ts";
export type { ExecutionProviderChoice, ExecutionProviderName } from "../ml/onnx-providers.ts";
export type { OnnxRunnerOptions } from "../ml/onnx-runner.ts";
export { OnnxWorkerPool } from "../ml/onnx-pool.ts";
export type { OnnxPoolOptions } from "../ml/onnx-pool.ts";
export { OnnxMainThread } from "../ml/onnx-session.ts";
export type {
  OnnxExecutor,
  OnnxOutputs,
  OnnxRunOptions,
  OnnxRunRequest,
  OnnxTensor,
} from "../ml/onnx-session.ts";
export { linearRegressionOnnx, mlpOnnx } from "../ml/onnx-models.ts";
export type { DenseLayer, LinearRegressionOnnxOptions } from "../ml/onnx-models.ts";
