import type { DialectName } from "../db/driver.ts";
import type { Migration } from "../db/migration.ts";

function createSql(dialect: DialectName): string {
  const big = dialect === "postgres" ? "BIGINT" : "INTEGER";
  const blob = dialect === "postgres" ? "BYTEA" : "BLOB";
  return `CREATE TABLE "chapkit_blobs" (
  "key" TEXT PRIMARY KEY,
  "blob_id" TEXT NOT NULL,
  "size" ${big} NOT NULL,
  "chunk_size" INTEGER NOT NULL,
  "created_at" TEXT NOT NULL
);
CREATE TABLE "chapkit_blob_chunks" (
  "blob_id" TEXT NOT NULL,
  "seq" INTEGER NOT NULL,
  "bytes" ${blob} NOT NULL,
  PRIMARY KEY ("blob_id", "seq")
);
CREATE TABLE "chapkit_content" (
  "digest" TEXT PRIMARY KEY,
  "size" ${big} NOT NULL,
  "stored_size" ${big} NOT NULL,
  "encoding" TEXT NOT NULL,
  "refcount" INTEGER NOT NULL DEFAULT 0,
  "created_at" TEXT NOT NULL,
  "touched_at" TEXT NOT NULL
);
CREATE INDEX "chapkit_content_unreferenced" ON "chapkit_content" ("refcount", "touched_at");`;
}

function uploadsSql(dialect: DialectName): string {
  const big = dialect === "postgres" ? "BIGINT" : "INTEGER";
  return `CREATE TABLE "chapkit_uploads" (
  "id" TEXT PRIMARY KEY,
  "length" ${big} NOT NULL,
  "offset" ${big} NOT NULL DEFAULT 0,
  "parts" TEXT NOT NULL,
  "metadata" TEXT NOT NULL,
  "result" TEXT,
  "created_at" TEXT NOT NULL,
  "updated_at" TEXT NOT NULL
);
CREATE INDEX "chapkit_uploads_updated" ON "chapkit_uploads" ("updated_at");`;
}

/**
 * The tables of chapkit's storage (module `storage`): the database blob
 * backend (`chapkit_blobs`, `chapkit_blob_chunks`) and the content index
 * (`chapkit_content`: SHA-256 digest, sizes, encoding at rest, reference
 * count) and resumable uploads (`chapkit_uploads`). Modules that store payloads list these before their own; a
 * migration listed by several modules is applied once.
 */
export const storageMigrations: readonly Migration[] = [
  {
    module: "storage",
    version: 1,
    name: "create blobs, blob chunks and the content index",
    up: { sqlite: createSql("sqlite"), postgres: createSql("postgres") },
    down: `DROP TABLE "chapkit_content";\nDROP TABLE "chapkit_blob_chunks";\nDROP TABLE "chapkit_blobs";`,
  },
  {
    module: "storage",
    version: 2,
    name: "resumable uploads",
    up: {
      sqlite: uploadsSql("sqlite"),
      postgres: uploadsSql("postgres"),
    },
    down: `DROP TABLE "chapkit_uploads";`,
  },
];
