/**
 * Adaptive micro-batching of ONNX inference: concurrent single requests for
 * the same model are stacked into one tensor, run once, and split back.
 *
 * @module
 */
import type { OnnxExecutor, OnnxOutputs, OnnxRunOptions, OnnxRunRequest, OnnxTensor } from "./onnx-session.ts";

/** Options of {@link BatchingExecutor}. */
export interface BatchingOptions {
  /** Most rows in one batch (default 256). */
  maxBatchSize?: number;
  /**
   * Longest time (ms) a request waits for company once batches are already
   * running (default 5). While fewer than `maxInFlight` batches run, a
   * request goes at once: batching costs no latency at low load.
   */
  maxWaitMs?: number;
  /** Batches running at once (default: the inner executor's `size`, else 1). */
  maxInFlight?: number;
}

interface Pending {
  tensor: OnnxTensor;
  rows: number;
  resolve(outputs: OnnxOutputs): void;
  reject(error: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

interface Queue {
  key: string;
  request: OnnxRunRequest;
  inputName: string | number;
  items: Pending[];
  rows: number;
  timer?: ReturnType<typeof setTimeout>;
  /** A flush is due at the end of this turn of the event loop. */
  soon?: boolean;
}

/** Runs `fn` once the current turn's callbacks (and their microtasks) are done. */
const afterThisTurn: (fn: () => void) => void = typeof setImmediate === "function"
  ? (fn) => void setImmediate(fn)
  : (fn) => void setTimeout(fn, 0);

/**
 * Wraps an {@link OnnxExecutor} (usually a worker pool): requests for the
 * same model with one input tensor `[rows, …]` wait in a queue while
 * `maxInFlight` batches run; when a batch ends, or `maxWaitMs` passed, the
 * queue goes as one tensor of up to `maxBatchSize` rows, and each output is
 * split back by rows. Requests with several inputs, and models whose
 * outputs do not have one row per input row, run on their own.
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
  readonly #queues = new Map<string, Queue>();
  readonly #unbatchable = new Set<string>();
  #inFlight = 0;
  #batches = 0;

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

  /** Runs one inference, batched with concurrent ones for the same model when it can be. */
  run(request: OnnxRunRequest, options: OnnxRunOptions = {}): Promise<OnnxOutputs> {
    const entries = Array.isArray(request.inputs) ? request.inputs.map((t, i) => [i, t] as const) : Object.entries(request.inputs);
    const only = entries.length === 1 ? entries[0]! : undefined;
    const tensor = only?.[1];
    if (!only || !tensor || tensor.dims.length < 1 || this.#unbatchable.has(request.modelKey)) {
      return this.#inner.run(request, options);
    }
    options.signal?.throwIfAborted();
    const key = `${request.modelKey}\u0000${only[0]}\u0000${tensor.dims.slice(1).join("x")}\u0000${(request.outputNames ?? []).join(",")}`;
    return new Promise<OnnxOutputs>((resolve, reject) => {
      const rows = tensor.dims[0]!;
      const item: Pending = { tensor, rows, resolve, reject };
      let queue = this.#queues.get(key);
      if (!queue) {
        queue = { key, request, inputName: only[0], items: [], rows: 0 };
        this.#queues.set(key, queue);
      }
      if (options.signal) {
        const signal = options.signal;
        const owner = queue;
        item.signal = signal;
        item.onAbort = () => {
          const at = owner.items.indexOf(item);
          if (at >= 0) {
            owner.items.splice(at, 1);
            owner.rows -= item.rows;
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

  #schedule(queue: Queue): void {
    if (queue.items.length === 0) return;
    if (queue.rows >= this.#maxRows) {
      this.#flush(queue);
      return;
    }
    if (this.#inFlight < this.#maxInFlight) {
      // A free slot: go at the end of this turn, so requests arriving together
      // (callers woken by the same finished batch) leave as one batch.
      if (!queue.soon) {
        queue.soon = true;
        afterThisTurn(() => {
          queue.soon = false;
          if (queue.items.length > 0 && this.#inFlight < this.#maxInFlight) this.#flush(queue);
          else this.#schedule(queue);
        });
      }
      return;
    }
    queue.timer ??= setTimeout(() => {
      queue.timer = undefined;
      this.#flush(queue);
    }, this.#maxWait);
  }

  #flush(queue: Queue): void {
    if (queue.timer !== undefined) clearTimeout(queue.timer);
    queue.timer = undefined;
    const batch: Pending[] = [];
    let rows = 0;
    while (queue.items.length > 0 && (batch.length === 0 || rows + queue.items[0]!.rows <= this.#maxRows)) {
      const item = queue.items.shift()!;
      batch.push(item);
      rows += item.rows;
    }
    queue.rows -= rows;
    if (queue.items.length === 0) this.#queues.delete(queue.key);
    if (batch.length === 0) return;
    this.#inFlight += 1;
    this.#batches += 1;
    void this.#runBatch(queue, batch, rows).finally(() => {
      this.#inFlight -= 1;
      // A batch that ends makes room: the fullest waiting queue goes next.
      const next = [...this.#queues.values()].sort((a, b) => b.rows - a.rows)[0];
      if (next) this.#schedule(next);
    });
    if (queue.items.length > 0) this.#schedule(queue);
  }

  async #runBatch(queue: Queue, batch: Pending[], rows: number): Promise<void> {
    const first = batch[0]!.tensor;
    const width = first.data.length / Math.max(1, first.dims[0]!);
    let data: Float32Array;
    // A batch of one keeps its own buffer, and may still be needed alone if the model cannot be batched.
    if (batch.length === 1) data = first.data;
    else {
      data = new Float32Array(rows * width);
      let offset = 0;
      for (const item of batch) {
        data.set(item.tensor.data, offset);
        offset += item.tensor.data.length;
      }
    }
    const tensor: OnnxTensor = { data, dims: [rows, ...first.dims.slice(1)] };
    const request: OnnxRunRequest = {
      ...queue.request,
      inputs: typeof queue.inputName === "number" ? [tensor] : { [queue.inputName]: tensor },
    };
    try {
      const outputs = await this.#inner.run(request);
      const split = splitOutputs(outputs, batch.map((item) => item.rows), rows);
      if (!split) {
        // Outputs without one row per input row cannot be split: this model runs unbatched from now on.
        this.#unbatchable.add(queue.request.modelKey);
        if (batch.length === 1) settle(batch[0]!, undefined, outputs);
        else {
          await Promise.all(batch.map((item) => {
            const alone = typeof queue.inputName === "number" ? [item.tensor] : { [queue.inputName]: item.tensor };
            return this.#inner.run({ ...queue.request, inputs: alone }).then(
              (own) => settle(item, undefined, own),
              (error: unknown) => settle(item, error),
            );
          }));
        }
        return;
      }
      batch.forEach((item, i) => settle(item, undefined, split[i]));
    } catch (error) {
      batch.forEach((item) => settle(item, error));
    }
  }

  /** Closes the inner executor; waiting requests fail with its error. */
  async close(): Promise<void> {
    for (const queue of this.#queues.values()) if (queue.timer !== undefined) clearTimeout(queue.timer);
    this.#queues.clear();
    await this.#inner.close();
  }
}

function settle(item: Pending, error: unknown, outputs?: OnnxOutputs): void {
  if (item.onAbort) item.signal?.removeEventListener("abort", item.onAbort);
  if (item.signal?.aborted) return;
  if (error === undefined) item.resolve(outputs!);
  else item.reject(error);
}

function splitOutputs(outputs: OnnxOutputs, rows: number[], total: number): OnnxOutputs[] | null {
  const parts: OnnxOutputs[] = rows.map(() => ({}));
  for (const [name, tensor] of Object.entries(outputs)) {
    if (tensor.dims[0] !== total) return null;
    const width = total === 0 ? 0 : tensor.data.length / total;
    let start = 0;
    rows.forEach((n, i) => {
      parts[i]![name] = { data: tensor.data.slice(start * width, (start + n) * width), dims: [n, ...tensor.dims.slice(1)] };
      start += n;
    });
  }
  return parts;
}
