/**
 * ONNX inference with onnxruntime-web (WASM, one thread), shared by the
 * worker pool's workers and the main-thread executor: tensors, the
 * run request, and a bounded cache of sessions keyed by model key.
 *
 * @module
 */
import { LRUCache } from "lru-cache";
import type * as ort from "onnxruntime-web";
import { importPeer } from "../../../core/optional-peer.ts";

/** A float32 tensor: row-major data and its shape. */
export interface OnnxTensor {
  /** Row-major values. */
  data: Float32Array;
  /** The shape, e.g. `[rows, columns]`. */
  dims: number[];
}

/** One inference: which model, its bytes, the inputs and which outputs to return. */
export interface OnnxRunRequest {
  /** A stable key of the model (its artifact id); sessions are cached under it. */
  modelKey: string;
  /** The ONNX bytes; only sent to a worker that has no session for `modelKey`. */
  model: Uint8Array;
  /**
   * Inputs by name, or by position in the model's input order. A pool copies
   * them into its worker's shared memory, or transfers their buffers to the
   * worker (the arrays are detached afterwards; an array that is a view into
   * part of a larger buffer is copied instead): do not reuse them.
   */
  inputs: Record<string, OnnxTensor> | OnnxTensor[];
  /** Outputs to compute (default: all of the model's outputs). */
  outputNames?: string[];
}

/** The outputs of an inference, by name in the model's output order. */
export type OnnxOutputs = Record<string, OnnxTensor>;

/** Per-call options of {@link OnnxExecutor.run}. */
export interface OnnxRunOptions {
  /** Aborts the inference (a pool terminates the busy worker). */
  signal?: AbortSignal;
  /** Overrides the executor's job timeout. */
  timeoutMs?: number;
}

/** Where inference runs: a {@link OnnxWorkerPool} or the main thread ({@link OnnxMainThread}). */
export interface OnnxExecutor {
  /** Runs one inference. */
  run(request: OnnxRunRequest, options?: OnnxRunOptions): Promise<OnnxOutputs>;
  /** Releases workers and sessions. */
  close(): Promise<void>;
}

/** The local `onnxruntime-web/dist/` directory as a URL, when it can be resolved to a file. */
export function localWasmPaths(): string | undefined {
  try {
    const entry = import.meta.resolve("onnxruntime-web");
    return entry.startsWith("file:") ? new URL("./", entry).href : undefined;
  } catch {
    return undefined;
  }
}

type Ort = typeof ort;
let runtime: Promise<Ort> | undefined;
/** The loaded runtime, once {@link loadOrt} finished: later runs skip awaiting it. */
let loadedRuntime: Ort | undefined;

/**
 * Imports onnxruntime-web (an optional peer) on this thread's first inference and sets it up:
 * one WASM thread, no proxy worker, local WASM files.
 *
 * @throws {MissingPeerError} when onnxruntime-web is not installed.
 */
export function loadOrt(wasmPaths?: string): Promise<Ort> {
  runtime ??= importPeer("onnxruntime-web", "ONNX models", () => import("onnxruntime-web")).then((loaded) => {
    loaded.env.wasm.numThreads = 1;
    loaded.env.wasm.proxy = false;
    loaded.env.logLevel = "error";
    const paths = wasmPaths ?? localWasmPaths();
    if (paths !== undefined) loaded.env.wasm.wasmPaths = paths;
    loadedRuntime = loaded;
    return loaded;
  });
  runtime.catch(() => (runtime = undefined));
  return runtime;
}

/** Thrown when a session is not cached and no model bytes came with the request. */
export class MissingModelError extends Error {
  /** Creates the error for the model whose session is missing. */
  constructor(modelKey: string) {
    super(`No session for model ${modelKey}`);
    this.name = "MissingModelError";
  }
}

/** A bounded LRU of inference sessions; evicted sessions are released. */
export class OnnxSessionCache {
  readonly #sessions: LRUCache<string, ort.InferenceSession>;
  readonly #wasmPaths: string | undefined;

  readonly #providers: string[];

  /**
   * Creates a cache holding at most `max` sessions; `wasmPaths` is where
   * onnxruntime-web's WASM files are (default: local), `executionProviders`
   * what sessions run on (default WASM).
   */
  constructor(max: number, options: { wasmPaths?: string | undefined; executionProviders?: string[] | undefined } = {}) {
    this.#wasmPaths = options.wasmPaths;
    this.#sessions = new LRUCache({ max, dispose: (session) => void session.release().catch(() => {}) });
    this.#providers = options.executionProviders ?? ["wasm"];
  }

  /** Whether a session for `modelKey` is cached (without touching its recency). */
  has(modelKey: string): boolean {
    return this.#sessions.has(modelKey);
  }

  /**
   * Runs an inference, creating and caching the session from `model` when needed.
   *
   * @throws {MissingModelError} when the session is not cached and `model` is absent.
   */
  async run(
    modelKey: string,
    model: Uint8Array | undefined,
    inputs: OnnxRunRequest["inputs"],
    outputNames?: string[],
  ): Promise<OnnxOutputs> {
    const ort = loadedRuntime ?? await loadOrt(this.#wasmPaths);
    let session = this.#sessions.get(modelKey);
    if (!session) {
      if (!model) throw new MissingModelError(modelKey);
      const options = { executionProviders: this.#providers } as Parameters<typeof ort.InferenceSession.create>[1];
      session = await keepingGlobalWorker(() => ort.InferenceSession.create(model, options));
      this.#sessions.set(modelKey, session);
    }
    const feeds: Record<string, ort.Tensor> = {};
    if (Array.isArray(inputs)) {
      const inputNames = session.inputNames;
      for (let i = 0; i < inputs.length; i++) {
        const tensor = inputs[i]!;
        feeds[inputNames[i] ?? `input_${i}`] = new ort.Tensor("float32", tensor.data, tensor.dims);
      }
    } else {
      for (const name in inputs) feeds[name] = new ort.Tensor("float32", inputs[name]!.data, inputs[name]!.dims);
    }
    const names = outputNames ?? session.outputNames;
    const results = await session.run(feeds, names as string[]);
    const outputs: OnnxOutputs = {};
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const tensor = results[name]!;
      outputs[name] = { data: toFloat32(tensor.data), dims: tensor.dims.slice() };
      tensor.dispose();
    }
    return outputs;
  }

  /** Releases every session. */
  clear(): void {
    this.#sessions.clear();
  }
}

// Loading onnxruntime's WASM glue under Bun/Deno replaces `globalThis.Worker` with
// node:worker_threads' Worker; put the Web Worker back so pools keep working.
async function keepingGlobalWorker<T>(body: () => Promise<T>): Promise<T> {
  const scope = globalThis as { Worker?: unknown };
  const saved = scope.Worker;
  try {
    return await body();
  } finally {
    if (scope.Worker !== saved) scope.Worker = saved;
  }
}

// Outputs are returned in their own buffer so that they can be transferred.
function toFloat32(data: ort.Tensor["data"]): Float32Array {
  if (data instanceof Float32Array) {
    const owned = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;
    return owned ? data : data.slice();
  }
  return Float32Array.from(data as ArrayLike<number>, Number);
}

/**
 * Runs inference on the calling thread, with its own session cache: the
 * baseline the worker pool is measured against, and a fallback where
 * workers are unavailable.
 */
export class OnnxMainThread implements OnnxExecutor {
  readonly #cache: OnnxSessionCache;
  #tail: Promise<void> = Promise.resolve();

  /** Creates the executor: session cache size (default 8) and WASM location (default: local). */
  constructor(options: { sessionCacheSize?: number; wasmPaths?: string; executionProviders?: string[] } = {}) {
    this.#cache = new OnnxSessionCache(options.sessionCacheSize ?? 8, {
      wasmPaths: options.wasmPaths,
      executionProviders: options.executionProviders,
    });
  }

  /** Runs one inference on this thread; overlapping calls run one after another. */
  run(request: OnnxRunRequest, options: OnnxRunOptions = {}): Promise<OnnxOutputs> {
    // onnxruntime-web's WASM backend fails runs that overlap on one thread.
    const result = this.#tail.then(() => {
      options.signal?.throwIfAborted();
      return this.#cache.run(request.modelKey, request.model, request.inputs, request.outputNames);
    });
    this.#tail = result.then(() => {}, () => {});
    return result;
  }

  /** Releases the cached sessions. */
  close(): Promise<void> {
    this.#cache.clear();
    return Promise.resolve();
  }
}
