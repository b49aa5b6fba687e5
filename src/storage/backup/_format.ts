/**
 * The backup archive: gzip-compressed NDJSON, one record a line.
 *
 * 1. the manifest (`format`, `version`, dialect, migration history, tables and their columns);
 * 2. per table, `{"table": name}` then `{"rows": [[...], ...]}` batches, values in the manifest's column order;
 * 3. per blob, `{"blob": key, "size": n}`, `{"data": base64}` chunks, `{"sha256": hex}`;
 * 4. `{"end": {"tables": {name: rows}, "blobs": n, "bytes": n}}`: an archive without it is truncated.
 *
 * Values are JSON; bytes are `{"$b": base64}`, non-finite numbers `{"$n": "NaN"}`,
 * timestamps ISO 8601 strings, JSON columns their JSON text.
 */
import { Buffer } from "node:buffer";
import { BadRequestError } from "../../core/errors.ts";
import type { DialectName } from "../../db/driver.ts";
import type { ColumnKind } from "./_tables.ts";

/** The `format` of a chapkit backup's manifest. */
export const ARCHIVE_FORMAT = "chapkit-backup";
/** The archive layout version this code writes and reads. */
export const ARCHIVE_VERSION = 1;

/** The first line of an archive. */
export interface Manifest {
  format: typeof ARCHIVE_FORMAT;
  version: number;
  /** What wrote it, e.g. `chapkit 0.1.0`. */
  producer: string;
  created_at: string;
  dialect: DialectName;
  /** The blob backend the blobs were read from (`db`, `file`, ...). */
  blob_store: string;
  /** The applied migrations of the source, `module#version`. */
  migrations: string[];
  tables: { name: string; columns: { name: string; type: string; kind: ColumnKind }[] }[];
}

/** The last line of an archive: what it holds, checked by a restore. */
export interface Trailer {
  tables: Record<string, number>;
  blobs: number;
  bytes: number;
}

/** A value as it travels in the archive. */
export type ArchiveValue = string | number | boolean | null | { $b: string } | { $n: string };

/** A value read from a store, made archive-ready by the kind of its column. */
export function encodeValue(value: unknown, kind: ColumnKind): ArchiveValue {
  if (value === null || value === undefined) return null;
  if (value instanceof Uint8Array) return { $b: toBase64(value) };
  if (value instanceof ArrayBuffer) return { $b: toBase64(new Uint8Array(value)) };
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") return Number.isFinite(value) ? value : { $n: String(value) };
  if (typeof value === "boolean" || typeof value === "string") return value;
  // JSON the driver parsed (a PostgreSQL array or a json column read without a cast).
  return kind === "json" || typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** An archive value as a bound parameter: bytes decoded; the target's column kind does the rest. */
export function decodeValue(value: unknown): string | number | boolean | null | Uint8Array {
  if (value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  if (typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (typeof record.$b === "string") return fromBase64(record.$b);
    if (typeof record.$n === "string") return Number(record.$n);
  }
  throw corrupt(`unexpected value ${JSON.stringify(value)}`);
}

/** The error of an archive that cannot be read to its end. */
export function corrupt(why: string, cause?: unknown): BadRequestError {
  return new BadRequestError(`The backup archive is corrupt or truncated: ${why}`, cause === undefined ? undefined : { cause });
}

/** Bytes as base64. */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** Base64 as bytes. */
export function fromBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "base64"));
}

/**
 * The records of a gzip'd NDJSON archive, parsed, one at a time (memory
 * holds one line). A gzip error, an unparsable line or a missing newline at
 * the end is reported as {@link corrupt}.
 */
export async function* readRecords(archive: ReadableStream<Uint8Array>): AsyncGenerator<Record<string, unknown>> {
  const text = archive.pipeThrough(new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>).pipeThrough(new TextDecoderStream("utf-8", { fatal: true }) as unknown as TransformStream<Uint8Array, string>);
  const reader = text.getReader();
  let pending = "";
  let line = 0;
  try {
    for (;;) {
      const chunk = await reader.read().catch((error: unknown) => {
        throw corrupt(`cannot decompress it (${error instanceof Error ? error.message : String(error)})`, error);
      });
      if (chunk.done) break;
      pending += chunk.value;
      let start = 0;
      for (let end = pending.indexOf("\n"); end !== -1; end = pending.indexOf("\n", start)) {
        line += 1;
        const source = pending.slice(start, end);
        start = end + 1;
        let record: unknown;
        try {
          record = JSON.parse(source);
        } catch (error) {
          throw corrupt(`line ${line} is not JSON`, error);
        }
        if (typeof record !== "object" || record === null || Array.isArray(record)) throw corrupt(`line ${line} is not a record`);
        yield record as Record<string, unknown>;
      }
      pending = pending.slice(start);
    }
    if (pending.length > 0) throw corrupt(`line ${line + 1} is cut off`);
  } finally {
    reader.cancel().catch(() => {});
  }
}

/**
 * Writes lines to a gzip'd stream, in pieces of about 64 KiB so that small
 * records do not cost a compression step each.
 */
export class RecordWriter {
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #piped: Promise<void>;
  readonly #encoder = new TextEncoder();
  #buffer: string[] = [];
  #buffered = 0;

  constructor(out: WritableStream<Uint8Array>) {
    const gzip = new CompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>;
    this.#piped = gzip.readable.pipeTo(out);
    this.#piped.catch(() => {});
    this.#writer = gzip.writable.getWriter();
  }

  /** Appends one record. */
  async write(record: unknown): Promise<void> {
    const line = `${JSON.stringify(record)}\n`;
    this.#buffer.push(line);
    this.#buffered += line.length;
    if (this.#buffered >= 65536) await this.#flush();
  }

  async #flush(): Promise<void> {
    if (this.#buffer.length === 0) return;
    const text = this.#buffer.join("");
    this.#buffer = [];
    this.#buffered = 0;
    await this.#writer.write(this.#encoder.encode(text));
  }

  /** Writes what is buffered, ends the gzip stream and waits until `out` has taken it all. */
  async close(): Promise<void> {
    await this.#flush();
    await this.#writer.close();
    await this.#piped;
  }

  /** Abandons the archive: `out` is aborted with `reason`. */
  async abort(reason: unknown): Promise<void> {
    await this.#writer.abort(reason).catch(() => {});
    await this.#piped.catch(() => {});
  }
}
