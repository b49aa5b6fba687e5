/**
 * `chapkit backup` and `chapkit restore`: a portable archive of every table
 * and blob of a store, and its load into an empty store of either kind
 * (SQLite → PostgreSQL is a backup then a restore).
 */
import { type FileHandle, open, rename, rm } from "node:fs/promises";
import { resolve } from "node:path";
import { Command } from "commander";
import { ChapkitError, ConfigurationError } from "../../core/errors.ts";
import type { Driver } from "../../db/driver.ts";
import { openDatabase } from "../../db/open.ts";
import { backupStore, type BlobStoreOpener } from "../../storage/backup/backup.ts";
import { restoreStore, verifyBackup } from "../../storage/backup/restore.ts";
import { openBlobStore } from "../../storage/open.ts";
import { ServiceSettings } from "../../service/settings.ts";
import { ENTRY_OPTION, loadServiceBuilder } from "../_entry.ts";
import { withSpinner } from "../_output.ts";
import { type CliContext, CliExit } from "../context.ts";
import { CLI_VERSION } from "../version.ts";

interface StoreOptions {
  databaseUrl?: string;
  storageUrl?: string;
}

interface BackupOptions extends StoreOptions {
  out?: string;
}

interface RestoreOptions extends StoreOptions {
  entry: string;
  migrate: boolean;
}

function databaseUrl(cli: CliContext, options: StoreOptions): string {
  const url = options.databaseUrl ?? cli.env.DATABASE_URL;
  if (!url) throw new CliExit(2, "set DATABASE_URL (or pass --database-url) to the store");
  return url;
}

/** The blob backend the service uses: --storage-url, else storage.url of the settings (CHAPKIT_STORAGE_URL, config file). */
async function blobOpener(cli: CliContext, options: StoreOptions): Promise<BlobStoreOpener> {
  let storage;
  try {
    storage = (await ServiceSettings.load({}, { env: cli.env })).current.storage;
  } catch (error) {
    if (error instanceof ConfigurationError) throw new CliExit(1, error.message);
    throw error;
  }
  const url = options.storageUrl ?? storage.url;
  return (db) => openBlobStore(url, { db, settings: storage });
}

function fileSink(path: string): WritableStream<Uint8Array> {
  let file: FileHandle;
  return new WritableStream<Uint8Array>({
    async start() {
      file = await open(path, "w");
    },
    async write(chunk) {
      await file.write(chunk);
    },
    async close() {
      await file.sync();
      await file.close();
    },
    async abort() {
      await file?.close();
    },
  });
}

function fileSource(path: string): ReadableStream<Uint8Array> {
  let file: FileHandle;
  return new ReadableStream<Uint8Array>({
    async start() {
      file = await open(path, "r");
    },
    async pull(controller) {
      const buffer = new Uint8Array(1024 * 1024);
      const { bytesRead } = await file.read(buffer, 0, buffer.byteLength, null);
      if (bytesRead === 0) {
        await file.close();
        controller.close();
      } else controller.enqueue(buffer.subarray(0, bytesRead));
    },
    async cancel() {
      await file.close();
    },
  });
}

async function withStore<T>(url: string, work: (db: Driver) => Promise<T>): Promise<T> {
  const db = await openDatabase(url);
  try {
    return await work(db);
  } catch (error) {
    // A refusal or a corrupt archive is the answer, not a crash: its message alone.
    if (error instanceof ChapkitError && error.status < 500) throw new CliExit(1, `error: ${error.message}`);
    throw error;
  } finally {
    await db.close();
  }
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

/** `chapkit backup`: a gzip'd NDJSON archive of every table and blob, read as one consistent snapshot while the service runs. */
export function backupCommand(cli: CliContext): Command {
  return new Command("backup")
    .description("Write a portable archive (gzip'd NDJSON) of every table and blob of the store, read as one consistent snapshot while the service runs.")
    .option("-o, --out <file>", "the archive to write (default chapkit-backup-<time>.ndjson.gz)")
    .option("--database-url <url>", "the store (default: DATABASE_URL)")
    .option("--storage-url <url>", "the blob backend (default: storage.url, CHAPKIT_STORAGE_URL)")
    .addHelpText("after", "\nExample:\n  DATABASE_URL=sqlite:./data.db chapkit backup --out backup.ndjson.gz\n")
    .action(async (options: BackupOptions) => {
      const url = databaseUrl(cli, options);
      const blobs = await blobOpener(cli, options);
      const out = resolve(cli.cwd, options.out ?? `chapkit-backup-${stamp()}.ndjson.gz`);
      const partial = `${out}.partial`;
      const report = await withStore(url, (db) =>
        withSpinner(cli.output, "backing up", () => backupStore({ db, out: fileSink(partial), blobs, producer: `chapkit ${CLI_VERSION}` }))
          .catch(async (error: unknown) => {
            await rm(partial, { force: true });
            throw error;
          })
      );
      await rename(partial, out);
      const rows = Object.values(report.tables).reduce((sum, n) => sum + n, 0);
      cli.output.out(`${out}\n`);
      cli.output.err(`backed up ${rows} row(s) of ${Object.keys(report.tables).length} table(s) and ${report.blobs} blob(s) (${mib(report.bytes)}) from ${report.dialect}\n`);
    });
}

/** `chapkit restore`: loads a `chapkit backup` archive into an empty SQLite or PostgreSQL store, in one transaction. */
export function restoreCommand(cli: CliContext): Command {
  return new Command("restore")
    .description("Load an archive of `chapkit backup` into an empty store of either kind (SQLite or PostgreSQL): migrates it with the service's migrations, then inserts everything in one transaction.")
    .argument("<file>", "the archive chapkit backup wrote")
    .option(...ENTRY_OPTION)
    .option("--no-migrate", "do not load the service nor migrate: the store must already be migrated to the archive's version")
    .option("--database-url <url>", "the empty target store (default: DATABASE_URL)")
    .option("--storage-url <url>", "the target's blob backend (default: storage.url, CHAPKIT_STORAGE_URL)")
    .addHelpText("after", "\nExample (SQLite to PostgreSQL):\n  DATABASE_URL=sqlite:./data.db chapkit backup --out backup.ndjson.gz\n  DATABASE_URL=postgres://app@db/chapkit chapkit restore backup.ndjson.gz\n")
    .action(async (file: string, options: RestoreOptions) => {
      const url = databaseUrl(cli, options);
      const blobs = await blobOpener(cli, options);
      const path = resolve(cli.cwd, file);
      try {
        await (await open(path, "r")).close();
      } catch {
        throw new CliExit(2, `${path} cannot be read`);
      }
      const migrations = options.migrate ? await (await loadServiceBuilder(options.entry, cli.cwd, url)).migrations() : undefined;
      const report = await withStore(url, async (db) => {
        // Read through once before the target is touched: a damaged file changes nothing.
        await withSpinner(cli.output, "verifying the archive", () => verifyBackup(fileSource(path)));
        return await withSpinner(cli.output, "restoring", () =>
          restoreStore({ db, archive: fileSource(path), blobs, ...(migrations ? { migrations } : {}) }));
      });
      const rows = Object.values(report.tables).reduce((sum, n) => sum + n, 0);
      cli.output.err(`restored ${rows} row(s) of ${Object.keys(report.tables).length} table(s) and ${report.blobs} blob(s) (${mib(report.bytes)}), backed up from ${report.source} at ${report.createdAt}\n`);
    });
}
