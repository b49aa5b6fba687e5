import { BadRequestError } from "../core/errors.ts";

/** A byte range, both ends inclusive (as HTTP `Range: bytes=start-end`). */
export interface ByteRange {
  /** First byte, from 0. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

/** What a backend knows of one stored blob. */
export interface BlobInfo {
  /** The blob's key. */
  key: string;
  /** Size in bytes. */
  size: number;
}

/** A body a blob is written from: bytes at hand, or a stream read once. */
export type BlobBody = Uint8Array | ReadableStream<Uint8Array>;

/** Options of {@link BlobStore.presign}. */
export interface PresignOptions {
  /** `GET` (default) downloads, `PUT` uploads. */
  method?: "GET" | "PUT";
  /** Seconds the URL stays valid (default 900). */
  expiresIn?: number;
}

/**
 * Where blobs (opaque bytes under a key) live: the database (default, in
 * chunks), a directory, S3 or an S3-compatible service, Azure Blob Storage.
 * Keys are `/`-separated segments of letters, digits, `.`, `_`, `-`.
 * Writes are whole: a reader sees the previous blob or the new one, never a
 * part. Backends stream both ways, so a blob never needs to fit in memory.
 */
export interface BlobStore {
  /** `db`, `file`, `s3` or `azure`. */
  readonly kind: string;
  /** Writes (or replaces) the blob under `key`; resolves once it is durable. */
  put(key: string, body: BlobBody): Promise<BlobInfo>;
  /** The whole blob, or null when there is none. */
  get(key: string): Promise<Uint8Array | null>;
  /** The blob (or the bytes of `range`) as a stream, or null when there is none. */
  stream(key: string, range?: ByteRange): Promise<ReadableStream<Uint8Array> | null>;
  /** The blob's size, or null when there is none. */
  head(key: string): Promise<BlobInfo | null>;
  /** Removes the blob; resolves false when there was none. */
  delete(key: string): Promise<boolean>;
  /** Every blob whose key starts with `prefix`, in key order. */
  list(prefix?: string): AsyncIterable<BlobInfo>;
  /** Moves a blob to another key (replacing what is there), without passing its bytes through this process where the backend can. */
  rename(from: string, to: string): Promise<void>;
  /** A URL that reads (or writes) the blob without credentials, valid for a while; null where the backend cannot make one (db, file). */
  presign(key: string, options?: PresignOptions): Promise<string | null>;
}

const SEGMENT = /^[A-Za-z0-9._-]+$/;

/**
 * Checks a blob key: `/`-separated segments of letters, digits, `.`, `_`,
 * `-`, none of them `.` or `..`, at most 512 characters.
 *
 * @throws {BadRequestError} naming the key.
 */
export function checkBlobKey(key: string): string {
  const ok = key.length > 0 && key.length <= 512 &&
    key.split("/").every((segment) => SEGMENT.test(segment) && segment !== "." && segment !== "..");
  if (!ok) throw new BadRequestError(`Invalid blob key ${JSON.stringify(key)}: use /-separated segments of letters, digits, '.', '_' and '-'`);
  return key;
}

/** The whole of a stream a backend opened, or null when the blob was missing: `get` for stream-first backends. */
export async function wholeBlob(stream: ReadableStream<Uint8Array> | null): Promise<Uint8Array | null> {
  return stream ? new Uint8Array(await new Response(stream).arrayBuffer()) : null;
}
