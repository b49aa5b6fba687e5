/**
 * The ONNX inference worker: one onnxruntime-web WASM session cache per
 * worker, answering `run` messages from {@link OnnxWorkerPool}, and jobs
 * posted to its shared-memory mailbox. Tensors travel as transferred
 * buffers, or through the mailbox.
 *
 * @module
 */
import { MailboxStatus, OnnxMailbox } from "./onnx-channel.ts";
import { MissingModelError, type OnnxOutputs, OnnxSessionCache, type OnnxTensor } from "./onnx-session.ts";

/**
 * What a job's mailbox number stands for: the model key, the input names
 * (none: by position) and the outputs asked for. Sent once by message.
 */
export interface OnnxRoute {
  /** The route's number, written to the mailbox with each job. */
  id: number;
  /** Input names in the order the tensors are written, or undefined for inputs by position. */
  inputNames?: string[];
}

/** Messages the pool sends. */
export type OnnxWorkerRequest =
  | { type: "init"; sessionCacheSize: number; wasmPaths?: string; executionProviders?: string[]; mailbox?: SharedArrayBuffer }
  | {
    type: "run";
    id: number;
    modelKey: string;
    model?: Uint8Array;
    inputs: Record<string, OnnxTensor> | OnnxTensor[];
    outputNames?: string[];
    /** Registers the job's route, so later jobs like it can go through the mailbox. */
    route?: OnnxRoute;
  };

/** Messages the worker sends back. */
export type OnnxWorkerResponse =
  | { type: "result"; id: number; outputs: OnnxOutputs }
  | { type: "missing-model"; id: number; inputs: Record<string, OnnxTensor> | OnnxTensor[] }
  | { type: "error"; id: number; name: string; message: string };

const scope = globalThis as unknown as {
  postMessage(message: OnnxWorkerResponse, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<OnnxWorkerRequest>) => void) | null;
};

let cache = new OnnxSessionCache(8);
const routes = new Map<number, { modelKey: string; inputNames: string[] | undefined; outputNames: string[] | undefined }>();

scope.onmessage = (event: MessageEvent<OnnxWorkerRequest>): void => {
  const message = event.data;
  if (message.type === "init") {
    cache = new OnnxSessionCache(message.sessionCacheSize, {
      wasmPaths: message.wasmPaths,
      executionProviders: message.executionProviders,
    });
    if (message.mailbox) void listen(new OnnxMailbox(message.mailbox));
    return;
  }
  if (message.route) {
    const { id, inputNames } = message.route;
    routes.set(id, { modelKey: message.modelKey, inputNames, outputNames: message.outputNames });
  }
  void run(message);
};

async function run(message: Extract<OnnxWorkerRequest, { type: "run" }>): Promise<void> {
  const { id, inputs } = message;
  try {
    const outputs = await cache.run(message.modelKey, message.model, inputs, message.outputNames);
    post(id, outputs);
  } catch (error) {
    if (error instanceof MissingModelError) {
      const tensors = Array.isArray(inputs) ? inputs : Object.values(inputs);
      scope.postMessage({ type: "missing-model", id, inputs }, tensors.map((t) => t.data.buffer as ArrayBuffer));
      return;
    }
    postError(id, error);
  }
}

function post(id: number, outputs: OnnxOutputs): void {
  const transfer: ArrayBuffer[] = [];
  for (const name in outputs) transfer.push(outputs[name]!.data.buffer as ArrayBuffer);
  scope.postMessage({ type: "result", id, outputs }, transfer);
}

function postError(id: number, error: unknown): void {
  const { name, message: text } = error instanceof Error ? error : { name: "Error", message: String(error) };
  scope.postMessage({ type: "error", id, name, message: text });
}

/** Answers the jobs posted to the mailbox: outputs back in it, or by message when they do not fit or the run failed. */
function listen(mailbox: OnnxMailbox): Promise<void> {
  return mailbox.listen(async (seq) => {
    const { id, route: routeId } = mailbox.job;
    const route = routes.get(routeId);
    if (!route) {
      mailbox.answer(seq, MailboxStatus.Posted);
      postError(id, new Error(`Unknown ONNX route ${routeId}`));
      return;
    }
    const tensors = mailbox.read();
    let inputs: Record<string, OnnxTensor> | OnnxTensor[] = tensors;
    if (route.inputNames) {
      inputs = {};
      for (let i = 0; i < tensors.length; i++) inputs[route.inputNames[i]!] = tensors[i]!;
    }
    let outputs: OnnxOutputs;
    try {
      outputs = await cache.run(route.modelKey, undefined, inputs, route.outputNames);
    } catch (error) {
      if (error instanceof MissingModelError) return mailbox.answer(seq, MailboxStatus.MissingModel);
      // Answered first, so the pool knows the job's message is coming before it can send another.
      mailbox.answer(seq, MailboxStatus.Posted);
      return postError(id, error);
    }
    if (mailbox.write(Object.values(outputs))) return mailbox.answer(seq, MailboxStatus.Done);
    mailbox.answer(seq, MailboxStatus.Posted);
    post(id, outputs);
  });
}
