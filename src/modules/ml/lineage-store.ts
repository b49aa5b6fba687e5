import type { Driver, Executor } from "../../db/driver.ts";
import type { Migration } from "../../db/migration.ts";
import type { ContentStore } from "../../storage/content-store.ts";

/** What produced an artifact: a training run, a prediction or a batch prediction. */
export type LineageKind = "trained_model" | "prediction" | "batch_prediction";

/** One input of a run, stored once in the content store and named by its digest. */
export interface LineageInput {
  /** What the input was to the run: `data`, `geo`, `config`, `future`, `historic`, `input`. */
  role: string;
  /** `sha256:<hex>` of the stored bytes. */
  digest: string;
  /** Size of the stored bytes. */
  size: number;
  /** Media type of the stored bytes (`application/json`, `text/csv`…). */
  content_type: string;
  /** The artifact the input was read from, when it came from one (a batch input uploaded earlier). */
  source_artifact_id: string | null;
}

/** The record of how one artifact was produced. */
export interface LineageRecord {
  /** The produced artifact. */
  artifact_id: string;
  /** What produced it. */
  kind: LineageKind;
  /** The model that predicted (predictions), or null (training). */
  model_artifact_id: string | null;
  /** The config the run read. */
  config_id: string | null;
  /** The registry name the run registered or used, when there is one. */
  model_name: string | null;
  /** That registry version. */
  model_version: string | null;
  /** The service's version when the run happened. */
  service_version: string | null;
  /** The runner's own `codeVersion`, when it declares one. */
  runner_version: string | null;
  /** The job that ran it, when it ran as a job. */
  job_id: string | null;
  /** When it was recorded (ISO 8601). */
  created_at: string;
  /** What it read, content-addressed. */
  inputs: LineageInput[];
}

const RECORD_COLUMNS =
  `"artifact_id", "kind", "model_artifact_id", "config_id", "model_name", "model_version", "service_version", "runner_version", "job_id", "created_at"`;

function createSql(big: string): string {
  return `CREATE TABLE "chapkit_lineage" (
  "artifact_id" TEXT PRIMARY KEY,
  "kind" TEXT NOT NULL,
  "model_artifact_id" TEXT,
  "config_id" TEXT,
  "model_name" TEXT,
  "model_version" TEXT,
  "service_version" TEXT,
  "runner_version" TEXT,
  "job_id" TEXT,
  "created_at" TEXT NOT NULL
);
CREATE INDEX "chapkit_lineage_model" ON "chapkit_lineage" ("model_artifact_id");
CREATE TABLE "chapkit_lineage_inputs" (
  "artifact_id" TEXT NOT NULL REFERENCES "chapkit_lineage"("artifact_id") ON DELETE CASCADE,
  "role" TEXT NOT NULL,
  "digest" TEXT NOT NULL,
  "size" ${big} NOT NULL,
  "content_type" TEXT NOT NULL,
  "source_artifact_id" TEXT,
  PRIMARY KEY ("artifact_id", "role")
);
CREATE INDEX "chapkit_lineage_inputs_digest" ON "chapkit_lineage_inputs" ("digest");
CREATE INDEX "chapkit_lineage_inputs_source" ON "chapkit_lineage_inputs" ("source_artifact_id");`;
}

/** The migrations of ML lineage: who produced each model and prediction, from which content. */
export const lineageMigrations: readonly Migration[] = [{
  module: "ml-lineage",
  version: 1,
  name: "create chapkit_lineage and chapkit_lineage_inputs",
  up: { sqlite: createSql("INTEGER"), postgres: createSql("BIGINT") },
  down: `DROP TABLE "chapkit_lineage_inputs";\nDROP TABLE "chapkit_lineage";`,
}];

type Row = Record<string, unknown>;

function toRecord(row: Row, inputs: LineageInput[]): LineageRecord {
  const text = (key: string): string | null => (row[key] === null || row[key] === undefined ? null : String(row[key]));
  return {
    artifact_id: String(row.artifact_id),
    kind: String(row.kind) as LineageKind,
    model_artifact_id: text("model_artifact_id"),
    config_id: text("config_id"),
    model_name: text("model_name"),
    model_version: text("model_version"),
    service_version: text("service_version"),
    runner_version: text("runner_version"),
    job_id: text("job_id"),
    created_at: String(row.created_at),
    inputs,
  };
}

function toInput(row: Row): LineageInput {
  return {
    role: String(row.role),
    digest: String(row.digest),
    size: Number(row.size),
    content_type: String(row.content_type),
    source_artifact_id: row.source_artifact_id === null || row.source_artifact_id === undefined ? null : String(row.source_artifact_id),
  };
}

const hex = (digest: string): string => digest.replace(/^sha256:/, "");

/**
 * Lineage records in the service's database. Each input's content is held
 * (reference-counted) in the {@link ContentStore} while a record names it,
 * so the data a model was trained on outlives the request that carried it.
 */
export class LineageStore {
  readonly #db: Driver;
  readonly #content: ContentStore;

  /** Creates the store over a migrated database and the content store inputs live in. */
  constructor(db: Driver, content: ContentStore) {
    this.#db = db;
    this.#content = content;
  }

  /** Records how an artifact was produced and holds its inputs, in one transaction. */
  async record(record: Omit<LineageRecord, "created_at"> & { created_at?: string }): Promise<LineageRecord> {
    const full: LineageRecord = { ...record, created_at: record.created_at ?? new Date().toISOString() };
    await this.#db.transaction(async (tx) => {
      await tx.exec(
        `INSERT INTO "chapkit_lineage" (${RECORD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [full.artifact_id, full.kind, full.model_artifact_id, full.config_id, full.model_name, full.model_version,
          full.service_version, full.runner_version, full.job_id, full.created_at],
      );
      for (const input of full.inputs) {
        await tx.exec(
          `INSERT INTO "chapkit_lineage_inputs" ("artifact_id", "role", "digest", "size", "content_type", "source_artifact_id") VALUES (?, ?, ?, ?, ?, ?)`,
          [full.artifact_id, input.role, input.digest, input.size, input.content_type, input.source_artifact_id],
        );
        await this.#content.retain(hex(input.digest), tx);
      }
    });
    return full;
  }

  /** The record of an artifact, or null when nothing recorded how it was produced. */
  async get(artifactId: string): Promise<LineageRecord | null> {
    const rows = await this.#db.query(`SELECT ${RECORD_COLUMNS} FROM "chapkit_lineage" WHERE "artifact_id" = ?`, [artifactId]);
    if (!rows[0]) return null;
    return toRecord(rows[0], await this.#inputs(this.#db, artifactId));
  }

  async #inputs(executor: Executor, artifactId: string): Promise<LineageInput[]> {
    const rows = await executor.query(
      `SELECT "role", "digest", "size", "content_type", "source_artifact_id" FROM "chapkit_lineage_inputs" WHERE "artifact_id" = ? ORDER BY "role"`,
      [artifactId],
    );
    return rows.map(toInput);
  }

  /**
   * The artifacts produced from this one: predictions of a model, and runs
   * that read it as an input; oldest first.
   */
  async producedFrom(artifactId: string): Promise<string[]> {
    const rows = await this.#db.query<{ artifact_id: string; created_at: string }>(
      `SELECT "artifact_id", "created_at" FROM "chapkit_lineage" WHERE "model_artifact_id" = ?
       UNION SELECT l."artifact_id", l."created_at" FROM "chapkit_lineage" l JOIN "chapkit_lineage_inputs" i ON i."artifact_id" = l."artifact_id"
       WHERE i."source_artifact_id" = ? ORDER BY "created_at", "artifact_id"`,
      [artifactId, artifactId],
    );
    return rows.map((row) => String(row.artifact_id));
  }

  /** The artifacts whose runs read this content (`sha256:<hex>`), oldest first. */
  async usersOf(digest: string): Promise<string[]> {
    const rows = await this.#db.query<{ artifact_id: string }>(
      `SELECT l."artifact_id" FROM "chapkit_lineage" l JOIN "chapkit_lineage_inputs" i ON i."artifact_id" = l."artifact_id"
       WHERE i."digest" = ? ORDER BY l."created_at", l."artifact_id"`,
      [digest],
    );
    return [...new Set(rows.map((row) => String(row.artifact_id)))];
  }

  /**
   * Drops the records of deleted artifacts and releases their inputs; a
   * record already dropped (by another instance) releases nothing.
   */
  async forget(artifactIds: readonly string[]): Promise<number> {
    let forgotten = 0;
    for (const id of artifactIds) {
      await this.#db.transaction(async (tx) => {
        const inputs = await this.#inputs(tx, id);
        await tx.exec(`DELETE FROM "chapkit_lineage_inputs" WHERE "artifact_id" = ?`, [id]);
        const { changes } = await tx.exec(`DELETE FROM "chapkit_lineage" WHERE "artifact_id" = ?`, [id]);
        if (changes === 0) return;
        forgotten += 1;
        for (const input of inputs) await this.#content.release(hex(input.digest), tx);
      });
    }
    return forgotten;
  }
}
