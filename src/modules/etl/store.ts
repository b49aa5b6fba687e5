import { nowIso, toIso } from "../../core/time.ts";
import type { Driver, Row } from "../../db/driver.ts";
import type { Migration } from "../../db/migration.ts";
import type { EtlPipelineSpec, EtlRowError, EtlRunRecord, EtlRunStatus } from "./schema.ts";

function createTables(id: string, timestamp: string): string {
  return `CREATE TABLE etl_pipelines (
  name TEXT PRIMARY KEY,
  spec TEXT NOT NULL,
  origin TEXT NOT NULL CHECK (origin IN ('code', 'api')),
  created_at ${timestamp} NOT NULL,
  updated_at ${timestamp} NOT NULL
);
CREATE TABLE etl_runs (
  id ${id} PRIMARY KEY,
  pipeline TEXT NOT NULL,
  trigger TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed', 'skipped')),
  attempts INTEGER NOT NULL DEFAULT 0,
  started_at ${timestamp},
  finished_at ${timestamp},
  rows_read INTEGER NOT NULL DEFAULT 0,
  rows_dropped INTEGER NOT NULL DEFAULT 0,
  rows_invalid INTEGER NOT NULL DEFAULT 0,
  rows_inserted INTEGER NOT NULL DEFAULT 0,
  rows_updated INTEGER NOT NULL DEFAULT 0,
  fingerprint TEXT,
  errors TEXT,
  error TEXT
);
CREATE INDEX ix_etl_runs_pipeline ON etl_runs (pipeline, id);
CREATE TABLE etl_objects (
  pipeline TEXT NOT NULL,
  object_key TEXT NOT NULL,
  run_id ${id} NOT NULL,
  PRIMARY KEY (pipeline, object_key)
);`;
}

/**
 * The migrations of the ETL module: `etl_pipelines` (each definition as
 * JSON), `etl_runs` (one row per run, keyed by its job's id) and
 * `etl_objects` (the S3 objects each pipeline has loaded, so a run reads only
 * new ones).
 */
export const ETL_MIGRATIONS: readonly Migration[] = [{
  module: "etl",
  version: 1,
  name: "create etl_pipelines, etl_runs and etl_objects",
  up: { sqlite: createTables("TEXT", "TEXT"), postgres: createTables("VARCHAR(26)", "TIMESTAMPTZ(3)") },
  down: "DROP TABLE etl_objects;\nDROP TABLE etl_runs;\nDROP TABLE etl_pipelines;",
}];

/** A stored definition with where it came from and when. */
export interface StoredPipeline {
  spec: EtlPipelineSpec;
  origin: "code" | "api";
  created_at: string;
  updated_at: string;
}

function pipelineOf(row: Row): StoredPipeline {
  return {
    spec: JSON.parse(String(row.spec)) as EtlPipelineSpec,
    origin: row.origin === "code" ? "code" : "api",
    created_at: toIso(row.created_at as string),
    updated_at: toIso(row.updated_at as string),
  };
}

/** The definitions and runs of pipelines in SQL: every write a single statement. */
export class EtlStore {
  readonly #db: Driver;

  /** A store over a migrated `db`. */
  constructor(db: Driver) {
    this.#db = db;
  }

  /** Creates or replaces the definition `spec.name`; answers whether it was created. */
  async putPipeline(spec: EtlPipelineSpec, origin: "code" | "api"): Promise<boolean> {
    const now = nowIso();
    const { changes } = await this.#db.exec("UPDATE etl_pipelines SET spec = ?, origin = ?, updated_at = ? WHERE name = ?", [
      JSON.stringify(spec),
      origin,
      now,
      spec.name,
    ]);
    if (changes > 0) return false;
    await this.#db.exec(
      "INSERT INTO etl_pipelines (name, spec, origin, created_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, origin = excluded.origin, updated_at = excluded.updated_at",
      [spec.name, JSON.stringify(spec), origin, now, now],
    );
    return true;
  }

  /** Creates the definition; false when the name is taken. */
  async insertPipeline(spec: EtlPipelineSpec, origin: "code" | "api"): Promise<boolean> {
    const now = nowIso();
    const { changes } = await this.#db.exec(
      "INSERT INTO etl_pipelines (name, spec, origin, created_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
      [spec.name, JSON.stringify(spec), origin, now, now],
    );
    return changes > 0;
  }

  /** The definition named `name`, or null. */
  async pipeline(name: string): Promise<StoredPipeline | null> {
    const [row] = await this.#db.query("SELECT spec, origin, created_at, updated_at FROM etl_pipelines WHERE name = ?", [name]);
    return row ? pipelineOf(row) : null;
  }

  /** Every definition, by name. */
  async pipelines(): Promise<StoredPipeline[]> {
    return (await this.#db.query("SELECT spec, origin, created_at, updated_at FROM etl_pipelines ORDER BY name")).map(pipelineOf);
  }

  /** Removes the definition (its runs stay); false when there was none. */
  async deletePipeline(name: string): Promise<boolean> {
    const { changes } = await this.#db.exec("DELETE FROM etl_pipelines WHERE name = ?", [name]);
    await this.#db.exec("DELETE FROM etl_objects WHERE pipeline = ?", [name]);
    return changes > 0;
  }

  /** Records a run (pending) for job `id` unless one exists. */
  async openRun(id: string, pipeline: string, trigger: EtlRunRecord["trigger"]): Promise<void> {
    await this.#db.exec(
      "INSERT INTO etl_runs (id, pipeline, trigger, status) VALUES (?, ?, ?, 'pending') ON CONFLICT (id) DO NOTHING",
      [id, pipeline, trigger],
    );
  }

  /** Marks an attempt of the run started: `running`, counters reset. */
  async startRun(id: string, attempt: number): Promise<void> {
    await this.#db.exec(
      `UPDATE etl_runs SET status = 'running', attempts = ?, started_at = ?, finished_at = NULL, rows_read = 0, rows_dropped = 0,
         rows_invalid = 0, rows_inserted = 0, rows_updated = 0, errors = NULL, error = NULL WHERE id = ?`,
      [attempt, nowIso(), id],
    );
  }

  /** Records how an attempt ended. */
  async finishRun(
    id: string,
    outcome: { status: Exclude<EtlRunStatus, "pending" | "running">; counts?: RunCounts; fingerprint?: string | null; errors?: EtlRowError[]; error?: string | null },
  ): Promise<void> {
    const counts = outcome.counts ?? EMPTY_COUNTS;
    await this.#db.exec(
      `UPDATE etl_runs SET status = ?, finished_at = ?, rows_read = ?, rows_dropped = ?, rows_invalid = ?, rows_inserted = ?,
         rows_updated = ?, fingerprint = ?, errors = ?, error = ? WHERE id = ?`,
      [
        outcome.status,
        nowIso(),
        counts.read,
        counts.dropped,
        counts.invalid,
        counts.inserted,
        counts.updated,
        outcome.fingerprint ?? null,
        outcome.errors && outcome.errors.length > 0 ? JSON.stringify(outcome.errors) : null,
        outcome.error ?? null,
        id,
      ],
    );
  }

  /** The run with this id, or null. */
  async run(id: string): Promise<EtlRunRecord | null> {
    const [row] = await this.#db.query("SELECT * FROM etl_runs WHERE id = ?", [id]);
    return row ? runOf(row) : null;
  }

  /** A page of the pipeline's runs, newest first, with how many there are. */
  async runs(pipeline: string, page: number, size: number): Promise<{ items: EtlRunRecord[]; total: number }> {
    const rows = await this.#db.query("SELECT * FROM etl_runs WHERE pipeline = ? ORDER BY id DESC LIMIT ? OFFSET ?", [
      pipeline,
      size,
      (page - 1) * size,
    ]);
    const [count] = await this.#db.query<{ n: number | string }>("SELECT COUNT(*) AS n FROM etl_runs WHERE pipeline = ?", [pipeline]);
    return { items: rows.map(runOf), total: Number(count?.n ?? 0) };
  }

  /** The ids of the pipeline's runs recorded `running`, except `except`. */
  async runningRuns(pipeline: string, except: string): Promise<string[]> {
    const rows = await this.#db.query<{ id: string }>("SELECT id FROM etl_runs WHERE pipeline = ? AND status = 'running' AND id <> ?", [pipeline, except]);
    return rows.map((row) => String(row.id));
  }

  /** The fingerprint of the pipeline's newest completed run, or null. */
  async lastFingerprint(pipeline: string): Promise<string | null> {
    const [row] = await this.#db.query<{ fingerprint: string | null }>(
      "SELECT fingerprint FROM etl_runs WHERE pipeline = ? AND status IN ('completed', 'skipped') AND fingerprint IS NOT NULL ORDER BY finished_at DESC, id DESC LIMIT 1",
      [pipeline],
    );
    return row?.fingerprint ?? null;
  }

  /** Which of `keys` the pipeline has loaded already. */
  async loadedObjects(pipeline: string, keys: readonly string[]): Promise<Set<string>> {
    const loaded = new Set<string>();
    for (let i = 0; i < keys.length; i += 500) {
      const slice = keys.slice(i, i + 500);
      const rows = await this.#db.query<{ object_key: string }>(
        `SELECT object_key FROM etl_objects WHERE pipeline = ? AND object_key IN (${slice.map(() => "?").join(", ")})`,
        [pipeline, ...slice],
      );
      for (const row of rows) loaded.add(row.object_key);
    }
    return loaded;
  }

  /** Remembers that run `runId` loaded these objects (called inside the load's transaction, so a rolled-back load forgets them). */
  async markObjects(pipeline: string, runId: string, keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 500) {
      const slice = keys.slice(i, i + 500);
      await this.#db.exec(
        `INSERT INTO etl_objects (pipeline, object_key, run_id) VALUES ${slice.map(() => "(?, ?, ?)").join(", ")} ON CONFLICT (pipeline, object_key) DO NOTHING`,
        slice.flatMap((key) => [pipeline, key, runId]),
      );
    }
  }
}

/** The row counts of a run. */
export interface RunCounts {
  read: number;
  dropped: number;
  invalid: number;
  inserted: number;
  updated: number;
}

const EMPTY_COUNTS: RunCounts = { read: 0, dropped: 0, invalid: 0, inserted: 0, updated: 0 };

function timestamp(value: unknown): string | null {
  return value === null || value === undefined ? null : toIso(value as string);
}

function runOf(row: Row): EtlRunRecord {
  const inserted = Number(row.rows_inserted);
  const updated = Number(row.rows_updated);
  return {
    id: String(row.id),
    pipeline: String(row.pipeline),
    trigger: row.trigger === "manual" ? "manual" : "schedule",
    status: String(row.status) as EtlRunStatus,
    attempts: Number(row.attempts),
    started_at: timestamp(row.started_at),
    finished_at: timestamp(row.finished_at),
    rows_read: Number(row.rows_read),
    rows_dropped: Number(row.rows_dropped),
    rows_invalid: Number(row.rows_invalid),
    rows_loaded: inserted + updated,
    rows_inserted: inserted,
    rows_updated: updated,
    fingerprint: row.fingerprint === null || row.fingerprint === undefined ? null : String(row.fingerprint),
    errors: row.errors === null || row.errors === undefined ? [] : JSON.parse(String(row.errors)) as EtlRowError[],
    error: row.error === null || row.error === undefined ? null : String(row.error),
  };
}
