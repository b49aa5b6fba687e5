import type { DialectName } from "../../db/driver.ts";
import type { Migration } from "../../db/migration.ts";
import { sqlType } from "../../db/dialect.ts";
import { createTableSql, versionColumnMigration } from "../../db/table-migration.ts";
import { artifactsTable } from "./schema.ts";

function createSql(dialect: DialectName): string {
  const payloads = `CREATE TABLE "artifact_payloads" (
  "artifact_id" ${sqlType(dialect, "ulid")} PRIMARY KEY REFERENCES "artifacts"("id") ON DELETE CASCADE,
  "content_type" TEXT NOT NULL,
  "size" ${dialect === "postgres" ? "BIGINT" : "INTEGER"} NOT NULL,
  "bytes" ${sqlType(dialect, "blob")} NOT NULL
);`;
  return `${createTableSql(dialect, artifactsTable)}\n${payloads}`;
}

/** The migrations of the `artifacts` module: the artifact table and its payload table. */
export const artifactMigrations: readonly Migration[] = [
  {
    module: "artifacts",
    version: 1,
    name: "create artifacts and artifact_payloads",
    up: { sqlite: createSql("sqlite"), postgres: createSql("postgres") },
    down: `DROP TABLE "artifact_payloads";\nDROP TABLE "artifacts";`,
  },
  versionColumnMigration(artifactsTable, "artifacts", 2),
];
