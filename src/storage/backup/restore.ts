import { ConflictError } from "../../core/errors.ts";
import type { Driver, SqlValue } from "../../db/driver.ts";
import { migrate } from "../../db/migrate.ts";
import type { Migration } from "../../db/migration.ts";
import type { BlobStore } from "../blob-store.ts";
import { DatabaseBlobStore } from "../database-blob-store.ts";
import type { BackupProgress, BlobStoreOpener } from "./backup.ts";
import { decodeValue, type Manifest, type Trailer } from "./_format.ts";
import { openArchive } from "./_reader.ts";
import { allTableNames, appliedMigrations, type BackupColumn, type BackupTable, backupTables, quoteIdent } from "./_tables.ts";

/** Options of {@link restoreStore}. */
export interface RestoreOptions {
  /** The target store (SQLite or PostgreSQL): empty, or migrated by `migrations` and holding no rows. */
  db: Driver;
  /** The gzip'd archive {@link backupStore} wrote. */
  archive: ReadableStream<Uint8Array>;
  /** The target's blob backend, opened over the target driver (default: the database backend). */
  blobs?: BlobStoreOpener;
  /**
   * The service's migrations, applied to the target first (a service's
   * `builder.migrations()`); without them the target must already be migrated.
   */
  migrations?: readonly Migration[];
  /** Called (and awaited) after each table and blob, for progress reports. */
  onProgress?: (step: BackupProgress) => void | Promise<void>;
}

/** What {@link restoreStore} or {@link verifyBackup} read. */
export interface RestoreReport extends Trailer {
  /** The dialect of the store the archive was written from. */
  source: Manifest["dialect"];
  /** When the archive was written. */
  createdAt: string;
}

/** Bound parameters per INSERT at most: both stores accept far more, this keeps statements small. */
const MAX_PARAMS = 20_000;
const MAX_ROWS = 200;
const MAX_BATCH_BYTES = 4 * 1024 * 1024;

function diff(a: readonly string[], b: readonly string[]): string[] {
  const other = new Set(b);
  return a.filter((x) => !other.has(x));
}

function list(labels: string[]): string {
  return labels.length > 4 ? `${labels.slice(0, 4).join(", ")} and ${labels.length - 4} more` : labels.join(", ");
}

/** @throws {ConflictError} when the target's migration history differs from the archive's. */
async function checkMigrations(db: Driver, manifest: Manifest): Promise<void> {
  const applied = await appliedMigrations(db);
  const missing = diff(manifest.migrations, applied);
  const extra = diff(applied, manifest.migrations);
  if (missing.length === 0 && extra.length === 0) return;
  const parts: string[] = [];
  if (missing.length > 0) parts.push(`the archive's store had migrations the target lacks (${list(missing)})`);
  if (extra.length > 0) parts.push(`the target has migrations the archive's store lacked (${list(extra)})`);
  throw new ConflictError(
    `The backup was written by another schema version: ${parts.join("; ")}. Restore with the same version of the service that wrote it, then upgrade.`,
  );
}

/** @throws {ConflictError} when a table of the target holds rows. */
async function checkEmpty(db: Driver): Promise<void> {
  const full: string[] = [];
  for (const name of await allTableNames(db)) {
    const rows = await db.query(`SELECT 1 AS x FROM ${quoteIdent(name)} LIMIT 1`);
    if (rows.length > 0) full.push(name);
  }
  if (full.length > 0) {
    throw new ConflictError(`The target store is not empty (${list(full)} hold rows): restore only into a new, empty store`);
  }
}

/** The target's value for an archive value, by the kind of the target's column. */
function coerce(value: unknown, column: BackupColumn, dialect: Driver["dialect"]): SqlValue {
  const decoded = decodeValue(value);
  if (decoded === null) return null;
  switch (column.kind) {
    case "boolean":
      if (typeof decoded === "number") return decoded !== 0;
      if (typeof decoded === "string") return decoded === "1" || decoded === "t" || decoded === "true";
      return decoded;
    case "bytes":
      return typeof decoded === "string" ? new TextEncoder().encode(decoded) : decoded;
    case "number":
      return typeof decoded === "boolean" ? (decoded ? 1 : 0) : decoded;
    default:
      if (decoded instanceof Uint8Array) return dialect === "postgres" ? new TextDecoder().decode(decoded) : decoded;
      if (dialect === "postgres" && typeof decoded !== "string") return String(decoded);
      return decoded;
  }
}

/** The placeholder of a column in an INSERT: PostgreSQL parses text into json, timestamps and other types itself. */
function placeholder(column: BackupColumn, dialect: Driver["dialect"]): string {
  if (dialect !== "postgres" || column.kind === "boolean" || column.kind === "bytes" || column.kind === "number") return "?";
  if (column.type === "text" || column.type.startsWith("character varying")) return "?";
  return `CAST(CAST(? AS TEXT) AS ${column.type})`;
}

/** Inserts the rows of one table in batches; holds the ids of a tree so children of later parents are linked afterwards. */
class TableLoader {
  readonly #db: Driver;
  readonly #table: BackupTable;
  readonly #columns: BackupColumn[];
  readonly #rowsPerInsert: number;
  /** `INSERT INTO table (columns) VALUES ` and the placeholder tuple of one row, built once per table. */
  readonly #insert: string;
  readonly #tuple: string;
  /** Position of the primary key, when it is one column. */
  readonly #key: number;
  /** Positions of the columns that refer to this table's own key (a tree). */
  readonly #tree: { column: string; at: number }[];
  readonly #seen = new Set<string>();
  readonly #relink: { id: SqlValue; column: string; value: SqlValue }[] = [];
  #batch: SqlValue[][] = [];
  #bytes = 0;
  count = 0;

  constructor(db: Driver, table: BackupTable, archiveColumns: string[]) {
    this.#db = db;
    this.#table = table;
    const byName = new Map(table.columns.map((c) => [c.name, c]));
    const missing = archiveColumns.filter((name) => !byName.has(name));
    if (missing.length > 0) {
      throw new ConflictError(`Table ${table.name} of the target has no column ${missing.join(", ")}: restore with the same version of the service that wrote the backup`);
    }
    this.#columns = archiveColumns.map((name) => byName.get(name)!);
    const key = table.primaryKey.length === 1 ? this.#columns.findIndex((c) => c.name === table.primaryKey[0]) : -1;
    this.#key = key;
    this.#tree = key < 0 ? [] : table.selfReferences.filter((r) => r.references === table.primaryKey[0])
      .map((r) => ({ column: r.column, at: this.#columns.findIndex((c) => c.name === r.column) }))
      .filter((r) => r.at >= 0);
    this.#rowsPerInsert = Math.max(1, Math.min(MAX_ROWS, Math.floor(MAX_PARAMS / Math.max(1, this.#columns.length))));
    this.#insert = `INSERT INTO ${quoteIdent(table.name)} (${this.#columns.map((c) => quoteIdent(c.name)).join(", ")}) VALUES `;
    this.#tuple = `(${this.#columns.map((c) => placeholder(c, db.dialect)).join(", ")})`;
  }

  async add(rows: unknown[][]): Promise<void> {
    const dialect = this.#db.dialect;
    for (const raw of rows) {
      const row = this.#columns.map((column, i) => coerce(raw[i], column, dialect));
      if (this.#tree.length > 0) {
        const id = row[this.#key]!;
        for (const { column, at } of this.#tree) {
          const parent = row[at];
          if (parent !== null && parent !== undefined && !this.#seen.has(String(parent))) {
            // A row before its parent: linked once the whole table is in.
            this.#relink.push({ id, column, value: parent });
            row[at] = null;
          }
        }
        this.#seen.add(String(id));
      }
      for (const value of row) {
        if (typeof value === "string") this.#bytes += value.length;
        else if (value instanceof Uint8Array) this.#bytes += value.byteLength;
      }
      this.#batch.push(row);
      this.count += 1;
      if (this.#batch.length >= this.#rowsPerInsert || this.#bytes >= MAX_BATCH_BYTES) await this.#flush();
    }
  }

  async #flush(): Promise<void> {
    if (this.#batch.length === 0) return;
    await this.#db.exec(this.#insert + this.#batch.map(() => this.#tuple).join(", "), this.#batch.flat());
    this.#batch = [];
    this.#bytes = 0;
  }

  async finish(): Promise<void> {
    await this.#flush();
    const key = quoteIdent(this.#table.primaryKey[0] ?? "id");
    for (const link of this.#relink) {
      await this.#db.exec(`UPDATE ${quoteIdent(this.#table.name)} SET ${quoteIdent(link.column)} = ? WHERE ${key} = ?`, [link.value, link.id]);
    }
    if (this.#db.dialect === "postgres") await this.#resetSequences();
  }

  /** Moves serial sequences past the restored keys, so the next insert does not collide. */
  async #resetSequences(): Promise<void> {
    const table = quoteIdent(this.#table.name);
    for (const column of this.#columns.filter((c) => c.kind === "number")) {
      const [row] = await this.#db.query<{ seq: string | null }>(`SELECT pg_get_serial_sequence(?, ?) AS seq`, [table, column.name]);
      if (!row?.seq) continue;
      await this.#db.query(`SELECT setval(?::regclass, COALESCE((SELECT MAX(${quoteIdent(column.name)}) FROM ${table}), 0) + 1, false)`, [row.seq]);
    }
  }
}

/**
 * Reads an archive to its end without touching any store: its structure,
 * its row and blob counts against the end record, and each blob's SHA-256.
 * Run it before {@link restoreStore} to refuse a damaged file before the
 * target is even migrated.
 *
 * @throws {BadRequestError} naming the first defect of a corrupt or truncated archive.
 */
export async function verifyBackup(archive: ReadableStream<Uint8Array>): Promise<RestoreReport> {
  const opened = await openArchive(archive);
  const done = async (): Promise<void> => {};
  const trailer = await opened.read({ table: done, rows: done, blob: done, end: done });
  return { ...trailer, source: opened.manifest.dialect, createdAt: opened.manifest.created_at };
}

/**
 * Loads an archive of {@link backupStore} into an empty store of either
 * kind, so that moving from SQLite to PostgreSQL (or back) is a backup and a
 * restore. The target is migrated first (`migrations`), then must have the
 * archive's migration history and no rows; everything is then inserted in
 * one transaction, values converted to the target's column types (booleans,
 * JSON, timestamps, bytes), tables in foreign-key order, serial sequences
 * moved past the restored keys (PostgreSQL). Blobs go to the target's blob
 * backend, which may differ from the source's, each checked against its
 * SHA-256. A failure rolls the tables back and removes the blobs already put
 * (in a backend outside the database).
 *
 * @throws {ConflictError} the target holds rows or has another migration history.
 * @throws {BadRequestError} the archive is corrupt or truncated (nothing is kept).
 *
 * @example
 * ```ts ignore
 * const db = await openDatabase("postgres://app@db/chapkit");
 * const archive = ReadableStream.from(createReadStream("backup.ndjson.gz"));
 * await restoreStore({ db, archive, migrations: await service.migrations() });
 * ```
 */
export async function restoreStore(options: RestoreOptions): Promise<RestoreReport> {
  const { db } = options;
  const opened = await openArchive(options.archive);
  const { manifest } = opened;
  try {
    if (options.migrations) await migrate(db, options.migrations);
    await checkMigrations(db, manifest);
    await checkEmpty(db);
    const tables = new Map((await backupTables(db)).map((t) => [t.name, t]));
    const absent = manifest.tables.map((t) => t.name).filter((name) => !tables.has(name));
    if (absent.length > 0) {
      throw new ConflictError(`The target store has no table ${list(absent)}: restore with the same version of the service that wrote the backup`);
    }
    const loaders = new Map(manifest.tables.map((t) => [t.name, new TableLoader(db, tables.get(t.name)!, t.columns.map((c) => c.name))]));
    const blobs: BlobStore = (options.blobs ?? ((driver: Driver) => new DatabaseBlobStore(driver)))(db);
    // Blobs put in a backend outside the database are not undone by a rollback: removed on failure.
    const external = blobs.kind !== "db";
    const put: string[] = [];
    let loader: TableLoader | undefined;
    let loaderName = "";
    const finishTable = async (): Promise<void> => {
      if (!loader) return;
      await loader.finish();
      await options.onProgress?.({ table: loaderName, rows: loader.count });
      loader = undefined;
    };
    try {
      const trailer = await db.transaction(() =>
        opened.read({
          async table(name) {
            await finishTable();
            loaderName = name;
            loader = loaders.get(name);
          },
          async rows(rows) {
            await loader!.add(rows);
          },
          async blob(key, body) {
            await finishTable();
            if (external && (await blobs.head(key))) return; // content-addressed: the same bytes are there
            if (external) put.push(key);
            const info = await blobs.put(key, body);
            await options.onProgress?.({ blob: key, bytes: info.size });
          },
          end: finishTable,
        }), { retries: 0 });
      return { ...trailer, source: manifest.dialect, createdAt: manifest.created_at };
    } catch (error) {
      for (const key of put) await blobs.delete(key).catch(() => false);
      throw error;
    }
  } finally {
    await opened.close();
  }
}
