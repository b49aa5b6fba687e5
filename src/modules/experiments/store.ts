import type { Driver } from "../../db/driver.ts";
import type { Migration } from "../../db/migration.ts";
import { createRepository, type SqlRepository } from "../../db/repository.ts";
import { tableMigration, versionColumnMigration } from "../../db/table-migration.ts";
import { type ExperimentRecord, experimentsTable, type MetricPoint, type RunRecord, runsTable } from "./schema.ts";

function metricsTable(real: string, big: string): string {
  return `CREATE TABLE run_metrics (
  run_id TEXT NOT NULL,
  key TEXT NOT NULL,
  step ${big} NOT NULL,
  value ${real} NOT NULL,
  timestamp TEXT NOT NULL
);
CREATE INDEX ix_run_metrics_run ON run_metrics (run_id, key, step)`;
}

/**
 * The schema of the experiments module (module `experiments`): the
 * `experiments` and `runs` entity tables and `run_metrics`, every logged
 * value of every metric (the series curves are drawn from).
 */
export const EXPERIMENTS_MIGRATIONS: readonly Migration[] = [
  tableMigration(experimentsTable, "experiments"),
  versionColumnMigration(experimentsTable, "experiments", 2),
  { ...tableMigration(runsTable, "experiments"), version: 3 },
  versionColumnMigration(runsTable, "experiments", 4),
  {
    module: "experiments",
    version: 5,
    name: "create run_metrics",
    up: { sqlite: metricsTable("REAL", "INTEGER"), postgres: metricsTable("DOUBLE PRECISION", "BIGINT") },
    down: "DROP TABLE run_metrics;",
  },
];

/** The SQL repository of experiments. */
export function createExperimentRepository(db: Driver): SqlRepository<ExperimentRecord> {
  return createRepository<ExperimentRecord>(db, experimentsTable);
}

/** The SQL repository of runs. */
export function createRunRepository(db: Driver): SqlRepository<RunRecord> {
  return createRepository<RunRecord>(db, runsTable);
}

/** Appends metric points of a run (one statement per 200 points). */
export async function insertMetricPoints(db: Driver, runId: string, points: readonly MetricPoint[]): Promise<void> {
  for (let start = 0; start < points.length; start += 200) {
    const chunk = points.slice(start, start + 200);
    await db.exec(
      `INSERT INTO run_metrics (run_id, key, step, value, timestamp) VALUES ${chunk.map(() => "(?, ?, ?, ?, ?)").join(", ")}`,
      chunk.flatMap((point) => [runId, point.key, point.step, point.value, point.timestamp]),
    );
  }
}

/** The logged points of runs (of one metric when given), by run, metric and step. */
export async function metricPoints(
  db: Driver,
  runIds: readonly string[],
  key?: string,
): Promise<Map<string, MetricPoint[]>> {
  const byRun = new Map<string, MetricPoint[]>(runIds.map((id) => [id, []]));
  if (runIds.length === 0) return byRun;
  const rows = await db.query<{ run_id: string; key: string; step: number | string; value: number | string; timestamp: string }>(
    `SELECT run_id, key, step, value, timestamp FROM run_metrics WHERE run_id IN (${runIds.map(() => "?").join(", ")})` +
      (key === undefined ? "" : " AND key = ?") + " ORDER BY run_id, key, step, timestamp",
    key === undefined ? [...runIds] : [...runIds, key],
  );
  for (const row of rows) {
    byRun.get(row.run_id)?.push({ key: row.key, step: Number(row.step), value: Number(row.value), timestamp: row.timestamp });
  }
  return byRun;
}

/** Removes the logged points of a run. */
export async function deleteMetricPoints(db: Driver, runId: string): Promise<void> {
  await db.exec("DELETE FROM run_metrics WHERE run_id = ?", [runId]);
}
