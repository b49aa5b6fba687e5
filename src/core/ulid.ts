import { InvalidUlidError } from "./errors.ts";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const ULID_PATTERN = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

let lastTime = -1;
let timePrefix = "";
// The 80 random bits as 16 base-32 digits, incremented in place within a millisecond.
const digits = new Uint8Array(16);
const bytes = new Uint8Array(10);

function encodeTime(time: number): string {
  let out = "";
  let t = time;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32] + out;
    t = Math.floor(t / 32);
  }
  return out;
}

// The first 15 random digits as text: within a millisecond an increment nearly always moves only the last one.
let head = "";

function encodeHead(): void {
  head = "";
  for (let i = 0; i < 15; i++) head += ALPHABET[digits[i]!];
}

function freshDigits(): void {
  crypto.getRandomValues(bytes);
  // 80 bits -> 16 five-bit digits, most significant first.
  let buffer = 0;
  let bits = 0;
  let d = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      digits[d++] = (buffer >> bits) & 31;
    }
    buffer &= (1 << bits) - 1;
  }
  encodeHead();
}

function incrementDigits(): boolean {
  for (let i = 15; i >= 0; i--) {
    if (digits[i] !== 31) {
      digits[i] = digits[i]! + 1;
      if (i < 15) encodeHead();
      return true;
    }
    digits[i] = 0;
  }
  return false;
}

function randomPart(): string {
  return head + ALPHABET[digits[15]!];
}

/**
 * Generates a new ULID: a 48-bit millisecond timestamp and 80 random bits,
 * upper-case Crockford base32. ULIDs made within one millisecond increase
 * monotonically, so they sort in creation order. `now` (default: the clock)
 * is the millisecond to encode.
 *
 * @example
 * ```ts
 * import { newUlid } from "./ulid.ts";
 * const id = newUlid(); // "01K79YAHJ7BR4E87VVTG8FNBMA"
 * ```
 */
export function newUlid(now: number = Date.now()): string {
  if (now === lastTime && incrementDigits()) return timePrefix + randomPart();
  // Any other time (later, or earlier: a clock step or a caller-given time) starts afresh
  // there, so an id never carries a time it was not made at.
  lastTime = now;
  timePrefix = encodeTime(now);
  freshDigits();
  return timePrefix + randomPart();
}

/** True when `value` is a canonical ULID: 26 upper-case Crockford characters, first one `0`–`7`. */
export function isUlid(value: unknown): value is string {
  return typeof value === "string" && ULID_PATTERN.test(value);
}

/**
 * Parses a ULID strictly (contract §3.1): lower case, `I L O U`, a wrong
 * length or a first character above `7` are rejected.
 *
 * @throws {InvalidUlidError} when `value` is not a canonical ULID.
 */
export function parseUlid(value: string, instance?: string): string {
  if (!isUlid(value)) throw new InvalidUlidError(value, instance);
  return value;
}

/** The millisecond timestamp encoded in a ULID. */
export function ulidTime(id: string): number {
  let time = 0;
  for (let i = 0; i < 10; i++) time = time * 32 + ALPHABET.indexOf(id[i]!);
  return time;
}
