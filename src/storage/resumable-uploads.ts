import { BadRequestError, ConflictError, NotFoundError } from "../core/errors.ts";
import { newUlid } from "../core/ulid.ts";
import type { Driver } from "../db/driver.ts";
import type { BlobStore } from "./blob-store.ts";
import { fromIterable, iterate, pieces } from "./_streams.ts";

/** An upload that arrives in several requests (tus 1.0), as the store records it. */
export interface ResumableUpload {
  /** ULID, the last segment of the upload's URL. */
  id: string;
  /** The total size announced at creation (`Upload-Length`). */
  length: number;
  /** Bytes received so far (`Upload-Offset`). */
  offset: number;
  /** `Upload-Metadata`, decoded. */
  metadata: Record<string, string>;
  /** What the finished upload became (e.g. the created resource's URL); null until then. */
  result: string | null;
  /** ISO 8601 UTC time of creation. */
  createdAt: string;
  /** ISO 8601 UTC time of the last change; expiry counts from it. */
  updatedAt: string;
}

/** Options of {@link ResumableUploads}. */
export interface ResumableUploadsOptions {
  /** The database with the `storage` migrations applied (`chapkit_uploads`). */
  db: Driver;
  /** Where the received parts are kept until the upload is finished. */
  blobs: BlobStore;
  /**
   * Bytes per stored part (default 8 MiB): what a request broken off loses
   * at most, and what one request holds in memory at most.
   */
  partSize?: number;
}

interface Part {
  key: string;
  size: number;
}

interface Row extends Record<string, unknown> {
  id: string;
  length: number | string;
  offset: number | string;
  parts: string;
  metadata: string;
  result: string | null;
  created_at: string;
  updated_at: string;
}

const PREFIX = "uploads/";
const COLUMNS = `"id", "length", "offset", "parts", "metadata", "result", "created_at", "updated_at"`;

function toUpload(row: Row): ResumableUpload {
  return {
    id: row.id,
    length: Number(row.length),
    offset: Number(row.offset),
    metadata: JSON.parse(row.metadata) as Record<string, string>,
    result: row.result ?? null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * Uploads received over several requests, the storage side of the tus 1.0
 * protocol: each request's bytes are kept as parts of at most `partSize`
 * under `uploads/<id>/` in the blob store, and the offset moves with a
 * conditional `UPDATE` once a part is durable, so two requests at one offset
 * cannot both count and a broken request keeps every whole part it sent.
 * A finished upload is read back as one stream and its parts dropped;
 * uploads left unfinished are removed by {@link ResumableUploads.expire}.
 */
export class ResumableUploads {
  readonly #db: Driver;
  readonly #blobs: BlobStore;
  readonly #partSize: number;

  /** Creates the store over the index database and the blob backend. */
  constructor(options: ResumableUploadsOptions) {
    this.#db = options.db;
    this.#blobs = options.blobs;
    this.#partSize = options.partSize ?? 8 * 1024 * 1024;
  }

  /** Records a new upload of `length` bytes. */
  async create(length: number, metadata: Record<string, string> = {}): Promise<ResumableUpload> {
    const id = newUlid();
    const now = new Date().toISOString();
    await this.#db.exec(
      `INSERT INTO "chapkit_uploads" (${COLUMNS}) VALUES (?, ?, 0, '[]', ?, NULL, ?, ?)`,
      [id, length, JSON.stringify(metadata), now, now],
    );
    return { id, length, offset: 0, metadata, result: null, createdAt: now, updatedAt: now };
  }

  /** The upload, or null when there is none (never created, removed or expired). */
  async get(id: string): Promise<ResumableUpload | null> {
    const row = await this.#row(id);
    return row ? toUpload(row) : null;
  }

  /**
   * Appends the bytes of `body` at `offset`, which must be where the upload
   * stands; answers the upload as it stands after them. When the body breaks
   * off, the parts stored before stay counted and the error is rethrown.
   *
   * @throws {NotFoundError} unknown upload; {@link ConflictError} an offset
   * other than the upload's, or a finished upload; {@link BadRequestError}
   * bytes past the announced length.
   */
  async append(id: string, offset: number, body: ReadableStream<Uint8Array>): Promise<ResumableUpload> {
    const row = await this.#row(id);
    if (!row) throw new NotFoundError(`Upload ${id} not found`);
    let upload = toUpload(row);
    let parts = JSON.parse(row.parts) as Part[];
    if (upload.result !== null) throw new ConflictError(`Upload ${id} is finished`);
    if (offset !== upload.offset) throw new ConflictError(`Upload ${id} stands at offset ${upload.offset}, not ${offset}`);
    for await (const piece of pieces(body, this.#partSize)) {
      if (upload.offset + piece.byteLength > upload.length) {
        throw new BadRequestError(`The bytes pass the upload's length of ${upload.length} (Upload-Length)`);
      }
      const key = `${PREFIX}${id}/${String(upload.offset).padStart(16, "0")}-${newUlid()}`;
      await this.#blobs.put(key, piece);
      const next = [...parts, { key, size: piece.byteLength }];
      const now = new Date().toISOString();
      const { changes } = await this.#db.exec(
        `UPDATE "chapkit_uploads" SET "offset" = ?, "parts" = ?, "updated_at" = ? WHERE "id" = ? AND "offset" = ? AND "result" IS NULL`,
        [upload.offset + piece.byteLength, JSON.stringify(next), now, id, upload.offset],
      );
      if (changes === 0) {
        await this.#blobs.delete(key);
        throw new ConflictError(`Upload ${id} was written by another request meanwhile; ask for its offset (HEAD) and resume`);
      }
      parts = next;
      upload = { ...upload, offset: upload.offset + piece.byteLength, updatedAt: now };
    }
    return upload;
  }

  /** The received bytes, in order, as one stream (read part by part). @throws {NotFoundError} */
  async stream(id: string): Promise<ReadableStream<Uint8Array>> {
    const row = await this.#row(id);
    if (!row) throw new NotFoundError(`Upload ${id} not found`);
    const parts = JSON.parse(row.parts) as Part[];
    const blobs = this.#blobs;
    return fromIterable((async function* () {
      for (const part of parts) {
        const stream = await blobs.stream(part.key);
        if (!stream) throw new NotFoundError(`A part of upload ${id} is missing from the ${blobs.kind} store`);
        yield* iterate(stream);
      }
    })());
  }

  /**
   * Records what the finished upload became and drops its parts; the record
   * stays (answering its offset and result) until it expires.
   * @throws {ConflictError} when another request finished it first.
   */
  async finish(id: string, result: string): Promise<void> {
    const { changes } = await this.#db.exec(
      `UPDATE "chapkit_uploads" SET "result" = ?, "parts" = '[]', "updated_at" = ? WHERE "id" = ? AND "result" IS NULL`,
      [result, new Date().toISOString(), id],
    );
    if (changes === 0) throw new ConflictError(`Upload ${id} is finished`);
    await this.#dropParts(id);
  }

  /** Removes the upload and its parts; resolves false when there was none. */
  async remove(id: string): Promise<boolean> {
    const { changes } = await this.#db.exec(`DELETE FROM "chapkit_uploads" WHERE "id" = ?`, [id]);
    await this.#dropParts(id);
    return changes > 0;
  }

  /** Removes uploads (finished or not) untouched for `afterMs`; answers how many. */
  async expire(afterMs: number): Promise<number> {
    const cutoff = new Date(Date.now() - afterMs).toISOString();
    const rows = await this.#db.query<{ id: string }>(`SELECT "id" FROM "chapkit_uploads" WHERE "updated_at" < ?`, [cutoff]);
    let removed = 0;
    for (const { id } of rows) {
      const { changes } = await this.#db.exec(`DELETE FROM "chapkit_uploads" WHERE "id" = ? AND "updated_at" < ?`, [id, cutoff]);
      if (changes === 0) continue;
      await this.#dropParts(id);
      removed += 1;
    }
    return removed;
  }

  async #dropParts(id: string): Promise<void> {
    const keys: string[] = [];
    for await (const blob of this.#blobs.list(`${PREFIX}${id}/`)) keys.push(blob.key);
    for (const key of keys) await this.#blobs.delete(key);
  }

  async #row(id: string): Promise<Row | null> {
    const rows = await this.#db.query<Row>(`SELECT ${COLUMNS} FROM "chapkit_uploads" WHERE "id" = ?`, [id]);
    return rows[0] ?? null;
  }
}
