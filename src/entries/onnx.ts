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

export { OnnxModelRunner, onnxRunner, ONNX_CONTENT_TYPE } from "../modules/ml/onnx/onnx-runner.ts";
export { BatchingExecutor } from "../modules/ml/onnx/onnx-batching.ts";
export type { BatchingOptions } from "../modules/ml/onnx/onnx-batching.ts";
export { chooseExecutionProvider } from "../modules/ml/onnx/onnx-providers.ts";
export type { ExecutionProviderChoice, ExecutionProviderName } from "../modules/ml/onnx/onnx-providers.ts";
export type { OnnxRunnerOptions } from "../modules/ml/onnx/onnx-runner.ts";
export { OnnxWorkerPool } from "../modules/ml/onnx/onnx-pool.ts";
export type { OnnxPoolOptions } from "../modules/ml/onnx/onnx-pool.ts";
export { OnnxMainThread } from "../modules/ml/onnx/onnx-session.ts";
export type {
  OnnxExecutor,
  OnnxOutputs,
  OnnxRunOptions,
  OnnxRunRequest,
  OnnxTensor,
} from "../modules/ml/onnx/onnx-session.ts";
export { linearRegressionOnnx, mlpOnnx } from "../modules/ml/onnx/onnx-models.ts";
export type { DenseLayer, LinearRegressionOnnxOptions } from "../modules/ml/onnx/onnx-models.ts";
