import { newUlid, ulidTime } from "../core/ulid.ts";
import type { Driver } from "../db/driver.ts";
import { type BlobBody, type BlobInfo, type BlobStore, type ByteRange, checkBlobKey } from "./blob-store.ts";
import { fromIterable, pieces } from "./_streams.ts";

/** Options of {@link DatabaseBlobStore}. */
export interface DatabaseBlobStoreOptions {
  /** Bytes per stored chunk (default 1 MiB); SQLite and PostgreSQL cap one value near 1 GB. */
  chunkSize?: number;
}

const DEFAULT_CHUNK = 1024 * 1024;
// Chunks read per query while streaming: few round trips, little memory.
const CHUNKS_PER_READ = 4;

function toBytes(value: unknown): Uint8Array {
  // A plain view, also of a driver's Buffer.
  if (value instanceof Uint8Array) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return new Uint8Array(value as ArrayBuffer);
}

interface BlobRow extends Record<string, unknown> {
  blob_id: string;
  size: number | string;
  chunk_size: number | string;
}

/**
 * Blobs in the service's own database (the default backend): one row per key
 * in `chapkit_blobs`, the bytes in `chapkit_blob_chunks` in chunks of 1 MiB,
 * so no single value approaches the databases' 1 GB cap and a stream holds a
 * few chunks at a time. Chunks are written first under a fresh id, then the
 * key is pointed at them in one short transaction: readers never see a
 * partial blob, and a write never holds the store's write lock for long.
 */
export class DatabaseBlobStore implements BlobStore {
  /** Always `db`. */
  readonly kind = "db";
  readonly #db: Driver;
  readonly #chunkSize: number;

  /** Opens the store on a database the `storage` migrations ran on. */
  constructor(db: Driver, options: DatabaseBlobStoreOptions = {}) {
    this.#db = db;
    this.#chunkSize = options.chunkSize ?? DEFAULT_CHUNK;
  }

  async put(key: string, body: BlobBody): Promise<BlobInfo> {
    checkBlobKey(key);
    const blobId = newUlid();
    let size = 0;
    let seq = 0;
    try {
      for await (const piece of pieces(body, this.#chunkSize)) {
        await this.#db.exec(`INSERT INTO "chapkit_blob_chunks" ("blob_id", "seq", "bytes") VALUES (?, ?, ?)`, [blobId, seq, piece]);
        seq += 1;
        size += piece.byteLength;
      }
      await this.#db.transaction(async (tx) => {
        const old = await tx.query<{ blob_id: string }>(`SELECT "blob_id" FROM "chapkit_blobs" WHERE "key" = ?`, [key]);
        await tx.exec(
          `INSERT INTO "chapkit_blobs" ("key", "blob_id", "size", "chunk_size", "created_at") VALUES (?, ?, ?, ?, ?)
           ON CONFLICT ("key") DO UPDATE SET "blob_id" = excluded."blob_id", "size" = excluded."size", "chunk_size" = excluded."chunk_size", "created_at" = excluded."created_at"`,
          [key, blobId, size, this.#chunkSize, new Date().toISOString()],
        );
        if (old[0]) await tx.exec(`DELETE FROM "chapkit_blob_chunks" WHERE "blob_id" = ?`, [old[0].blob_id]);
      });
    } catch (error) {
      await this.#db.exec(`DELETE FROM "chapkit_blob_chunks" WHERE "blob_id" = ?`, [blobId]).catch(() => {});
      throw error;
    }
    return { key, size };
  }

  async get(key: string): Promise<Uint8Array | null> {
    const row = await this.#row(key);
    if (!row) return null;
    const out = new Uint8Array(Number(row.size));
    let offset = 0;
    for await (const chunk of this.#chunks(row, 0, Number(row.size) - 1)) {
      out.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return out;
  }

  async stream(key: string, range?: ByteRange): Promise<ReadableStream<Uint8Array> | null> {
    const row = await this.#row(key);
    if (!row) return null;
    const size = Number(row.size);
    return fromIterable(this.#chunks(row, range?.start ?? 0, Math.min(range?.end ?? size - 1, size - 1)));
  }

  async head(key: string): Promise<BlobInfo | null> {
    const row = await this.#row(key);
    return row ? { key, size: Number(row.size) } : null;
  }

  async delete(key: string): Promise<boolean> {
    return this.#db.transaction(async (tx) => {
      const rows = await tx.query<{ blob_id: string }>(`SELECT "blob_id" FROM "chapkit_blobs" WHERE "key" = ?`, [key]);
      if (!rows[0]) return false;
      await tx.exec(`DELETE FROM "chapkit_blobs" WHERE "key" = ?`, [key]);
      await tx.exec(`DELETE FROM "chapkit_blob_chunks" WHERE "blob_id" = ?`, [rows[0].blob_id]);
      return true;
    });
  }

  async *list(prefix = ""): AsyncIterable<BlobInfo> {
    let after = "";
    for (;;) {
      const rows = await this.#db.query<{ key: string; size: number | string }>(
        `SELECT "key", "size" FROM "chapkit_blobs" WHERE "key" > ? AND substr("key", 1, ?) = ? ORDER BY "key" LIMIT 500`,
        [after, prefix.length, prefix],
      );
      for (const row of rows) yield { key: row.key, size: Number(row.size) };
      if (rows.length < 500) return;
      after = rows[rows.length - 1]!.key;
    }
  }

  async rename(from: string, to: string): Promise<void> {
    checkBlobKey(to);
    await this.#db.transaction(async (tx) => {
      const target = await tx.query<{ blob_id: string }>(`SELECT "blob_id" FROM "chapkit_blobs" WHERE "key" = ?`, [to]);
      if (target[0]) {
        await tx.exec(`DELETE FROM "chapkit_blobs" WHERE "key" = ?`, [to]);
        await tx.exec(`DELETE FROM "chapkit_blob_chunks" WHERE "blob_id" = ?`, [target[0].blob_id]);
      }
      const { changes } = await tx.exec(`UPDATE "chapkit_blobs" SET "key" = ? WHERE "key" = ?`, [to, from]);
      if (changes === 0) throw new Error(`No blob under ${from}`);
    });
  }

  presign(_key: string): Promise<string | null> {
    return Promise.resolve(null);
  }

  /** Removes chunks that no key points at and that are older than `olderThanMs` (left by interrupted writes); returns how many. */
  async sweep(olderThanMs = 24 * 3600_000): Promise<number> {
    const rows = await this.#db.query<{ blob_id: string }>(
      `SELECT DISTINCT c."blob_id" FROM "chapkit_blob_chunks" c LEFT JOIN "chapkit_blobs" b ON b."blob_id" = c."blob_id" WHERE b."blob_id" IS NULL`,
    );
    const cutoff = Date.now() - olderThanMs;
    let removed = 0;
    for (const { blob_id: blobId } of rows) {
      if (ulidTime(blobId) > cutoff) continue;
      removed += (await this.#db.exec(`DELETE FROM "chapkit_blob_chunks" WHERE "blob_id" = ?`, [blobId])).changes;
    }
    return removed;
  }

  async #row(key: string): Promise<BlobRow | null> {
    const rows = await this.#db.query<BlobRow>(`SELECT "blob_id", "size", "chunk_size" FROM "chapkit_blobs" WHERE "key" = ?`, [key]);
    return rows[0] ?? null;
  }

  async *#chunks(row: BlobRow, start: number, end: number): AsyncGenerator<Uint8Array> {
    if (end < start) return;
    const chunkSize = Number(row.chunk_size);
    const last = Math.floor(end / chunkSize);
    for (let seq = Math.floor(start / chunkSize); seq <= last; seq += CHUNKS_PER_READ) {
      const rows = await this.#db.query<{ seq: number; bytes: unknown }>(
        `SELECT "seq", "bytes" FROM "chapkit_blob_chunks" WHERE "blob_id" = ? AND "seq" >= ? AND "seq" <= ? ORDER BY "seq"`,
        [row.blob_id, seq, Math.min(seq + CHUNKS_PER_READ - 1, last)],
      );
      for (const chunk of rows) {
        const base = Number(chunk.seq) * chunkSize;
        const bytes = toBytes(chunk.bytes);
        const from = Math.max(start - base, 0);
        const to = Math.min(end + 1 - base, bytes.byteLength);
        if (to > from) yield bytes.subarray(from, to);
      }
    }
  }
}
