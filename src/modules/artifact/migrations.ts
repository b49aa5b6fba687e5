import type { DialectName } from "../../db/driver.ts";
import type { Migration } from "../../db/migration.ts";
import { sqlType } from "../../db/dialect.ts";
import { createTableSql, searchMigration, searchQueueMigration, versionColumnMigration } from "../../db/table-migration.ts";
import { storageMigrations } from "../../storage/migrations.ts";
import { artifactsTableV1, searchableArtifactsTable } from "./schema.ts";

function createSql(dialect: DialectName): string {
  const payloads = `CREATE TABLE "artifact_payloads" (
  "artifact_id" ${sqlType(dialect, "ulid")} PRIMARY KEY REFERENCES "artifacts"("id") ON DELETE CASCADE,
  "content_type" TEXT NOT NULL,
  "size" ${dialect === "postgres" ? "BIGINT" : "INTEGER"} NOT NULL,
  "bytes" ${sqlType(dialect, "blob")} NOT NULL
);`;
  return `${createTableSql(dialect, artifactsTableV1)}\n${payloads}`;
}

function retentionSql(dialect: DialectName): string {
  return `CREATE TABLE "artifact_retention" (
  "artifact_id" ${sqlType(dialect, "ulid")} PRIMARY KEY REFERENCES "artifacts"("id") ON DELETE CASCADE,
  "expires_at" TEXT,
  "legal_hold" ${dialect === "postgres" ? "BOOLEAN NOT NULL DEFAULT FALSE" : "INTEGER NOT NULL DEFAULT 0"}
);
CREATE INDEX "artifact_retention_expires" ON "artifact_retention" ("expires_at");`;
}

/**
 * The migrations of the `artifacts` module: the storage tables (payloads are
 * content-addressed blobs), the artifact table and its payload table.
 */
export const artifactMigrations: readonly Migration[] = [
  ...storageMigrations,
  {
    module: "artifacts",
    version: 1,
    name: "create artifacts and artifact_payloads",
    up: { sqlite: createSql("sqlite"), postgres: createSql("postgres") },
    down: `DROP TABLE "artifact_payloads";\nDROP TABLE "artifacts";`,
  },
  versionColumnMigration(artifactsTableV1, "artifacts", 2),
  {
    module: "artifacts",
    version: 3,
    name: "artifact tags",
    up: { sqlite: `ALTER TABLE "artifacts" ADD COLUMN "tags" TEXT;`, postgres: `ALTER TABLE "artifacts" ADD COLUMN "tags" JSON;` },
    down: `ALTER TABLE "artifacts" DROP COLUMN "tags";`,
  },
  {
    module: "artifacts",
    version: 5,
    name: "artifact payloads by content digest",
    // New payloads live in the content store; "bytes" stays (empty) for rows written before.
    up: `ALTER TABLE "artifact_payloads" ADD COLUMN "digest" TEXT;`,
    down: `ALTER TABLE "artifact_payloads" DROP COLUMN "digest";`,
  },
  {
    module: "artifacts",
    version: 6,
    name: "artifact retention: expiry and legal hold",
    up: {
      sqlite: retentionSql("sqlite"),
      postgres: retentionSql("postgres"),
    },
    down: `DROP TABLE "artifact_retention";`,
  },
];

/** The migration a service that opts in to artifact search adds: the search index over `data`. */
export const artifactSearchMigration: Migration = searchMigration(searchableArtifactsTable, "artifacts", 4);

/** The migration that follows {@link artifactSearchMigration}: the search index kept in batches after commits. */
export const artifactSearchQueueMigration: Migration = searchQueueMigration(searchableArtifactsTable, "artifacts", 7);
