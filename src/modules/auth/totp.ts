import { createHmac, randomBytes } from "node:crypto";
import { ConfigurationError } from "../../core/errors.ts";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 base32 without padding: how authenticator apps take TOTP secrets. */
export function base32Encode(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** Decodes base32 (case-insensitive, padding and spaces ignored). @throws {Error} on other characters. */
export function base32Decode(text: string): Uint8Array {
  const clean = text.toUpperCase().replace(/[\s=]/g, "");
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of clean) {
    const index = ALPHABET.indexOf(char);
    if (index < 0) throw new Error(`Invalid base32 character ${char}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return new Uint8Array(out);
}

/** A fresh TOTP secret: 20 random bytes (160 bits, RFC 4226's recommendation), base32. */
export function newTotpSecret(): string {
  return base32Encode(randomBytes(20));
}

/** TOTP parameters (RFC 6238 defaults: 30-second steps, 6 digits, HMAC-SHA1). */
export interface TotpOptions {
  /** Seconds per step (default 30). */
  step?: number;
  /** Digits of a code (default 6). */
  digits?: number;
}

/** The time step (RFC 6238 `T`) of a moment in milliseconds. */
export function totpCounter(nowMs: number, step = 30): number {
  return Math.floor(nowMs / 1000 / step);
}

/** The HOTP code (RFC 4226) of a base32 secret at a counter. */
export function hotp(secret: string, counter: number, digits = 6): string {
  const message = new Uint8Array(8);
  new DataView(message.buffer).setBigUint64(0, BigInt(counter));
  const digest = createHmac("sha1", base32Decode(secret)).update(message).digest();
  const offset = digest[digest.length - 1]! & 0x0f;
  const binary = ((digest[offset]! & 0x7f) << 24) | (digest[offset + 1]! << 16) | (digest[offset + 2]! << 8) | digest[offset + 3]!;
  return String(binary % 10 ** digits).padStart(digits, "0");
}

/**
 * The step a code was made for, looking `window` steps either side of now
 * (clock drift), or null when it matches none. Every candidate is compared,
 * so timing does not tell which step matched.
 */
export function matchTotp(secret: string, code: string, nowMs: number, options: TotpOptions & { window?: number } = {}): number | null {
  const digits = options.digits ?? 6;
  if (!new RegExp(`^\\d{${digits}}$`).test(code)) return null;
  const now = totpCounter(nowMs, options.step ?? 30);
  const window = options.window ?? 1;
  let found: number | null = null;
  for (let counter = now - window; counter <= now + window; counter++) {
    if (hotp(secret, counter, digits) === code && found === null) found = counter;
  }
  return found;
}

/** The `otpauth://totp/…` URI authenticator apps read from a QR code. */
export function otpauthUri(secret: string, options: { issuer: string; account: string } & TotpOptions): string {
  const label = `${encodeURIComponent(options.issuer)}:${encodeURIComponent(options.account)}`;
  const query = new URLSearchParams({
    secret,
    issuer: options.issuer,
    algorithm: "SHA1",
    digits: String(options.digits ?? 6),
    period: String(options.step ?? 30),
  });
  return `otpauth://totp/${label}?${query}`;
}

type Uqr = typeof import("uqr");
let uqr: Promise<Uqr> | undefined;

/**
 * The QR code of a text as an SVG document. Loads the optional `uqr`
 * package on first use. @throws {ConfigurationError} when it is not installed.
 */
export async function qrSvg(text: string): Promise<string> {
  uqr ??= import("uqr").catch(() => {
    uqr = undefined;
    throw new ConfigurationError("QR codes of MFA enrolment need the uqr package: bun add uqr (or npm install uqr)");
  });
  return (await uqr).renderSVG(text, { ecc: "M", border: 2 });
}
