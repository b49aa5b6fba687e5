import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newUlid } from "../../core/ulid.ts";
import type { Driver, Row } from "../../db/driver.ts";
import { openDatabase } from "../../db/open.ts";
import type { BlobStore } from "../blob-store.ts";
import { DatabaseBlobStore } from "../database-blob-store.ts";
import { pieces } from "../_streams.ts";
import { ARCHIVE_FORMAT, ARCHIVE_VERSION, encodeValue, type Manifest, RecordWriter, toBase64, type Trailer } from "./_format.ts";
import { appliedMigrations, type BackupTable, backupTables, quoteIdent } from "./_tables.ts";

/** Opens the blob backend of a store, given the driver the backup or restore reads it through. */
export type BlobStoreOpener = (db: Driver) => BlobStore;

/** One step of a backup or restore: a table with its row count, or a blob with its size. */
export interface BackupProgress {
  /** The table just done. */
  table?: string;
  /** The blob just done. */
  blob?: string;
  /** Rows of the table. */
  rows?: number;
  /** Bytes of the blob. */
  bytes?: number;
}

/** Options of {@link backupStore}. */
export interface BackupOptions {
  /** The store to back up (SQLite or PostgreSQL). */
  db: Driver;
  /** Where the gzip'd archive goes; closed at the end (aborted on failure). */
  out: WritableStream<Uint8Array>;
  /**
   * The store's blob backend, opened over the driver the snapshot is read
   * through (default: the database backend, `new DatabaseBlobStore(db)`).
   * E.g. `(db) => openBlobStore(settings.storage.url, { db, settings: settings.storage })`.
   */
  blobs?: BlobStoreOpener;
  /** Recorded in the manifest as what wrote the archive (default `chapkit`). */
  producer?: string;
  /** Called (and awaited) after each table and blob, for progress reports. */
  onProgress?: (step: BackupProgress) => void | Promise<void>;
}

/** What {@link backupStore} wrote. */
export interface BackupReport extends Trailer {
  /** The dialect of the store backed up. */
  dialect: Driver["dialect"];
}

const ROWS_PER_RECORD = 500;
const BYTES_PER_RECORD = 1024 * 1024;
const BLOB_CHUNK = 256 * 1024;

function selectSql(db: Driver, table: BackupTable): string {
  const columns = table.columns.map((c) => {
    const name = quoteIdent(c.name);
    // PostgreSQL's json text as stored (postgres.js would parse it); timestamps stay Dates, made ISO on encoding.
    return db.dialect === "postgres" && (c.kind === "json" || c.kind === "text") ? `${name}::text AS ${name}` : name;
  });
  const order = table.primaryKey.length > 0 ? ` ORDER BY ${table.primaryKey.map(quoteIdent).join(", ")}` : "";
  return `SELECT ${columns.join(", ")} FROM ${quoteIdent(table.name)}${order}`;
}

async function* batches(db: Driver, sql: string): AsyncIterable<Row[]> {
  if (db.stream) yield* db.stream(sql, [], ROWS_PER_RECORD);
  else yield await db.query(sql);
}

async function writeTable(db: Driver, table: BackupTable, writer: RecordWriter): Promise<number> {
  await writer.write({ table: table.name });
  let count = 0;
  let rows: unknown[][] = [];
  let bytes = 0;
  for await (const batch of batches(db, selectSql(db, table))) {
    for (const row of batch) {
      const values = table.columns.map((c) => encodeValue(row[c.name], c.kind));
      rows.push(values);
      for (const value of values) if (typeof value === "string") bytes += value.length;
      else if (value !== null && typeof value === "object" && "$b" in value) bytes += value.$b.length;
      count += 1;
      if (rows.length >= ROWS_PER_RECORD || bytes >= BYTES_PER_RECORD) {
        await writer.write({ rows });
        rows = [];
        bytes = 0;
      }
    }
  }
  if (rows.length > 0) await writer.write({ rows });
  return count;
}

async function writeBlobs(blobs: BlobStore, writer: RecordWriter, trailer: Trailer, options: BackupOptions): Promise<void> {
  for await (const info of blobs.list("")) {
    const stream = await blobs.stream(info.key);
    if (!stream) continue; // removed since it was listed (an unreferenced content collected)
    await writer.write({ blob: info.key, size: info.size });
    const hash = createHash("sha256");
    let size = 0;
    for await (const chunk of pieces(stream, BLOB_CHUNK)) {
      hash.update(chunk);
      size += chunk.byteLength;
      await writer.write({ data: toBase64(chunk) });
    }
    await writer.write({ sha256: hash.digest("hex"), size });
    trailer.blobs += 1;
    trailer.bytes += size;
    await options.onProgress?.({ blob: info.key, bytes: size });
  }
}

async function writeArchive(db: Driver, options: BackupOptions): Promise<BackupReport> {
  const writer = new RecordWriter(options.out);
  try {
    const tables = await backupTables(db);
    const blobs = (options.blobs ?? ((driver: Driver) => new DatabaseBlobStore(driver)))(db);
    const manifest: Manifest = {
      format: ARCHIVE_FORMAT,
      version: ARCHIVE_VERSION,
      producer: options.producer ?? "chapkit",
      created_at: new Date().toISOString(),
      dialect: db.dialect,
      blob_store: blobs.kind,
      migrations: await appliedMigrations(db),
      tables: tables.map((t) => ({ name: t.name, columns: t.columns.map(({ name, type, kind }) => ({ name, type, kind })) })),
    };
    await writer.write(manifest);
    const trailer: Trailer = { tables: {}, blobs: 0, bytes: 0 };
    for (const table of tables) {
      const rows = await writeTable(db, table, writer);
      trailer.tables[table.name] = rows;
      await options.onProgress?.({ table: table.name, rows });
    }
    await writeBlobs(blobs, writer, trailer, options);
    await writer.write({ end: trailer });
    await writer.close();
    return { ...trailer, dialect: db.dialect };
  } catch (error) {
    await writer.abort(error);
    throw error;
  }
}

/**
 * Writes a portable archive of every chapkit table and blob of a store to
 * `out`: gzip'd NDJSON (a manifest with the migration history and the
 * tables' columns, then each table's rows, then each blob in base64 chunks
 * with its SHA-256). What it reads is one consistent snapshot while the
 * service keeps running: on PostgreSQL one `REPEATABLE READ READ ONLY`
 * transaction; on SQLite an online copy (`VACUUM INTO` a temporary file,
 * removed afterwards), so writers are held up only while it is made. Blobs
 * in an external backend (file, S3, Azure) are read as they are then:
 * content-addressed blobs never change. Memory holds a batch of rows or a
 * 256 KiB piece of a blob at a time. {@link restoreStore} loads the archive
 * into an empty store of either kind.
 *
 * @example
 * ```ts ignore
 * import { createWriteStream } from "node:fs";
 * import { Writable } from "node:stream";
 * const db = await openDatabase("sqlite:./data.db");
 * await backupStore({ db, out: Writable.toWeb(createWriteStream("backup.ndjson.gz")) });
 * ```
 */
export async function backupStore(options: BackupOptions): Promise<BackupReport> {
  const { db } = options;
  if (db.dialect === "postgres") {
    return await db.transaction(() => writeArchive(db, options), { isolation: "repeatable read", readOnly: true, retries: 0 });
  }
  const copy = join(tmpdir(), `chapkit-backup-${newUlid()}.sqlite`);
  try {
    await db.exec(`VACUUM INTO '${copy.replaceAll("'", "''")}'`);
    const snapshot = await openDatabase(`sqlite:${copy}`);
    try {
      return await writeArchive(snapshot, options);
    } finally {
      await snapshot.close();
    }
  } finally {
    for (const suffix of ["", "-wal", "-shm"]) rmSync(`${copy}${suffix}`, { force: true });
  }
}
