/**
 * Blob storage: one {@link BlobStore} interface with backends for the
 * database (default, chunked), a directory, S3 and S3-compatible services
 * (SigV4, multipart, presigned URLs; GCS through its interoperability API)
 * and Azure Blob Storage (Shared Key, block uploads, SAS URLs), chosen by
 * `storage.url` (`CHAPKIT_STORAGE_URL`); and {@link ContentStore}, which
 * names payloads by their SHA-256, stores each once with a reference count,
 * compresses text at rest and collects what nobody holds; {@link backupStore}
 * and {@link restoreStore} copy a whole store (tables and blobs) through a
 * portable archive, across SQLite and PostgreSQL.
 *
 * @example
 * ```ts ignore
 * import { ContentStore, openBlobStore } from "chapkit/db";
 * const content = new ContentStore({ db, blobs: openBlobStore("file:///var/lib/chapkit/blobs", { db }) });
 * const { digest, size } = await content.put(request.body!, { contentType: "text/csv" });
 * ```
 *
 * @module
 */
export type { BlobBody, BlobInfo, BlobStore, ByteRange, PresignOptions } from "./blob-store.ts";
export { checkBlobKey } from "./blob-store.ts";
export { DatabaseBlobStore, type DatabaseBlobStoreOptions } from "./database-blob-store.ts";
export { FileBlobStore } from "./file-blob-store.ts";
export { S3BlobStore, type S3BlobStoreOptions, type S3Credentials } from "./s3-blob-store.ts";
export { AzureBlobStore, type AzureBlobStoreOptions } from "./azure-blob-store.ts";
export {
  type CollectOptions,
  type CollectReport,
  type ContentEncoding,
  type ContentInfo,
  type ContentRef,
  ContentStore,
  type ContentStoreOptions,
  isCompressible,
} from "./content-store.ts";
export { openBlobStore, type OpenBlobStoreOptions } from "./open.ts";
export { storageMigrations } from "./migrations.ts";
export { type BackupOptions, type BackupProgress, type BackupReport, backupStore, type BlobStoreOpener } from "./backup/backup.ts";
export { type RestoreOptions, type RestoreReport, restoreStore, verifyBackup } from "./backup/restore.ts";
