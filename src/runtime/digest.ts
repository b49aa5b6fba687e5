import { hexOf } from "../core/hex.ts";

/** `Bun.CryptoHasher`, the part used here; absent on Deno. */
type Hasher = new (algorithm: "sha256") => { update(data: string): { digest(encoding: "hex"): string } };

const BunHasher = (globalThis as { Bun?: { CryptoHasher?: Hasher } }).Bun?.CryptoHasher;

/**
 * SHA-256 of `bytes` as lowercase hex, by Web Crypto: the work is done off
 * the calling thread, so a large payload does not hold it up.
 */
export async function sha256HexOfBytes(bytes: Uint8Array): Promise<string> {
  return hexOf(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>)));
}

/**
 * SHA-256 of the UTF-8 bytes of `text`, as lowercase hex. On Bun it is hashed
 * on the calling thread (Web Crypto's digest hands the work to another thread
 * and back, which on a busy machine costs milliseconds at start-up); on Deno
 * Web Crypto does it (node:crypto would cost start-up time to load).
 */
export function sha256Hex(text: string): Promise<string> {
  if (BunHasher) return Promise.resolve(new BunHasher("sha256").update(text).digest("hex"));
  return sha256HexOfBytes(new TextEncoder().encode(text));
}
