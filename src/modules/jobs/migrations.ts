import type { Migration } from "../../db/migration.ts";

const STATUS_CHECK = "CHECK (status IN ('pending', 'running', 'completed', 'failed', 'canceled'))";

function createJobs(id: string, timestamp: string): string {
  return `CREATE TABLE jobs (
  id ${id} PRIMARY KEY,
  status TEXT NOT NULL ${STATUS_CHECK},
  submitted_at ${timestamp} NOT NULL,
  started_at ${timestamp},
  finished_at ${timestamp},
  error TEXT,
  error_traceback TEXT,
  artifact_id ${id},
  owner TEXT NOT NULL,
  owner_key TEXT,
  heartbeat_at ${timestamp} NOT NULL
);
CREATE INDEX ix_jobs_submitted_at ON jobs (submitted_at);
CREATE INDEX ix_jobs_status_heartbeat_at ON jobs (status, heartbeat_at);`;
}

/**
 * The schema of the jobs module (module `jobs`): one `jobs` table holding
 * each record with its lease (`owner`, `owner_key`, `heartbeat_at`).
 */
export const JOBS_MIGRATIONS: readonly Migration[] = [
  {
    module: "jobs",
    version: 1,
    name: "create jobs",
    up: { sqlite: createJobs("TEXT", "TEXT"), postgres: createJobs("VARCHAR(26)", "TIMESTAMPTZ(3)") },
    down: "DROP TABLE jobs;",
  },
  {
    module: "jobs",
    version: 2,
    name: "job progress",
    up: {
      sqlite: "ALTER TABLE jobs ADD COLUMN progress REAL;\nALTER TABLE jobs ADD COLUMN progress_message TEXT;",
      postgres: "ALTER TABLE jobs ADD COLUMN progress DOUBLE PRECISION;\nALTER TABLE jobs ADD COLUMN progress_message TEXT;",
    },
    down: "ALTER TABLE jobs DROP COLUMN progress_message;\nALTER TABLE jobs DROP COLUMN progress;",
  },
];
