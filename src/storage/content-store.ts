import { createHash } from "node:crypto";
import { ConflictError, NotFoundError } from "../core/errors.ts";
import { newUlid, ulidTime } from "../core/ulid.ts";
import type { Driver, Executor } from "../db/driver.ts";
import type { BlobBody, BlobStore, ByteRange } from "./blob-store.ts";
import { type ContentEncoding, decode, encode, isCompressible } from "./_codecs.ts";
import { readAll, sliceStream, tap, toStream } from "./_streams.ts";

export type { ContentEncoding } from "./_codecs.ts";
export { isCompressible } from "./_codecs.ts";

/** Stored content, named by what it is: the SHA-256 of its bytes. */
export interface ContentRef {
  /** Lower-case hex SHA-256 of the original (uncompressed) bytes. */
  digest: string;
  /** Size of the original bytes. */
  size: number;
}

/** What the content index knows of one stored content. */
export interface ContentInfo extends ContentRef {
  /** Bytes at rest (after compression). */
  storedSize: number;
  /** `identity`, `gzip` or `zstd`. */
  encoding: ContentEncoding;
  /** How many holders refer to it; 0 makes it collectable once the grace period has passed. */
  refcount: number;
}

/** Options of {@link ContentStore}. */
export interface ContentStoreOptions {
  /** The database that holds the content index (`storage` migrations applied). */
  db: Driver;
  /** Where the bytes go. */
  blobs: BlobStore;
  /** Compression at rest of compressible media types (default `none`). */
  compression?: "none" | "gzip" | "zstd";
}

/** Options of {@link ContentStore.collect}. */
export interface CollectOptions {
  /** Unreferenced content younger than this is kept, since its holder may be committing (default 1 hour). */
  graceMs?: number;
}

/** What one {@link ContentStore.collect} removed. */
export interface CollectReport {
  /** Contents removed from the index and the backend. */
  removed: number;
  /** Bytes freed at rest. */
  bytes: number;
  /** Leftovers of interrupted uploads removed. */
  staging: number;
}

const STAGING = "staging/";

interface Row extends Record<string, unknown> {
  digest: string;
  size: number | string;
  stored_size: number | string;
  encoding: string;
  refcount: number | string;
}

function toInfo(row: Row): ContentInfo {
  return {
    digest: row.digest,
    size: Number(row.size),
    storedSize: Number(row.stored_size),
    encoding: row.encoding as ContentEncoding,
    refcount: Number(row.refcount),
  };
}

/**
 * Content-addressed payloads over any {@link BlobStore}: bytes are stored
 * once under their SHA-256 (`sha256/ab/abcd…`), whoever uploads them and
 * however often; the index (`chapkit_content`) keeps sizes, the encoding at
 * rest and a reference count. Holders (artifacts, and any module that
 * versions data) call {@link ContentStore.retain} in the transaction that
 * records the digest and {@link ContentStore.release} in the one that drops
 * it; {@link ContentStore.collect} removes what nobody holds.
 *
 * A digest is a stable, verifiable name of the bytes: equal digests mean
 * equal payloads, which is what data versioning builds on.
 *
 * @example
 * ```ts ignore
 * const ref = await content.put(request.body!, { contentType: "text/csv" });
 * await db.transaction(async (tx) => {
 *   await content.retain(ref.digest, tx);
 *   await tx.exec(`UPDATE "datasets" SET "digest" = ? WHERE "id" = ?`, [ref.digest, id]);
 * });
 * ```
 */
export class ContentStore {
  /** The backend the bytes live in. */
  readonly blobs: BlobStore;
  readonly #db: Driver;
  readonly #compression: "none" | "gzip" | "zstd";

  /** Creates the store over an index database and a blob backend. */
  constructor(options: ContentStoreOptions) {
    this.#db = options.db;
    this.blobs = options.blobs;
    this.#compression = options.compression ?? "none";
  }

  /** The blob key of a content: `sha256/<2 hex>/<digest>` plus `.gz` or `.zst` when compressed. */
  static keyOf(digest: string, encoding: ContentEncoding = "identity"): string {
    const suffix = encoding === "gzip" ? ".gz" : encoding === "zstd" ? ".zst" : "";
    return `sha256/${digest.slice(0, 2)}/${digest}${suffix}`;
  }

  /**
   * Stores a body (streamed, never held whole) and answers its digest and
   * size. Content already stored is not stored again. The result is not yet
   * held: retain it, or it is collected after the grace period.
   */
  async put(body: BlobBody, options: { contentType?: string } = {}): Promise<ContentRef> {
    const hash = createHash("sha256");
    let size = 0;
    const encoding: ContentEncoding = this.#compression !== "none" && isCompressible(options.contentType) ? this.#compression : "identity";
    const stream = encode(tap(toStream(body), (chunk) => {
      hash.update(chunk);
      size += chunk.byteLength;
    }), encoding);
    const staging = `${STAGING}${newUlid()}`;
    const stored = await this.blobs.put(staging, stream);
    const digest = hash.digest("hex");
    try {
      const now = new Date().toISOString();
      const { changes } = await this.#db.exec(`UPDATE "chapkit_content" SET "touched_at" = ? WHERE "digest" = ?`, [now, digest]);
      if (changes > 0) {
        await this.blobs.delete(staging);
        return { digest, size };
      }
      try {
        await this.blobs.rename(staging, ContentStore.keyOf(digest, encoding));
      } catch (error) {
        // Another writer stored the same bytes at the same moment: its blob is this content.
        if (!(error instanceof ConflictError)) throw error;
        await this.blobs.delete(staging).catch(() => false);
      }
      await this.#db.exec(
        `INSERT INTO "chapkit_content" ("digest", "size", "stored_size", "encoding", "refcount", "created_at", "touched_at") VALUES (?, ?, ?, ?, 0, ?, ?)
         ON CONFLICT ("digest") DO UPDATE SET "touched_at" = excluded."touched_at"`,
        [digest, size, stored.size, encoding, now, now],
      );
    } catch (error) {
      await this.blobs.delete(staging).catch(() => false);
      throw error;
    }
    return { digest, size };
  }

  /** Adds a reference (run it in the holder's transaction). @throws {ConflictError} when the content was collected meanwhile. */
  async retain(digest: string, executor: Executor = this.#db): Promise<void> {
    const { changes } = await executor.exec(
      `UPDATE "chapkit_content" SET "refcount" = "refcount" + 1, "touched_at" = ? WHERE "digest" = ?`,
      [new Date().toISOString(), digest],
    );
    if (changes === 0) throw new ConflictError(`Content ${digest} is no longer stored; upload it again`);
  }

  /** Drops a reference (run it in the holder's transaction); the content stays until {@link ContentStore.collect}. */
  async release(digest: string, executor: Executor = this.#db): Promise<void> {
    await executor.exec(
      `UPDATE "chapkit_content" SET "refcount" = CASE WHEN "refcount" > 0 THEN "refcount" - 1 ELSE 0 END, "touched_at" = ? WHERE "digest" = ?`,
      [new Date().toISOString(), digest],
    );
  }

  /** The index entry of a content, or null. */
  async info(digest: string): Promise<ContentInfo | null> {
    const rows = await this.#db.query<Row>(
      `SELECT "digest", "size", "stored_size", "encoding", "refcount" FROM "chapkit_content" WHERE "digest" = ?`,
      [digest],
    );
    return rows[0] ? toInfo(rows[0]) : null;
  }

  /**
   * The original bytes (or those of `range`) as a stream, decompressed as
   * they are read. @throws {NotFoundError} unknown content.
   */
  async stream(digest: string, range?: ByteRange): Promise<ReadableStream<Uint8Array>> {
    const info = await this.info(digest);
    if (!info) throw new NotFoundError(`Content ${digest} is not stored`);
    const plain = info.encoding === "identity";
    const stored = await this.blobs.stream(ContentStore.keyOf(digest, info.encoding), plain ? range : undefined);
    if (!stored) throw new NotFoundError(`Content ${digest} is indexed but its bytes are missing from the ${this.blobs.kind} store`);
    if (plain) return stored;
    const decoded = decode(stored, info.encoding);
    return range ? sliceStream(decoded, range) : decoded;
  }

  /** The original bytes, whole. @throws {NotFoundError} unknown content. */
  async bytes(digest: string): Promise<Uint8Array> {
    return readAll(await this.stream(digest));
  }

  /**
   * Removes content no one holds (reference count 0, untouched for the grace
   * period) from the index and the backend, and leftovers of interrupted
   * uploads; safe to run on several instances at once.
   */
  async collect(options: CollectOptions = {}): Promise<CollectReport> {
    const graceMs = options.graceMs ?? 3600_000;
    const cutoff = new Date(Date.now() - graceMs).toISOString();
    const rows = await this.#db.query<Row>(
      `SELECT "digest", "size", "stored_size", "encoding", "refcount" FROM "chapkit_content" WHERE "refcount" <= 0 AND "touched_at" < ?`,
      [cutoff],
    );
    const report: CollectReport = { removed: 0, bytes: 0, staging: 0 };
    for (const row of rows) {
      const { changes } = await this.#db.exec(
        `DELETE FROM "chapkit_content" WHERE "digest" = ? AND "refcount" <= 0 AND "touched_at" < ?`,
        [row.digest, cutoff],
      );
      if (changes === 0) continue;
      await this.blobs.delete(ContentStore.keyOf(row.digest, row.encoding as ContentEncoding));
      report.removed += 1;
      report.bytes += Number(row.stored_size);
    }
    const stale = Date.now() - Math.max(graceMs, 60_000);
    for await (const blob of this.blobs.list(STAGING)) {
      const id = blob.key.slice(STAGING.length);
      if (ulidTime(id) < stale && (await this.blobs.delete(blob.key))) report.staging += 1;
    }
    return report;
  }
}
