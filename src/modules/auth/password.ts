import { randomBytes, scrypt, type ScryptOptions, timingSafeEqual } from "node:crypto";

/** scrypt cost parameters: N = 2^ln, block size r, parallelism p. */
export interface ScryptCost {
  /** log2 of N (default 15, 32 MiB of memory). */
  ln: number;
  /** Block size (default 8). */
  r: number;
  /** Parallelism (default 1). */
  p: number;
}

/** The default cost: N = 2^15, r = 8, p = 1. */
export const DEFAULT_SCRYPT_COST: Readonly<ScryptCost> = { ln: 15, r: 8, p: 1 };

const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
const FORMAT = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function derive(password: string, salt: Buffer, cost: ScryptCost, length: number): Promise<Buffer> {
  const options: ScryptOptions = { N: 2 ** cost.ln, r: cost.r, p: cost.p, maxmem: 256 * 2 ** cost.ln * cost.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize("NFC"), salt, length, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

const b64 = (bytes: Buffer): string => bytes.toString("base64").replace(/=+$/, "");

/**
 * Hashes a password with scrypt (`node:crypto`) into a self-describing
 * string, `$scrypt$ln=15,r=8,p=1$<salt>$<hash>` (PHC style, base64 without
 * padding), so any runtime verifies it whatever cost wrote it.
 *
 * @example
 * ```ts ignore
 * const stored = await hashPassword("correct horse");
 * await verifyPassword("correct horse", stored); // true
 * ```
 */
export async function hashPassword(password: string, cost: ScryptCost = DEFAULT_SCRYPT_COST): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const key = await derive(password, salt, cost, KEY_LENGTH);
  return `$scrypt$ln=${cost.ln},r=${cost.r},p=${cost.p}$${b64(salt)}$${b64(key)}`;
}

/** Reads the cost of an encoded hash, or null when it is not one of ours (or its cost is out of bounds). */
export function parsePasswordHash(encoded: string): { cost: ScryptCost; salt: Buffer; key: Buffer } | null {
  const match = FORMAT.exec(encoded);
  if (!match) return null;
  const cost = { ln: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  if (cost.ln < 1 || cost.ln > 20 || cost.r < 1 || cost.r > 32 || cost.p < 1 || cost.p > 16) return null;
  const key = Buffer.from(match[5]!, "base64");
  if (key.length < 16) return null;
  return { cost, salt: Buffer.from(match[4]!, "base64"), key };
}

/** Whether a password matches an encoded hash; compared in constant time. False for malformed hashes. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parsePasswordHash(encoded);
  if (!parsed) return false;
  const key = await derive(password, parsed.salt, parsed.cost, parsed.key.length);
  return timingSafeEqual(key, parsed.key);
}

/** Whether an encoded hash was made with a lower cost than `cost` (so it should be rehashed). */
export function needsRehash(encoded: string, cost: ScryptCost = DEFAULT_SCRYPT_COST): boolean {
  const parsed = parsePasswordHash(encoded);
  return !parsed || parsed.cost.ln < cost.ln || parsed.cost.r < cost.r || parsed.cost.p < cost.p;
}
