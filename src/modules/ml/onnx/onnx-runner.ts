/**
 * OnnxModelRunner: serves an ONNX model (trained by a function, or uploaded
 * as bytes) with inference in a Web Worker pool.
 *
 * @module
 */
import { DataFrame } from "../engine/dataframe.ts";
import { ValueError } from "../engine/errors.ts";
import { BatchingExecutor, type BatchingOptions } from "./onnx-batching.ts";
import { OnnxWorkerPool, type OnnxPoolOptions } from "./onnx-pool.ts";
import { chooseExecutionProvider, type ExecutionProviderChoice, type ExecutionProviderName, sessionProviders } from "./onnx-providers.ts";
import { type OnnxExecutor, OnnxMainThread, type OnnxTensor } from "./onnx-session.ts";
import {
  binaryModel,
  type ConfigData,
  isBinaryModel,
  modelBytes,
  type ModelRunner,
  type PredictContext,
  type TrainContext,
  type TrainedModel,
} from "../engine/runner.ts";
import { sha256HexOfBytes } from "../../../runtime/digest.ts";

/** The content type chapkit stores ONNX models under. */
export const ONNX_CONTENT_TYPE = "application/onnx";

/** Options of {@link OnnxModelRunner}. */
export interface OnnxRunnerOptions<C = ConfigData> {
  /** Columns of the `future` frame fed to the model, in order, as a float32 `[rows, columns]` tensor. */
  inputColumns: readonly string[];
  /** The model's input name (default: its first input). */
  inputName?: string;
  /** The model's output to read (default: its first output). */
  outputName?: string;
  /**
   * Names of the added columns, one per output column (`[rows, k]` output);
   * default `sample_0`, `sample_1`, ….
   */
  outputColumns?: readonly string[];
  /** Keep the `future` columns in the result (default true); else only the output columns. */
  keepInputColumns?: boolean;
  /** Trains and returns ONNX bytes. Without it, models must be uploaded. */
  train?: (ctx: TrainContext<C>) => Promise<Uint8Array> | Uint8Array;
  /**
   * Where inference runs: a shared {@link OnnxWorkerPool} or {@link OnnxMainThread},
   * `"main-thread"`, or pool options for a pool of this runner's own (the default).
   */
  executor?: OnnxExecutor | "main-thread" | OnnxPoolOptions;
  /**
   * Micro-batching of concurrent predictions (see {@link BatchingExecutor}):
   * on by default; `false` runs every request on its own.
   */
  batching?: BatchingOptions | false;
  /**
   * `webgpu` uses onnxruntime-web's WebGPU execution provider where the
   * runtime has a GPU adapter, else WASM (the default); what runs is
   * reported by {@link OnnxModelRunner.executionProvider}. Applies to the
   * runner's own executor.
   */
  executionProvider?: ExecutionProviderName;
}

/**
 * A {@link ModelRunner} for ONNX models. `train` calls the user's train
 * function and stores its bytes as an `application/onnx` payload; `predict`
 * builds a float32 tensor from `inputColumns` of `future`, runs it (in a
 * worker pool by default; sessions cached per worker by the model key, the
 * artifact id) and adds the output columns (`sample_0`, …).
 *
 * @example
 * ```ts
 * import { OnnxModelRunner } from "./onnx-runner.ts";
 * import { linearRegressionOnnx } from "./onnx-models.ts";
 * const runner = new OnnxModelRunner({
 *   inputColumns: ["rainfall", "mean_temperature"],
 *   train: () => linearRegressionOnnx({ weights: [0.1, 0.5], bias: 2 }),
 * });
 * ```
 */
export class OnnxModelRunner<C = ConfigData> implements ModelRunner<C> {
  readonly #options: OnnxRunnerOptions<C>;
  #executor: OnnxExecutor | undefined;
  #batcher: BatchingExecutor | undefined;
  #provider: Promise<ExecutionProviderChoice> | undefined;

  /** Creates the runner; a pool of its own starts on first predict. */
  constructor(options: OnnxRunnerOptions<C>) {
    if (options.inputColumns.length === 0) throw new TypeError("OnnxModelRunner needs at least one input column");
    this.#options = options;
    const executor = options.executor;
    if (executor !== undefined && typeof executor === "object" && "run" in executor) this.#executor = executor;
  }

  /** The columns fed to the model, in order. */
  get inputColumns(): readonly string[] {
    return this.#options.inputColumns;
  }

  /** The output column names, when given. */
  get outputColumns(): readonly string[] | undefined {
    return this.#options.outputColumns;
  }

  /**
   * The execution provider asked for, the one used, and why they differ
   * (WebGPU falls back to WASM where the runtime has no GPU adapter).
   */
  executionProvider(): Promise<ExecutionProviderChoice> {
    this.#provider ??= chooseExecutionProvider(this.#options.executionProvider ?? "wasm");
    return this.#provider;
  }

  /** What KServe V2 metadata reports of this runner: its execution provider and batching. */
  async runtimeInfo(): Promise<Record<string, unknown>> {
    const batching = this.#options.batching;
    return {
      execution_provider: await this.executionProvider(),
      batching: batching === false ? false : { max_batch_size: batching?.maxBatchSize ?? 256, max_wait_ms: batching?.maxWaitMs ?? 5 },
    };
  }

  /** The executor in use (created on first use unless one was given). */
  get executor(): OnnxExecutor {
    if (!this.#executor) {
      const choice = this.#options.executor;
      this.#executor = choice === "main-thread"
        ? new OnnxMainThread()
        : new OnnxWorkerPool((choice as OnnxPoolOptions | undefined) ?? {});
    }
    return this.#executor;
  }

  async #run(): Promise<OnnxExecutor> {
    if (!this.#executor && this.#options.executionProvider === "webgpu") {
      const providers = sessionProviders((await this.executionProvider()).used);
      const choice = this.#options.executor;
      if (!this.#executor) {
        this.#executor = choice === "main-thread"
          ? new OnnxMainThread({ executionProviders: providers })
          : new OnnxWorkerPool({ ...((choice as OnnxPoolOptions | undefined) ?? {}), executionProviders: providers });
      }
    }
    const executor = this.executor;
    if (this.#options.batching === false) return executor;
    if (!this.#batcher || this.#batcher.inner !== executor) this.#batcher = new BatchingExecutor(executor, this.#options.batching || {});
    return this.#batcher;
  }

  /**
   * Calls the train function and returns its ONNX bytes as a binary model.
   *
   * @throws {ValueError} when the runner has no train function.
   */
  async train(ctx: TrainContext<C>): Promise<TrainedModel> {
    if (!this.#options.train) {
      throw new ValueError("This ONNX runner has no train function; upload a trained ONNX model instead");
    }
    const bytes = await this.#options.train(ctx);
    if (!(bytes instanceof Uint8Array)) throw new TypeError("An ONNX train function must return the model's bytes");
    return binaryModel(bytes, ONNX_CONTENT_TYPE);
  }

  /** Runs the model on `future` and returns it with the output columns added. */
  async predict(ctx: PredictContext<C>): Promise<DataFrame> {
    if (!isBinaryModel(ctx.model)) throw new ValueError("The model is not ONNX bytes");
    const bytes = modelBytes(ctx.model);
    const { inputColumns, inputName, outputName } = this.#options;
    const future = ctx.future;
    const rows = future.rowCount;
    const width = inputColumns.length;
    const data = new Float32Array(rows * width);
    inputColumns.forEach((name, c) => future.column(name).forEach((v, r) => (data[r * width + c] = v)));
    const base = this.#options.keepInputColumns === false ? new DataFrame([]) : future;
    if (rows === 0) {
      return (this.#options.outputColumns ?? ["sample_0"]).reduce((df, name) => df.withColumn(name, []), base);
    }
    const tensor: OnnxTensor = { data, dims: [rows, width] };
    const executor = await this.#run();
    const outputs = await executor.run({
      modelKey: ctx.modelKey ?? await digest(bytes),
      model: bytes,
      inputs: inputName ? { [inputName]: tensor } : [tensor],
      ...(outputName ? { outputNames: [outputName] } : {}),
    }, { signal: ctx.signal });
    const output = outputName ? outputs[outputName] : Object.values(outputs)[0];
    if (!output) throw new ValueError(`The model has no output ${outputName ?? ""}`.trim());
    return this.#addOutputs(base, output, rows);
  }

  #addOutputs(base: DataFrame, output: OnnxTensor, rows: number): DataFrame {
    const perRow = output.data.length / rows;
    if (!Number.isInteger(perRow) || perRow < 1) {
      throw new ValueError(`Model output of shape [${output.dims}] does not have one row per input row (${rows})`);
    }
    const names = this.#options.outputColumns ?? Array.from({ length: perRow }, (_, i) => `sample_${i}`);
    if (names.length !== perRow) {
      throw new ValueError(`Model output has ${perRow} values per row but ${names.length} output columns are named`);
    }
    let frame = base;
    names.forEach((name, j) => {
      const column = new Float64Array(rows);
      for (let r = 0; r < rows; r++) column[r] = output.data[r * perRow + j]!;
      frame = frame.withColumn(name, column);
    });
    return frame;
  }

  /** Ends the runner's own worker pool (a shared executor given in the options is left open). */
  async close(): Promise<void> {
    const given = this.#options.executor;
    if (this.#executor && !(typeof given === "object" && "run" in given)) await this.#executor.close();
    this.#executor = undefined;
    this.#batcher = undefined;
  }
}

/** Shorthand for `new OnnxModelRunner(options)`. */
export function onnxRunner<C = ConfigData>(options: OnnxRunnerOptions<C>): OnnxModelRunner<C> {
  return new OnnxModelRunner(options);
}

async function digest(bytes: Uint8Array): Promise<string> {
  return "sha256:" + await sha256HexOfBytes(bytes);
}
