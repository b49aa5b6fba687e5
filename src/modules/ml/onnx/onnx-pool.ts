/**
 * A pool of Web Workers running ONNX inference off the main thread.
 *
 * @module
 */
import { LRUCache } from "lru-cache";
import { OnnxInferenceError } from "../engine/errors.ts";
import type { OnnxWorkerRequest, OnnxWorkerResponse } from "./onnx-worker.ts";
import {
  localWasmPaths,
  type OnnxExecutor,
  type OnnxOutputs,
  type OnnxRunOptions,
  type OnnxRunRequest,
  type OnnxTensor,
} from "./onnx-session.ts";

/** Options of {@link OnnxWorkerPool}. */
export interface OnnxPoolOptions {
  /** Maximum number of workers (default `navigator.hardwareConcurrency`, at least 1). */
  size?: number;
  /** A worker idle this long is ended (default 30 000 ms). */
  idleTimeoutMs?: number;
  /** A job running longer fails and its worker is replaced (default 60 000 ms). */
  jobTimeoutMs?: number;
  /** Sessions cached per worker, least recently used evicted (default 8). */
  sessionCacheSize?: number;
  /** Where onnxruntime-web's `.wasm`/`.mjs` files are (default: the local `onnxruntime-web/dist/`). */
  wasmPaths?: string;
  /** The worker module (default `./onnx-worker.ts` beside this file); for bundlers that move it. */
  workerUrl?: URL;
  /** onnxruntime execution providers of the workers' sessions, in preference order (default `["wasm"]`). */
  executionProviders?: string[];
}

// Captured at load: onnxruntime's WASM glue may later replace the global with node:worker_threads' Worker.
const WebWorker: typeof Worker | undefined = typeof Worker === "function" && "addEventListener" in Worker.prototype
  ? Worker
  : undefined;

interface Job {
  id: number;
  request: OnnxRunRequest;
  inputs: OnnxRunRequest["inputs"];
  options: OnnxRunOptions;
  resolve(outputs: OnnxOutputs): void;
  reject(error: unknown): void;
  timer?: ReturnType<typeof setTimeout>;
  onAbort?: () => void;
}

interface Slot {
  worker: Worker;
  // Mirrors the worker's session LRU: both see the same accesses in the same order.
  models: LRUCache<string, true>;
  job?: Job;
  idleTimer?: ReturnType<typeof setTimeout>;
}

/**
 * Runs ONNX inference on up to `size` Web Workers (onnxruntime-web WASM,
 * one thread each). Jobs go to an idle worker that already holds the
 * model's session when there is one; model bytes are sent only to workers
 * that lack it. Input and output buffers are transferred, not copied. A
 * worker that crashes, times out or is aborted is terminated: only its job
 * fails and a new worker takes its place. Idle workers end after
 * `idleTimeoutMs`.
 *
 * @example
 * ```ts
 * import { OnnxWorkerPool } from "./onnx-pool.ts";
 * const pool = new OnnxWorkerPool({ size: 2 });
 * // const out = await pool.run({ modelKey: "m1", model: bytes, inputs: [{ data, dims: [rows, 3] }] });
 * await pool.close();
 * ```
 */
export class OnnxWorkerPool implements OnnxExecutor {
  readonly #size: number;
  readonly #idleMs: number;
  readonly #timeoutMs: number;
  readonly #cacheSize: number;
  readonly #wasmPaths: string | undefined;
  readonly #url: URL;
  readonly #providers: string[] | undefined;
  readonly #slots = new Set<Slot>();
  readonly #queue: Job[] = [];
  #nextId = 1;
  #closed = false;

  /** Creates an empty pool; workers start on demand. */
  constructor(options: OnnxPoolOptions = {}) {
    const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
    this.#size = Math.max(1, options.size ?? cores ?? 1);
    this.#idleMs = options.idleTimeoutMs ?? 30_000;
    this.#timeoutMs = options.jobTimeoutMs ?? 60_000;
    this.#cacheSize = options.sessionCacheSize ?? 8;
    this.#wasmPaths = options.wasmPaths ?? localWasmPaths();
    this.#url = options.workerUrl ?? new URL("./onnx-worker.ts", import.meta.url);
    this.#providers = options.executionProviders;
  }

  /** The maximum number of workers. */
  get size(): number {
    return this.#size;
  }

  /** Workers alive now. */
  get workerCount(): number {
    return this.#slots.size;
  }

  /** Jobs waiting for a worker. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Runs one inference on a worker.
   *
   * @throws {OnnxInferenceError} when the model fails, the worker crashes or the job times out;
   * the signal's reason when aborted.
   */
  run(request: OnnxRunRequest, options: OnnxRunOptions = {}): Promise<OnnxOutputs> {
    if (this.#closed) return Promise.reject(new OnnxInferenceError("The ONNX worker pool is closed"));
    options.signal?.throwIfAborted();
    return new Promise<OnnxOutputs>((resolve, reject) => {
      const job: Job = { id: this.#nextId++, request, inputs: request.inputs, options, resolve, reject };
      const signal = options.signal;
      if (signal) {
        job.onAbort = () => this.#abort(job, signal.reason);
        signal.addEventListener("abort", job.onAbort, { once: true });
      }
      this.#queue.push(job);
      this.#pump();
    });
  }

  /** Fails queued jobs and terminates every worker. */
  close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) this.#settle(job, new OnnxInferenceError("The ONNX worker pool is closed"));
    for (const slot of [...this.#slots]) this.#retire(slot, new OnnxInferenceError("The ONNX worker pool is closed"));
    return Promise.resolve();
  }

  #pump(): void {
    while (this.#queue.length > 0 && !this.#closed) {
      const job = this.#queue[0]!;
      const idle = [...this.#slots].filter((s) => !s.job);
      const slot = idle.find((s) => s.models.has(job.request.modelKey)) ?? idle[0] ??
        (this.#slots.size < this.#size ? this.#spawn() : undefined);
      if (!slot) return;
      this.#queue.shift();
      this.#dispatch(slot, job);
    }
  }

  #spawn(): Slot {
    if (!WebWorker) throw new OnnxInferenceError("Web Workers are not available in this runtime");
    const worker = new WebWorker(this.#url, { type: "module" });
    const slot: Slot = { worker, models: new LRUCache({ max: this.#cacheSize }) };
    worker.addEventListener("message", (event) => this.#onMessage(slot, (event as MessageEvent<OnnxWorkerResponse>).data));
    worker.addEventListener("error", (event) => {
      event.preventDefault();
      this.#retire(slot, new OnnxInferenceError(`ONNX worker crashed: ${crashMessage(event as ErrorEvent)}`));
      this.#pump();
    });
    worker.addEventListener("messageerror", () => {
      this.#retire(slot, new OnnxInferenceError("ONNX worker sent a message that could not be read"));
      this.#pump();
    });
    // Bun reports a worker that exited on its own.
    worker.addEventListener("close", () => {
      if (!this.#slots.has(slot)) return;
      this.#retire(slot, new OnnxInferenceError("ONNX worker exited unexpectedly"));
      this.#pump();
    });
    const init: OnnxWorkerRequest = { type: "init", sessionCacheSize: this.#cacheSize };
    if (this.#wasmPaths !== undefined) init.wasmPaths = this.#wasmPaths;
    if (this.#providers !== undefined) init.executionProviders = this.#providers;
    worker.postMessage(init);
    this.#slots.add(slot);
    return slot;
  }

  #dispatch(slot: Slot, job: Job): void {
    if (slot.idleTimer !== undefined) clearTimeout(slot.idleTimer);
    slot.idleTimer = undefined;
    slot.job = job;
    (slot.worker as { ref?: () => void }).ref?.();
    const timeout = job.options.timeoutMs ?? this.#timeoutMs;
    job.timer = setTimeout(() => {
      this.#retire(slot, new OnnxInferenceError(`ONNX inference timed out after ${timeout} ms`));
      this.#pump();
    }, timeout);
    this.#send(slot, job, !slot.models.get(job.request.modelKey));
  }

  #send(slot: Slot, job: Job, withModel: boolean): void {
    const { modelKey, model, outputNames } = job.request;
    const message: OnnxWorkerRequest = { type: "run", id: job.id, modelKey, inputs: job.inputs };
    if (outputNames) message.outputNames = outputNames;
    const transfer: Transferable[] = tensorsOf(job.inputs).map((t) => t.data.buffer as ArrayBuffer);
    if (withModel) {
      const copy = model.slice();
      message.model = copy;
      transfer.push(copy.buffer);
    }
    slot.worker.postMessage(message, transfer);
  }

  #onMessage(slot: Slot, message: OnnxWorkerResponse): void {
    const job = slot.job;
    if (!job || job.id !== message.id) return;
    if (message.type === "missing-model") {
      job.inputs = message.inputs;
      this.#send(slot, job, true);
      return;
    }
    slot.job = undefined;
    if (message.type === "result") {
      slot.models.set(job.request.modelKey, true);
      this.#settle(job, undefined, message.outputs);
    } else {
      this.#settle(job, new OnnxInferenceError(`${message.name}: ${message.message}`));
    }
    this.#idle(slot);
    this.#pump();
  }

  #idle(slot: Slot): void {
    (slot.worker as { unref?: () => void }).unref?.();
    slot.idleTimer = setTimeout(() => {
      if (!slot.job) this.#retire(slot);
    }, this.#idleMs);
    unrefTimer(slot.idleTimer);
  }

  #abort(job: Job, reason: unknown): void {
    const queued = this.#queue.indexOf(job);
    if (queued >= 0) {
      this.#queue.splice(queued, 1);
      this.#settle(job, reason);
      return;
    }
    const slot = [...this.#slots].find((s) => s.job === job);
    if (!slot) return;
    slot.job = undefined;
    this.#settle(job, reason);
    this.#retire(slot);
    this.#pump();
  }

  // Ends a worker; its job (if any) fails with `error`.
  #retire(slot: Slot, error?: unknown): void {
    if (!this.#slots.delete(slot)) return;
    if (slot.idleTimer !== undefined) clearTimeout(slot.idleTimer);
    slot.worker.terminate();
    const job = slot.job;
    slot.job = undefined;
    if (job) this.#settle(job, error ?? new OnnxInferenceError("ONNX worker ended"));
  }

  #settle(job: Job, error: unknown, outputs?: OnnxOutputs): void {
    if (job.timer !== undefined) clearTimeout(job.timer);
    if (job.onAbort) job.options.signal?.removeEventListener("abort", job.onAbort);
    if (error === undefined) job.resolve(outputs!);
    else job.reject(error);
  }
}

// Bun's ErrorEvent message carries a source excerpt; the thrown error's own message is clearer.
function crashMessage(event: ErrorEvent): string {
  const error: unknown = event.error;
  if (error instanceof Error && error.message) return error.message;
  const lines = String(event.message || "unknown error").trim().split("\n");
  for (const line of lines) {
    const match = /^\s*(?:Uncaught\s+)?(\w*error:.*)$/i.exec(line);
    if (match) return match[1]!.replace(/^error:/, "Error:");
  }
  return lines[0]!;
}

function tensorsOf(inputs: OnnxRunRequest["inputs"]): OnnxTensor[] {
  return Array.isArray(inputs) ? inputs : Object.values(inputs);
}

function unrefTimer(timer: ReturnType<typeof setTimeout>): void {
  if (typeof timer === "object" && timer !== null && "unref" in timer) (timer as { unref(): void }).unref();
  else (globalThis as { Deno?: { unrefTimer(id: number): void } }).Deno?.unrefTimer(timer as unknown as number);
}
