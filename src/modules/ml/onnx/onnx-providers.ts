/**
 * Choosing onnxruntime-web's execution provider: WebGPU where the runtime
 * has a GPU adapter, WASM otherwise; the choice is reported, never silent.
 *
 * @module
 */

/** An execution provider a model can ask for. */
export type ExecutionProviderName = "wasm" | "webgpu";

/** What was asked for, what runs, and why they differ. */
export interface ExecutionProviderChoice {
  /** What the model asked for. */
  requested: ExecutionProviderName;
  /** What its sessions use. */
  used: ExecutionProviderName;
  /** Why `used` differs from `requested`, or null. */
  fallback_reason: string | null;
}

interface GpuNavigator {
  gpu?: { requestAdapter(): Promise<unknown> };
}

/**
 * Resolves a requested provider: `webgpu` is used when `navigator.gpu`
 * exists and hands out an adapter (and `probe`, for tests, agrees);
 * otherwise WASM with the reason.
 */
export async function chooseExecutionProvider(
  requested: ExecutionProviderName = "wasm",
  probe: () => Promise<string | null> = webGpuUnavailable,
): Promise<ExecutionProviderChoice> {
  if (requested === "wasm") return { requested, used: "wasm", fallback_reason: null };
  const reason = await probe().catch((error: unknown) => `WebGPU adapter request failed: ${String(error)}`);
  return reason === null ? { requested, used: "webgpu", fallback_reason: null } : { requested, used: "wasm", fallback_reason: reason };
}

/** Null when WebGPU can be used here, else why not. */
export async function webGpuUnavailable(): Promise<string | null> {
  const gpu = (globalThis as { navigator?: GpuNavigator }).navigator?.gpu;
  if (!gpu || typeof gpu.requestAdapter !== "function") return "WebGPU is not available in this runtime (no navigator.gpu)";
  const adapter = await gpu.requestAdapter();
  return adapter ? null : "WebGPU found no GPU adapter";
}

/** The providers a session is created with: the chosen one, WASM behind WebGPU as onnxruntime's own fallback. */
export function sessionProviders(choice: ExecutionProviderName): string[] {
  return choice === "webgpu" ? ["webgpu", "wasm"] : ["wasm"];
}
