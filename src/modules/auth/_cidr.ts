/** An address range: the address's bytes and how many leading bits must match. */
export interface AddressRange {
  bytes: Uint8Array;
  bits: number;
}

function ipv4Bytes(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return null;
    bytes[i] = Number(part);
  }
  return bytes;
}

function ipv6Bytes(text: string): Uint8Array | null {
  let source = text;
  let tail: number[] = [];
  const lastColon = source.lastIndexOf(":");
  if (source.includes(".")) {
    const v4 = ipv4Bytes(source.slice(lastColon + 1));
    if (!v4) return null;
    tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    source = `${source.slice(0, lastColon + 1)}0`;
  }
  const halves = source.split("::");
  if (halves.length > 2) return null;
  const group = (part: string): number[] | null => {
    if (part === "") return [];
    const out: number[] = [];
    for (const piece of part.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) return null;
      out.push(parseInt(piece, 16));
    }
    return out;
  };
  const head = group(halves[0]!);
  const rest = halves.length === 2 ? group(halves[1]!) : [];
  if (!head || !rest) return null;
  if (tail.length > 0) (rest.length > 0 ? rest : head).pop();
  const fill = 8 - head.length - rest.length - tail.length;
  if (halves.length === 1 ? fill !== 0 : fill < 1) return null;
  const words = [...head, ...new Array<number>(fill).fill(0), ...rest, ...tail];
  const bytes = new Uint8Array(16);
  words.forEach((word, i) => {
    bytes[i * 2] = word >> 8;
    bytes[i * 2 + 1] = word & 0xff;
  });
  return bytes;
}

/** The bytes of an IPv4 or IPv6 address (an IPv4-mapped IPv6 address as IPv4), or null. */
export function addressBytes(text: string): Uint8Array | null {
  const plain = text.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  if (!plain.includes(":")) return ipv4Bytes(plain);
  const bytes = ipv6Bytes(plain);
  if (bytes && bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return bytes.slice(12);
  return bytes;
}

/** Parses `10.0.0.0/8`, `::1`, `fd00::/8` or a single address. @throws {Error} when malformed. */
export function parseRange(text: string): AddressRange {
  const [address = "", prefix] = text.trim().split("/", 2);
  const bytes = addressBytes(address);
  const bits = prefix === undefined ? (bytes?.length ?? 0) * 8 : Number(prefix);
  if (!bytes || !Number.isInteger(bits) || bits < 0 || bits > bytes.length * 8) throw new Error(`Invalid address range ${text}`);
  return { bytes, bits };
}

/** Whether an address lies in a range (an IPv4 address never matches an IPv6 range). */
export function inRange(address: Uint8Array, range: AddressRange): boolean {
  if (address.length !== range.bytes.length) return false;
  for (let bit = 0; bit < range.bits; bit += 8) {
    const mask = range.bits - bit >= 8 ? 0xff : (0xff << (8 - (range.bits - bit))) & 0xff;
    const i = bit / 8;
    if ((address[i]! & mask) !== (range.bytes[i]! & mask)) return false;
  }
  return true;
}
