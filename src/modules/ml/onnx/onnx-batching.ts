/**
 * Adaptive micro-batching of ONNX inference: concurrent single requests for
 * the same model are stacked into one tensor, run once, and split back.
 *
 * @module
 */
import { OnnxInferenceError } from "../engine/errors.ts";
import type { OnnxExecutor, OnnxOutputs, OnnxRunOptions, OnnxRunRequest, OnnxTensor } from "./onnx-session.ts";

/** Options of {@link BatchingExecutor}. */
export interface BatchingOptions {
  /** Most rows in one batch (default 256). */
  maxBatchSize?: number;
  /**
   * Longest time (ms) a request waits for company once batches are already
   * running (default 5). While fewer than `maxInFlight` batches run, a
   * request goes at the end of the current event-loop turn: batching costs
   * no latency at low load.
   */
  maxWaitMs?: number;
  /** Batches running at once (default: the inner executor's `size`, else 1). */
  maxInFlight?: number;
}

interface Pending {
  data: Float32Array;
  rows: number;
  resolve(outputs: OnnxOutputs): void;
  reject(error: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** Requests that can share a batch: same model, input name, row shape, outputs and timeout. */
interface Queue {
  request: OnnxRunRequest;
  inputName: string | number;
  /** The input's dims after the first (rows). */
  tail: number[];
  outputNames: string[] | undefined;
  timeoutMs: number | undefined;
  items: Pending[];
  rows: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** A flush is due at the end of this turn of the event loop. */
  soon: boolean;
}

/** Runs `fn` once the current turn's callbacks (and their microtasks) are done. */
const afterThisTurn: (fn: () => void) => void = typeof setImmediate === "function"
  ? (fn) => void setImmediate(fn)
  : (fn) => void setTimeout(fn, 0);

/**
 * Wraps an {@link OnnxExecutor} (usually a worker pool). Requests for the
 * same model with one input tensor `[rows, …]` share a queue. While fewer
 * than `maxInFlight` batches run, the queue leaves at the end of the
 * current event-loop turn, split evenly over the free slots (so every idle
 * worker gets a share); while all run, it waits until a batch ends or
 * `maxWaitMs` passed. A batch holds at most `maxBatchSize` rows, goes to
 * the inner executor as one tensor, and each output is split back by rows:
 * a caller's output tensors are views into the batch's output buffers.
 * Requests with several inputs, and models whose outputs do not have one
 * row per input row, run on their own.
 *
 * @example
 * ```ts
 * import { BatchingExecutor } from "./onnx-batching.ts";
 * import { OnnxWorkerPool } from "./onnx-pool.ts";
 * const executor = new BatchingExecutor(new OnnxWorkerPool({ size: 2 }), { maxBatchSize: 128, maxWaitMs: 2 });
 * await executor.close();
 * ```
 */
export class BatchingExecutor implements OnnxExecutor {
  readonly #inner: OnnxExecutor;
  readonly #maxRows: number;
  readonly #maxWait: number;
  readonly #maxInFlight: number;
  /** Queues by model key; usually one each. */
  readonly #queues = new Map<string, Queue[]>();
  readonly #unbatchable = new Set<string>();
  #inFlight = 0;
  #batches = 0;
  #closed = false;

  /** Wraps `inner`; closing this executor closes it. */
  constructor(inner: OnnxExecutor, options: BatchingOptions = {}) {
    this.#inner = inner;
    this.#maxRows = Math.max(1, options.maxBatchSize ?? 256);
    this.#maxWait = Math.max(0, options.maxWaitMs ?? 5);
    this.#maxInFlight = Math.max(1, options.maxInFlight ?? (inner as { size?: number }).size ?? 1);
  }

  /** The wrapped executor. */
  get inner(): OnnxExecutor {
    return this.#inner;
  }

  /** Batches sent to the inner executor so far. */
  get batches(): number {
    return this.#batches;
  }

  /**
   * Runs one inference, batched with concurrent ones for the same model when it can be.
   *
   * @throws {OnnxInferenceError} as the inner executor does, and when this executor is closed;
   * the signal's reason when aborted.
   */
  run(request: OnnxRunRequest, options?: OnnxRunOptions): Promise<OnnxOutputs> {
    if (this.#closed) return Promise.reject(new OnnxInferenceError("The ONNX batching executor is closed"));
    const inputs = request.inputs;
    let inputName: string | number | undefined;
    let tensor: OnnxTensor | undefined;
    if (Array.isArray(inputs)) {
      if (inputs.length === 1) {
        inputName = 0;
        tensor = inputs[0];
      }
    } else {
      for (const name in inputs) {
        if (inputName !== undefined) {
          tensor = undefined;
          break;
        }
        inputName = name;
        tensor = inputs[name];
      }
    }
    if (!tensor || tensor.dims.length < 1 || this.#unbatchable.has(request.modelKey)) {
      return this.#inner.run(request, options);
    }
    const signal = options?.signal;
    signal?.throwIfAborted();
    const queue = this.#queueOf(request, inputName!, tensor, options?.timeoutMs);
    const rows = tensor.dims[0]!;
    const data = tensor.data;
    return new Promise<OnnxOutputs>((resolve, reject) => {
      const item: Pending = { data, rows, resolve, reject, signal, onAbort: undefined };
      if (signal) {
        item.onAbort = () => {
          const at = queue.items.indexOf(item);
          if (at >= 0) {
            queue.items.splice(at, 1);
            queue.rows -= item.rows;
          }
          reject(signal.reason);
        };
        signal.addEventListener("abort", item.onAbort, { once: true });
      }
      queue.items.push(item);
      queue.rows += rows;
      this.#schedule(queue);
    });
  }

  /** Closes the inner executor; requests still waiting for a batch fail. */
  async close(): Promise<void> {
    this.#closed = true;
    const error = new OnnxInferenceError("The ONNX batching executor is closed");
    for (const queues of this.#queues.values()) {
      for (const queue of queues) {
        if (queue.timer !== undefined) clearTimeout(queue.timer);
        queue.timer = undefined;
        for (const item of queue.items.splice(0)) settle(item, error);
        queue.rows = 0;
      }
    }
    this.#queues.clear();
    await this.#inner.close();
  }

  #queueOf(request: OnnxRunRequest, inputName: string | number, tensor: OnnxTensor, timeoutMs: number | undefined): Queue {
    let queues = this.#queues.get(request.modelKey);
    if (!queues) {
      queues = [];
      this.#queues.set(request.modelKey, queues);
    }
    for (let i = 0; i < queues.length; i++) {
      const queue = queues[i]!;
      if (
        queue.inputName === inputName && queue.timeoutMs === timeoutMs && sameTail(queue.tail, tensor.dims) &&
        sameNames(queue.outputNames, request.outputNames)
      ) return queue;
    }
    const queue: Queue = {
      request,
      inputName,
      tail: tensor.dims.slice(1),
      outputNames: request.outputNames,
      timeoutMs,
      items: [],
      rows: 0,
      timer: undefined,
      soon: false,
    };
    queues.push(queue);
    return queue;
  }

  #schedule(queue: Queue): void {
    if (queue.items.length === 0) return;
    while (queue.rows >= this.#maxRows) this.#flush(queue, this.#maxRows);
    if (queue.items.length === 0) return;
    if (this.#inFlight < this.#maxInFlight) {
      // A free slot: go at the end of this turn, so requests arriving together
      // (callers woken by the same finished batch) leave together.
      if (!queue.soon) {
        queue.soon = true;
        afterThisTurn(() => this.#drain(queue));
      }
      return;
    }
    queue.timer ??= setTimeout(() => {
      queue.timer = undefined;
      while (queue.items.length > 0) this.#flush(queue, this.#maxRows);
      this.#forget(queue);
    }, this.#maxWait);
  }

  /** Sends the queue over the free slots, an even share each; what is left waits. */
  #drain(queue: Queue): void {
    queue.soon = false;
    while (queue.items.length > 0 && this.#inFlight < this.#maxInFlight) {
      this.#flush(queue, Math.ceil(queue.rows / (this.#maxInFlight - this.#inFlight)));
    }
    this.#schedule(queue);
    this.#forget(queue);
  }

  /** Sends the queue's first requests, up to `limit` rows (at least one request), as one batch. */
  #flush(queue: Queue, limit: number): void {
    if (queue.timer !== undefined) clearTimeout(queue.timer);
    queue.timer = undefined;
    const items = queue.items;
    let count = 0;
    let rows = 0;
    const cap = Math.min(limit, this.#maxRows);
    while (count < items.length && (count === 0 || rows + items[count]!.rows <= cap)) rows += items[count++]!.rows;
    if (count === 0) return;
    const batch = count === items.length ? items : items.slice(0, count);
    queue.items = count === items.length ? [] : items.slice(count);
    queue.rows -= rows;
    if (queue.items.length === 0) this.#forget(queue);
    this.#inFlight += 1;
    this.#batches += 1;
    this.#runBatch(queue, batch, rows);
  }

  #forget(queue: Queue): void {
    if (queue.items.length > 0 || queue.soon || queue.timer !== undefined) return;
    const queues = this.#queues.get(queue.request.modelKey);
    if (!queues) return;
    const at = queues.indexOf(queue);
    if (at >= 0) queues.splice(at, 1);
    if (queues.length === 0) this.#queues.delete(queue.request.modelKey);
  }

  /** A batch ended: its slot goes to the fullest waiting queue. */
  #release(): void {
    this.#inFlight -= 1;
    let next: Queue | undefined;
    for (const queues of this.#queues.values()) {
      for (const queue of queues) if (queue.items.length > 0 && (!next || queue.rows > next.rows)) next = queue;
    }
    if (next) this.#schedule(next);
  }

  #runBatch(queue: Queue, batch: Pending[], rows: number): void {
    let data: Float32Array;
    // A batch of one keeps its own buffer, and may still be needed alone if the model cannot be batched.
    if (batch.length === 1) data = batch[0]!.data;
    else {
      // Made on its own ArrayBuffer: a small typed array's lazily made buffer costs a copy when transferred.
      data = new Float32Array(new ArrayBuffer(rows * (batch[0]!.data.length / batch[0]!.rows) * 4));
      let offset = 0;
      for (let i = 0; i < batch.length; i++) {
        const part = batch[i]!.data;
        data.set(part, offset);
        offset += part.length;
      }
    }
    this.#inner.run(this.#request(queue, data, rows), this.#options(queue)).then(
      (outputs) => {
        // The slot is free before the callers hear back, so their next requests find it.
        this.#release();
        this.#deliver(queue, batch, rows, outputs);
      },
      (error: unknown) => {
        this.#release();
        for (let i = 0; i < batch.length; i++) settle(batch[i]!, error);
      },
    );
  }

  /** Hands each request its rows of the batch's outputs. */
  #deliver(queue: Queue, batch: Pending[], rows: number, outputs: OnnxOutputs): void {
    if (batch.length === 1 && rowsMatch(outputs, rows)) {
      settle(batch[0]!, undefined, outputs);
      return;
    }
    if (splitOutputs(outputs, batch, rows)) return;
    // Outputs without one row per input row cannot be split: this model runs unbatched from now on.
    this.#unbatchable.add(queue.request.modelKey);
    if (batch.length === 1) {
      settle(batch[0]!, undefined, outputs);
      return;
    }
    for (const item of batch) {
      this.#inner.run(this.#request(queue, item.data, item.rows), this.#options(queue)).then(
        (own) => settle(item, undefined, own),
        (error: unknown) => settle(item, error),
      );
    }
  }

  #request(queue: Queue, data: Float32Array, rows: number): OnnxRunRequest {
    const tensor: OnnxTensor = { data, dims: [rows, ...queue.tail] };
    const { modelKey, model } = queue.request;
    const request: OnnxRunRequest = {
      modelKey,
      model,
      inputs: typeof queue.inputName === "number" ? [tensor] : { [queue.inputName]: tensor },
    };
    if (queue.outputNames) request.outputNames = queue.outputNames;
    return request;
  }

  #options(queue: Queue): OnnxRunOptions | undefined {
    return queue.timeoutMs === undefined ? undefined : { timeoutMs: queue.timeoutMs };
  }
}

function settle(item: Pending, error: unknown, outputs?: OnnxOutputs): void {
  if (item.onAbort) item.signal?.removeEventListener("abort", item.onAbort);
  if (item.signal?.aborted) return;
  if (error === undefined) item.resolve(outputs!);
  else item.reject(error);
}

function sameTail(tail: number[], dims: number[]): boolean {
  if (dims.length !== tail.length + 1) return false;
  for (let i = 0; i < tail.length; i++) if (tail[i] !== dims[i + 1]) return false;
  return true;
}

function sameNames(a: string[] | undefined, b: string[] | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function rowsMatch(outputs: OnnxOutputs, rows: number): boolean {
  for (const name in outputs) if (outputs[name]!.dims[0] !== rows) return false;
  return true;
}

/**
 * Settles each request with its rows of every output, as views into the batch's output buffers;
 * false (nothing settled) when an output has no row per input row.
 */
function splitOutputs(outputs: OnnxOutputs, batch: Pending[], total: number): boolean {
  if (!rowsMatch(outputs, total)) return false;
  const names = Object.keys(outputs);
  let start = 0;
  // Each request is settled as its part is made: one object per request, no intermediate arrays.
  for (let i = 0; i < batch.length; i++) {
    const item = batch[i]!;
    const n = item.rows;
    const part: OnnxOutputs = {};
    for (let k = 0; k < names.length; k++) {
      const tensor = outputs[names[k]!]!;
      const width = total === 0 ? 0 : tensor.data.length / total;
      part[names[k]!] = { data: tensor.data.subarray(start * width, (start + n) * width), dims: rowDims(n, tensor.dims) };
    }
    start += n;
    settle(item, undefined, part);
  }
  return true;
}

/** `dims` with its first entry (rows) replaced by `rows`. */
function rowDims(rows: number, dims: number[]): number[] {
  if (dims.length === 2) return [rows, dims[1]!];
  const out = dims.slice();
  out[0] = rows;
  return out;
}
