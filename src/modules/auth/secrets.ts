import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** A fresh high-entropy secret (32 random bytes, base64url) with a readable prefix, e.g. `ck_…`. */
export function newSecret(prefix: string): string {
  return `${prefix}${randomBytes(32).toString("base64url")}`;
}

/** SHA-256 of a secret as hex: how keys and refresh tokens are stored (they carry 256 bits of entropy). */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/**
 * Compares two secrets (or their hashes) in constant time with respect to
 * their content: both are hashed to equal-length digests first, so neither
 * the content nor the length of the expected value leaks through timing.
 */
export function secretsEqual(a: string, b: string): boolean {
  const left = createHash("sha256").update(a, "utf8").digest();
  const right = createHash("sha256").update(b, "utf8").digest();
  return timingSafeEqual(left, right);
}

/** The first characters of a secret, shown in listings to tell keys apart. */
export function secretPrefix(secret: string): string {
  return secret.slice(0, 10);
}
