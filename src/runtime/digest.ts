/** `Bun.CryptoHasher`, the part used here; absent on Deno. */
type Hasher = new (algorithm: "sha256") => { update(data: string): { digest(encoding: "hex"): string } };

const BunHasher = (globalThis as { Bun?: { CryptoHasher?: Hasher } }).Bun?.CryptoHasher;

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));

/**
 * SHA-256 of the UTF-8 bytes of `text`, as lowercase hex. On Bun it is hashed
 * on the calling thread (Web Crypto's digest hands the work to another thread
 * and back, which on a busy machine costs milliseconds at start-up); on Deno
 * Web Crypto does it (node:crypto would cost start-up time to load).
 */
export async function sha256Hex(text: string): Promise<string> {
  if (BunHasher) return new BunHasher("sha256").update(text).digest("hex");
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  let hex = "";
  for (const byte of new Uint8Array(digest)) hex += HEX[byte]!;
  return hex;
}
