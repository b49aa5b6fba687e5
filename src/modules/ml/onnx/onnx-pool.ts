/**
 * A pool of Web Workers running ONNX inference off the main thread.
 *
 * @module
 */
import { LRUCache } from "lru-cache";
import { OnnxInferenceError } from "../engine/errors.ts";
import { unrefTimer } from "../../../core/timers.ts";
import { MailboxStatus, mailboxSupported, OnnxMailbox } from "./onnx-channel.ts";
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
  /**
   * Float32 values (inputs, then outputs) each worker's shared-memory mailbox
   * holds (default 262 144, 1 MiB); 0 sends every job by message. Jobs that do
   * not fit, and runtimes without SharedArrayBuffer or `Atomics.waitAsync`,
   * use messages.
   */
  mailboxFloats?: number;
}

/** A job's model key, input names and output names, numbered for the mailbox. */
interface Route {
  id: number;
  inputNames: string[] | undefined;
  /** The output names, in order, once a first result told them. */
  outputs: string[] | undefined;
}

// Captured at load: onnxruntime's WASM glue may later replace the global with node:worker_threads' Worker.
const WebWorker: typeof Worker | undefined = typeof Worker === "function" && "addEventListener" in Worker.prototype
  ? Worker
  : undefined;

/**
 * Most routes a pool numbers: past it, a request with a new model key, input
 * or output names goes by message. Pool and workers keep every route they
 * number, so this bounds both.
 */
const MAX_ROUTES = 4096;

interface Job {
  id: number;
  request: OnnxRunRequest;
  inputs: OnnxRunRequest["inputs"];
  /** The job's route, once sent to a worker with a mailbox (none past {@link MAX_ROUTES}). */
  route?: Route | undefined;
  signal: AbortSignal | undefined;
  timeoutMs: number | undefined;
  resolve(outputs: OnnxOutputs): void;
  reject(error: unknown): void;
  onAbort?: () => void;
}

interface Slot {
  worker: Worker;
  // Mirrors the worker's session LRU: both see the same accesses in the same order.
  models: LRUCache<string, true>;
  job?: Job;
  /** Shared memory for jobs whose route the worker knows. */
  mailbox: OnnxMailbox | undefined;
  /** Routes the worker has registered and answered once. */
  routes: Set<number>;
  /** When the running job times out (`performance.now()` ms). */
  deadline: number;
  /** When the worker last finished a job. */
  idleSince: number;
  /**
   * One timer per worker, re-armed only when it fires early or a job needs it
   * sooner: it checks the job's deadline while busy and the idle limit while idle.
   */
  timer?: ReturnType<typeof setTimeout>;
  timerAt: number;
}

/**
 * Runs ONNX inference on up to `size` Web Workers (onnxruntime-web WASM,
 * one thread each). Jobs go to an idle worker that already holds the
 * model's session when there is one; model bytes are sent only to workers
 * that lack it. Once a worker has answered a model (same inputs and
 * outputs) by message, later jobs for it go through that worker's
 * shared-memory mailbox ({@link OnnxMailbox}): tensors are copied in and
 * out and the threads wake each other with `Atomics`, far cheaper than a
 * message each way. Otherwise (runtimes without SharedArrayBuffer or
 * `Atomics.waitAsync`, tensors too large for the mailbox) input and output
 * buffers are transferred by message, not copied. A
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
  readonly #mailboxFloats: number;
  readonly #routes = new Map<string, Route>();
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
    this.#mailboxFloats = mailboxSupported() ? Math.max(0, options.mailboxFloats ?? 262_144) : 0;
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
  run(request: OnnxRunRequest, options?: OnnxRunOptions): Promise<OnnxOutputs> {
    if (this.#closed) return Promise.reject(new OnnxInferenceError("The ONNX worker pool is closed"));
    const signal = options?.signal;
    signal?.throwIfAborted();
    return new Promise<OnnxOutputs>((resolve, reject) => {
      const job: Job = {
        id: this.#nextId++,
        request,
        inputs: request.inputs,
        signal,
        timeoutMs: options?.timeoutMs,
        resolve,
        reject,
      };
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
      let idle: Slot | undefined;
      for (const s of this.#slots) {
        if (s.job) continue;
        if (s.models.has(job.request.modelKey)) {
          idle = s;
          break;
        }
        idle ??= s;
      }
      const slot = idle ?? (this.#slots.size < this.#size ? this.#spawn() : undefined);
      if (!slot) return;
      this.#queue.shift();
      this.#dispatch(slot, job);
    }
  }

  #spawn(): Slot {
    if (!WebWorker) throw new OnnxInferenceError("Web Workers are not available in this runtime");
    const worker = new WebWorker(this.#url, { type: "module" });
    const slot: Slot = {
      worker,
      models: new LRUCache({ max: this.#cacheSize }),
      mailbox: this.#mailboxFloats > 0 ? new OnnxMailbox(this.#mailboxFloats) : undefined,
      routes: new Set(),
      deadline: 0,
      idleSince: 0,
      timerAt: 0,
    };
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
    if (slot.mailbox) init.mailbox = slot.mailbox.buffer;
    worker.postMessage(init);
    this.#slots.add(slot);
    return slot;
  }

  #dispatch(slot: Slot, job: Job): void {
    slot.job = job;
    (slot.worker as { ref?: () => void }).ref?.();
    const now = performance.now();
    slot.deadline = now + (job.timeoutMs ?? this.#timeoutMs);
    // No later than one idle period from now, so the worker's idle check after this job needs no new timer.
    this.#arm(slot, Math.min(slot.deadline, now + this.#idleMs));
    this.#send(slot, job, !slot.models.get(job.request.modelKey));
  }

  /** Makes sure the slot's timer fires by `at`; a timer due sooner is left as it is. */
  #arm(slot: Slot, at: number): void {
    if (slot.timer !== undefined) {
      if (slot.timerAt <= at) return;
      clearTimeout(slot.timer);
    }
    slot.timerAt = at;
    slot.timer = setTimeout(() => this.#onTimer(slot), Math.max(0, at - performance.now()));
    // The pending timer keeps nothing alive: a busy worker is ref'd, an idle one may end with the process.
    unrefTimer(slot.timer);
  }

  #onTimer(slot: Slot): void {
    slot.timer = undefined;
    if (!this.#slots.has(slot)) return;
    const now = performance.now();
    const job = slot.job;
    if (job) {
      if (now < slot.deadline) return this.#arm(slot, slot.deadline);
      const timeout = job.timeoutMs ?? this.#timeoutMs;
      this.#retire(slot, new OnnxInferenceError(`ONNX inference timed out after ${timeout} ms`));
      this.#pump();
      return;
    }
    if (now < slot.idleSince + this.#idleMs) return this.#arm(slot, slot.idleSince + this.#idleMs);
    this.#retire(slot);
  }

  #send(slot: Slot, job: Job, withModel: boolean): void {
    const { modelKey, model, outputNames } = job.request;
    const route = slot.mailbox ? (job.route ??= this.#routeOf(job.request)) : undefined;
    if (route && !withModel && route.outputs && slot.routes.has(route.id) && slot.mailbox!.write(tensorsOf(job.inputs))) {
      const mailbox = slot.mailbox!;
      const seq = mailbox.post(job.id, route.id);
      mailbox.whenAnswered(seq, () => this.#onMailbox(slot, job, seq, route));
      return;
    }
    const inputs = ownBuffers(job.inputs);
    job.inputs = inputs;
    const message: OnnxWorkerRequest = { type: "run", id: job.id, modelKey, inputs };
    if (outputNames) message.outputNames = outputNames;
    if (route) message.route = route.inputNames ? { id: route.id, inputNames: route.inputNames } : { id: route.id };
    const transfer: Transferable[] = [];
    for (const tensor of tensorsOf(inputs)) transfer.push(tensor.data.buffer as ArrayBuffer);
    if (withModel) {
      const copy = model.slice();
      message.model = copy;
      transfer.push(copy.buffer);
    }
    slot.worker.postMessage(message, transfer);
  }

  /** The route of a request: one per model key, input names and output names; none once {@link MAX_ROUTES} are numbered. */
  #routeOf(request: OnnxRunRequest): Route | undefined {
    const inputs = request.inputs;
    const inputNames = Array.isArray(inputs) ? undefined : Object.keys(inputs);
    const key = `${request.modelKey}\u0000${inputNames ? inputNames.join("\u0000") : inputs.length}\u0000\u0000${request.outputNames?.join("\u0000") ?? ""}`;
    let route = this.#routes.get(key);
    if (!route) {
      if (this.#routes.size >= MAX_ROUTES) return undefined;
      route = { id: this.#routes.size + 1, inputNames, outputs: undefined };
      this.#routes.set(key, route);
    }
    return route;
  }

  /** The worker answered a job sent through the mailbox (or the worker ended). */
  #onMailbox(slot: Slot, job: Job, seq: number, route: Route): void {
    if (slot.job !== job || !this.#slots.has(slot)) return;
    const mailbox = slot.mailbox!;
    if (!mailbox.answered(seq)) return mailbox.whenAnswered(seq, () => this.#onMailbox(slot, job, seq, route));
    const status = mailbox.status;
    // Posted: the result or error arrives as a message.
    if (status === MailboxStatus.Posted) return;
    if (status === MailboxStatus.MissingModel) return this.#send(slot, job, true);
    const tensors = mailbox.read();
    const names = route.outputs!;
    const outputs: OnnxOutputs = {};
    for (let i = 0; i < names.length; i++) outputs[names[i]!] = tensors[i]!;
    this.#finish(slot, job, undefined, outputs);
  }

  #onMessage(slot: Slot, message: OnnxWorkerResponse): void {
    const job = slot.job;
    if (!job || job.id !== message.id) return;
    if (message.type === "missing-model") {
      job.inputs = message.inputs;
      this.#send(slot, job, true);
      return;
    }
    if (message.type === "result") {
      const route = job.route;
      if (slot.mailbox && route) {
        route.outputs ??= Object.keys(message.outputs);
        slot.routes.add(route.id);
      }
      this.#finish(slot, job, undefined, message.outputs);
    } else {
      this.#finish(slot, job, new OnnxInferenceError(`${message.name}: ${message.message}`));
    }
  }

  /** The slot's job ended: it is settled and the worker takes the next one. */
  #finish(slot: Slot, job: Job, error: unknown, outputs?: OnnxOutputs): void {
    slot.job = undefined;
    if (error === undefined) slot.models.set(job.request.modelKey, true);
    this.#settle(job, error, outputs);
    this.#idle(slot);
    this.#pump();
  }

  #idle(slot: Slot): void {
    (slot.worker as { unref?: () => void }).unref?.();
    slot.idleSince = performance.now();
    this.#arm(slot, slot.idleSince + this.#idleMs);
  }

  #abort(job: Job, reason: unknown): void {
    const queued = this.#queue.indexOf(job);
    if (queued >= 0) {
      this.#queue.splice(queued, 1);
      this.#settle(job, reason);
      return;
    }
    let slot: Slot | undefined;
    for (const s of this.#slots) if (s.job === job) slot = s;
    if (!slot) return;
    slot.job = undefined;
    this.#settle(job, reason);
    this.#retire(slot);
    this.#pump();
  }

  // Ends a worker; its job (if any) fails with `error`.
  #retire(slot: Slot, error?: unknown): void {
    if (!this.#slots.delete(slot)) return;
    if (slot.timer !== undefined) clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.worker.terminate();
    // A job waiting on the mailbox hears that its worker is gone (and finds the slot retired).
    slot.mailbox?.wake();
    const job = slot.job;
    slot.job = undefined;
    if (job) this.#settle(job, error ?? new OnnxInferenceError("ONNX worker ended"));
  }

  #settle(job: Job, error: unknown, outputs?: OnnxOutputs): void {
    if (job.onAbort) job.signal?.removeEventListener("abort", job.onAbort);
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

/**
 * The inputs with every tensor in a buffer of its own: buffers are transferred,
 * and transferring a view's whole buffer would detach the data of whoever shares it.
 */
function ownBuffers(inputs: OnnxRunRequest["inputs"]): OnnxRunRequest["inputs"] {
  const shared = (t: OnnxTensor) => t.data.byteOffset !== 0 || t.data.byteLength !== t.data.buffer.byteLength;
  let any = false;
  for (const tensor of tensorsOf(inputs)) any ||= shared(tensor);
  if (!any) return inputs;
  const own = (t: OnnxTensor): OnnxTensor => (shared(t) ? { data: t.data.slice(), dims: t.dims } : t);
  return Array.isArray(inputs) ? inputs.map(own) : Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, own(t)]));
}

