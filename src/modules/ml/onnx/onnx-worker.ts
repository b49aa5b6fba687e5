/**
 * The ONNX inference worker: one onnxruntime-web WASM session cache per
 * worker, answering `run` messages from {@link OnnxWorkerPool}. Tensors
 * travel as transferred buffers.
 *
 * @module
 */
import { MissingModelError, type OnnxOutputs, OnnxSessionCache, type OnnxTensor } from "./onnx-session.ts";

/** Messages the pool sends. */
export type OnnxWorkerRequest =
  | { type: "init"; sessionCacheSize: number; wasmPaths?: string; executionProviders?: string[] }
  | {
    type: "run";
    id: number;
    modelKey: string;
    model?: Uint8Array;
    inputs: Record<string, OnnxTensor> | OnnxTensor[];
    outputNames?: string[];
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

scope.onmessage = (event: MessageEvent<OnnxWorkerRequest>): void => {
  const message = event.data;
  if (message.type === "init") {
    cache = new OnnxSessionCache(message.sessionCacheSize, {
      wasmPaths: message.wasmPaths,
      executionProviders: message.executionProviders,
    });
    return;
  }
  void run(message);
};

async function run(message: Extract<OnnxWorkerRequest, { type: "run" }>): Promise<void> {
  const { id, inputs } = message;
  try {
    const outputs = await cache.run(message.modelKey, message.model, inputs, message.outputNames);
    const transfer: ArrayBuffer[] = [];
    for (const name in outputs) transfer.push(outputs[name]!.data.buffer as ArrayBuffer);
    scope.postMessage({ type: "result", id, outputs }, transfer);
  } catch (error) {
    if (error instanceof MissingModelError) {
      const tensors = Array.isArray(inputs) ? inputs : Object.values(inputs);
      scope.postMessage({ type: "missing-model", id, inputs }, tensors.map((t) => t.data.buffer as ArrayBuffer));
      return;
    }
    const { name, message: text } = error instanceof Error ? error : { name: "Error", message: String(error) };
    scope.postMessage({ type: "error", id, name, message: text });
  }
}
