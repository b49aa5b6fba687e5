/**
 * A shared-memory mailbox between {@link OnnxWorkerPool} and one of its
 * workers: a job's float tensors are written into a SharedArrayBuffer and the
 * other side is woken with `Atomics.notify`, instead of a structured-clone
 * `postMessage` each way. Used where SharedArrayBuffer and
 * `Atomics.waitAsync` exist; everything else still goes by message.
 *
 * @module
 */
import type { OnnxTensor } from "./onnx-session.ts";

/** Int32 slots of the header. */
const REQUEST = 0; // job sequence number, written by the pool
const RESPONSE = 1; // sequence number of the last job answered, written by the worker
const STATUS = 2; // how the last job was answered
const JOB = 3; // the job's id
const ROUTE = 4; // the job's route (model key, input names, output names), registered by message
const HEADER = 8;
/** Int32 slots describing the tensors: count, then rank and dims of each. */
const META = 64;

/** How the worker answered a job sent through the mailbox. */
export const MailboxStatus = {
  /** The outputs are in the mailbox. */
  Done: 0,
  /** The answer (outputs too large for the mailbox, or an error) comes as a message. */
  Posted: 1,
  /** The worker has no session for the model: send the job again, with the model, by message. */
  MissingModel: 2,
} as const;

/** Whether this runtime can share memory with workers and wait for it without blocking. */
export function mailboxSupported(): boolean {
  return typeof SharedArrayBuffer === "function" &&
    typeof (Atomics as { waitAsync?: unknown }).waitAsync === "function";
}

/** `Atomics.waitAsync`, typed here since not every lib declares it. */
type WaitAsync = (array: Int32Array, index: number, value: number) => { async: boolean; value: unknown };

/**
 * One side's view of a mailbox: a header of Int32 control slots, the tensors'
 * shapes, and their data as float32. The same buffer carries a job's inputs
 * and then its outputs.
 */
export class OnnxMailbox {
  /** The shared memory, sent to the worker once. */
  readonly buffer: SharedArrayBuffer;
  readonly #ctrl: Int32Array;
  readonly #meta: Int32Array;
  readonly #data: Float32Array;

  /** A mailbox over `buffer`, or over a new one with room for `floats` values. */
  constructor(buffer: SharedArrayBuffer | number) {
    this.buffer = typeof buffer === "number" ? new SharedArrayBuffer((HEADER + META) * 4 + buffer * 4) : buffer;
    this.#ctrl = new Int32Array(this.buffer, 0, HEADER);
    this.#meta = new Int32Array(this.buffer, HEADER * 4, META);
    this.#data = new Float32Array(this.buffer, (HEADER + META) * 4);
  }

  /** Writes tensors (shapes and data); false, with nothing written that matters, when they do not fit. */
  write(tensors: OnnxTensor[]): boolean {
    let ints = 1;
    let floats = 0;
    for (let i = 0; i < tensors.length; i++) {
      ints += 1 + tensors[i]!.dims.length;
      floats += tensors[i]!.data.length;
    }
    if (ints > META || floats > this.#data.length) return false;
    const meta = this.#meta;
    meta[0] = tensors.length;
    let at = 1;
    let offset = 0;
    for (let i = 0; i < tensors.length; i++) {
      const { data, dims } = tensors[i]!;
      meta[at++] = dims.length;
      for (let d = 0; d < dims.length; d++) meta[at++] = dims[d]!;
      this.#data.set(data, offset);
      offset += data.length;
    }
    return true;
  }

  /** Reads the tensors written last, each copied into a buffer of its own. */
  read(): OnnxTensor[] {
    const meta = this.#meta;
    const count = meta[0]!;
    const tensors: OnnxTensor[] = [];
    let at = 1;
    let offset = 0;
    for (let i = 0; i < count; i++) {
      const rank = meta[at++]!;
      const dims: number[] = [];
      let size = 1;
      for (let d = 0; d < rank; d++) {
        dims.push(meta[at++]!);
        size *= dims[d]!;
      }
      tensors.push({ data: this.#data.slice(offset, offset + size), dims });
      offset += size;
    }
    return tensors;
  }

  /** Pool side: posts job `id` on `route` (its inputs already written) and wakes the worker. */
  post(id: number, route: number): number {
    const ctrl = this.#ctrl;
    ctrl[JOB] = id;
    ctrl[ROUTE] = route;
    const seq = (ctrl[REQUEST]! + 1) | 0;
    Atomics.store(ctrl, REQUEST, seq);
    Atomics.notify(ctrl, REQUEST);
    return seq;
  }

  /** Pool side: calls `then` once the worker answered job `seq` (or {@link wake} was called). */
  whenAnswered(seq: number, then: () => void): void {
    const current = Atomics.load(this.#ctrl, RESPONSE);
    if (current === seq) return then();
    const wait = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync(this.#ctrl, RESPONSE, current);
    if (!wait.async) return then();
    (wait.value as Promise<unknown>).then(then);
  }

  /** Whether job `seq` has been answered. */
  answered(seq: number): boolean {
    return Atomics.load(this.#ctrl, RESPONSE) === seq;
  }

  /** Pool side: wakes a pending {@link whenAnswered}, e.g. when the worker is ended. */
  wake(): void {
    Atomics.notify(this.#ctrl, RESPONSE);
  }

  /** How the last job was answered ({@link MailboxStatus}). */
  get status(): number {
    return this.#ctrl[STATUS]!;
  }

  /** Worker side: the id and route of the last job posted. */
  get job(): { id: number; route: number } {
    return { id: this.#ctrl[JOB]!, route: this.#ctrl[ROUTE]! };
  }

  /** Worker side: calls `handle` with the sequence number of each new job, one after the other, forever. */
  async listen(handle: (seq: number) => Promise<void>): Promise<void> {
    const ctrl = this.#ctrl;
    let seen = Atomics.load(ctrl, REQUEST);
    for (;;) {
      const wait = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync(ctrl, REQUEST, seen);
      if (wait.async) await wait.value;
      const seq = Atomics.load(ctrl, REQUEST);
      if (seq === seen) continue;
      seen = seq;
      await handle(seq);
    }
  }

  /** Worker side: answers job `seq` with `status` and wakes the pool. */
  answer(seq: number, status: number): void {
    this.#ctrl[STATUS] = status;
    Atomics.store(this.#ctrl, RESPONSE, seq);
    Atomics.notify(this.#ctrl, RESPONSE);
  }
}
