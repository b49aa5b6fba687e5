/**
 * Node built-ins loaded on first use by synchronous code. `node:crypto` costs
 * a few milliseconds of start-up, so code that needs it synchronously (an
 * HMAC in a request handler) takes it through here instead of a static import.
 * Bun and Deno both implement `process.getBuiltinModule`.
 *
 * @module
 */

type NodeCrypto = typeof import("node:crypto");

let crypto: NodeCrypto | undefined;

/** `node:crypto`, loaded the first time it is asked for. */
export function nodeCrypto(): NodeCrypto {
  if (crypto) return crypto;
  const process = (globalThis as { process?: { getBuiltinModule?(id: string): unknown } }).process;
  const loaded = process?.getBuiltinModule?.("node:crypto") as NodeCrypto | undefined;
  if (!loaded) throw new Error("node:crypto is not available in this runtime");
  crypto = loaded;
  return loaded;
}
