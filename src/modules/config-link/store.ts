import type { DialectName, Driver } from "../../db/driver.ts";
import { sqlType } from "../../db/dialect.ts";
import type { Migration } from "../../db/migration.ts";

function createSql(dialect: DialectName): string {
  const ulid = sqlType(dialect, "ulid");
  return `CREATE TABLE "config_artifacts" (
  "config_id" ${ulid} NOT NULL REFERENCES "configs"("id") ON DELETE CASCADE,
  "artifact_id" ${ulid} NOT NULL REFERENCES "artifacts"("id") ON DELETE CASCADE,
  PRIMARY KEY ("config_id", "artifact_id"),
  CONSTRAINT "uq_config_artifacts_artifact_id" UNIQUE ("artifact_id")
);`;
}

/**
 * The migrations of config ↔ artifact links: `config_artifacts`, one config
 * per artifact; rows go with their config or artifact (foreign-key cascade).
 * They need the `config` and `artifacts` tables, so they run after both.
 */
export const configLinkMigrations: readonly Migration[] = [
  {
    module: "config_artifacts",
    version: 1,
    name: "create config_artifacts",
    up: { sqlite: createSql("sqlite"), postgres: createSql("postgres") },
    down: `DROP TABLE "config_artifacts";`,
  },
];

/** Where config ↔ artifact links live (`config_artifacts`). */
export class ConfigLinkStore {
  readonly #db: Driver;

  /** Opens the store on a migrated database. */
  constructor(db: Driver) {
    this.#db = db;
  }

  /** Records a link; the unique `artifact_id` makes a second link a conflict. */
  async link(configId: string, artifactId: string): Promise<void> {
    await this.#db.exec(`INSERT INTO "config_artifacts" ("config_id", "artifact_id") VALUES (?, ?)`, [configId, artifactId]);
  }

  /** Removes the link between this config and this artifact; true when there was one. */
  async unlink(configId: string, artifactId: string): Promise<boolean> {
    const { changes } = await this.#db.exec(
      `DELETE FROM "config_artifacts" WHERE "config_id" = ? AND "artifact_id" = ?`,
      [configId, artifactId],
    );
    return changes > 0;
  }

  /** The id of the config linked to this artifact, or null. */
  async configIdOf(artifactId: string): Promise<string | null> {
    const rows = await this.#db.query<{ config_id: string }>(
      `SELECT "config_id" FROM "config_artifacts" WHERE "artifact_id" = ?`,
      [artifactId],
    );
    return rows[0]?.config_id ?? null;
  }

  /** The ids of the artifacts linked to this config, ascending. */
  async artifactIdsOf(configId: string): Promise<string[]> {
    const rows = await this.#db.query<{ artifact_id: string }>(
      `SELECT "artifact_id" FROM "config_artifacts" WHERE "config_id" = ? ORDER BY "artifact_id"`,
      [configId],
    );
    return rows.map((row) => row.artifact_id);
  }
}
