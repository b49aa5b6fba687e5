import { defineTable, type EntityRecord, type TableDefinition } from "../../core/entity.ts";
import type { Driver } from "../../db/driver.ts";
import type { Migration } from "../../db/migration.ts";
import { createRepository, type SqlRepository } from "../../db/repository.ts";
import { entityTableMigrations } from "../../db/table-migration.ts";

/** The steps of a pipeline run, in order. */
export const PIPELINE_STEPS = ["train", "evaluate", "register", "promote"] as const;

/** One step of a pipeline run. */
export type PipelineStepName = typeof PIPELINE_STEPS[number];

/** What a step stored: its job and, once it completed, its outcome. */
export interface StoredStep {
  job_id: string;
  /** What the step found or did (the train step's run and model, the scores, the version, the promotion). */
  outcome: Record<string, unknown> | null;
}

/** A stored pipeline run. */
export interface PipelineRunRecord extends EntityRecord {
  pipeline: string;
  /** `running`, then `completed` or `failed`. */
  status: "running" | "completed" | "failed";
  /** `manual` (`$run`, code) or `schedule` (its cron). */
  trigger: "manual" | "schedule";
  /** The job that started it (loads the data, enqueues the steps). */
  start_job_id: string | null;
  started_at: string;
  finished_at: string | null;
  error: string | null;
}

/** The `pipeline_runs` table. */
export const pipelineRunsTable: TableDefinition = defineTable({
  name: "pipeline_runs",
  columns: {
    pipeline: { type: "text", indexed: true },
    status: { type: "text" },
    trigger: { type: "text" },
    start_job_id: { type: "text", nullable: true },
    started_at: { type: "timestamp" },
    finished_at: { type: "timestamp", nullable: true },
    error: { type: "text", nullable: true },
  },
});

function stepsTable(id: string): string {
  return `CREATE TABLE pipeline_steps (
  pipeline_run_id ${id} NOT NULL,
  step TEXT NOT NULL,
  job_id TEXT,
  outcome TEXT,
  PRIMARY KEY (pipeline_run_id, step)
)`;
}

/**
 * The migrations of the pipelines module (module `pipelines`): the
 * `pipeline_runs` entity table and `pipeline_steps`, one row per step of a
 * run, so the job that enqueues a step and the step itself write their parts
 * without overwriting each other.
 */
export const PIPELINES_MIGRATIONS: readonly Migration[] = [
  ...entityTableMigrations(pipelineRunsTable, "pipelines"),
  {
    module: "pipelines",
    version: 3,
    name: "create pipeline_steps",
    up: { sqlite: stepsTable("TEXT"), postgres: stepsTable("VARCHAR(26)") },
    down: "DROP TABLE pipeline_steps;",
  },
];

/** Sets a step's job (keeping its outcome). */
export async function setStepJob(db: Driver, runId: string, step: PipelineStepName, jobId: string): Promise<void> {
  await db.exec(
    `INSERT INTO pipeline_steps (pipeline_run_id, step, job_id, outcome) VALUES (?, ?, ?, NULL)
     ON CONFLICT (pipeline_run_id, step) DO UPDATE SET job_id = excluded.job_id`,
    [runId, step, jobId],
  );
}

/** Sets a step's outcome (and its job, when the row is new). */
export async function setStepOutcome(
  db: Driver,
  runId: string,
  step: PipelineStepName,
  jobId: string,
  outcome: Record<string, unknown>,
): Promise<void> {
  await db.exec(
    `INSERT INTO pipeline_steps (pipeline_run_id, step, job_id, outcome) VALUES (?, ?, ?, ?)
     ON CONFLICT (pipeline_run_id, step) DO UPDATE SET outcome = excluded.outcome`,
    [runId, step, jobId, JSON.stringify(outcome)],
  );
}

/** The stored steps of pipeline runs: run id → step → job and outcome. */
export async function stepsOf(db: Driver, runIds: readonly string[]): Promise<Map<string, Partial<Record<PipelineStepName, StoredStep>>>> {
  const out = new Map<string, Partial<Record<PipelineStepName, StoredStep>>>(runIds.map((id) => [id, {}]));
  if (runIds.length === 0) return out;
  const rows = await db.query<{ pipeline_run_id: string; step: PipelineStepName; job_id: string | null; outcome: string | null }>(
    `SELECT pipeline_run_id, step, job_id, outcome FROM pipeline_steps WHERE pipeline_run_id IN (${runIds.map(() => "?").join(", ")})`,
    [...runIds],
  );
  for (const row of rows) {
    out.get(row.pipeline_run_id)![row.step] = {
      job_id: row.job_id ?? "",
      outcome: row.outcome === null ? null : JSON.parse(row.outcome) as Record<string, unknown>,
    };
  }
  return out;
}

/** The SQL repository of pipeline runs. */
export function createPipelineRunRepository(db: Driver): SqlRepository<PipelineRunRecord> {
  return createRepository<PipelineRunRecord>(db, pipelineRunsTable);
}
