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

/** The channel on which PostgreSQL announces new jobs, so idle runners claim at once instead of at their next poll. */
export const JOBS_CHANNEL = "chapkit_jobs";

const NOTIFY_TRIGGER = `CREATE FUNCTION chapkit_jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('${JOBS_CHANNEL}', ''); RETURN NULL; END $$;
CREATE TRIGGER jobs_notify AFTER INSERT ON jobs FOR EACH STATEMENT EXECUTE FUNCTION chapkit_jobs_notify();`;

function queueColumns(id: string, timestamp: string, boolean: string, falsy: string): string {
  return `ALTER TABLE jobs ADD COLUMN name TEXT;
ALTER TABLE jobs ADD COLUMN payload TEXT;
ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN max_attempts INTEGER NOT NULL DEFAULT 1;
ALTER TABLE jobs ADD COLUMN backoff TEXT;
ALTER TABLE jobs ADD COLUMN timeout_ms INTEGER;
ALTER TABLE jobs ADD COLUMN dedup_key TEXT;
ALTER TABLE jobs ADD COLUMN run_at ${timestamp};
ALTER TABLE jobs ADD COLUMN last_error TEXT;
ALTER TABLE jobs ADD COLUMN dead_letter ${boolean} NOT NULL DEFAULT ${falsy};
ALTER TABLE jobs ADD COLUMN deps INTEGER NOT NULL DEFAULT 0;
UPDATE jobs SET run_at = submitted_at, attempts = CASE WHEN status = 'pending' THEN 0 ELSE 1 END;
CREATE TABLE job_dependencies (
  job_id ${id} NOT NULL,
  depends_on ${id} NOT NULL,
  PRIMARY KEY (job_id, depends_on)
);
CREATE INDEX ix_job_dependencies_depends_on ON job_dependencies (depends_on);
CREATE UNIQUE INDEX ux_jobs_dedup_key ON jobs (dedup_key)
  WHERE dedup_key IS NOT NULL AND status IN ('pending', 'running');
CREATE INDEX ix_jobs_queue ON jobs (priority DESC, id) WHERE status = 'pending';
CREATE INDEX ix_jobs_owner_active ON jobs (owner) WHERE status IN ('pending', 'running');`;
}

function dropQueue(): string {
  const columns = ["deps", "dead_letter", "last_error", "run_at", "dedup_key", "timeout_ms", "backoff", "max_attempts",
    "attempts", "priority", "payload", "name"];
  return `DROP INDEX ix_jobs_owner_active;
DROP INDEX ix_jobs_queue;
DROP INDEX ux_jobs_dedup_key;
DROP TABLE job_dependencies;
${columns.map((column) => `ALTER TABLE jobs DROP COLUMN ${column};`).join("\n")}`;
}

function createSchedules(id: string, timestamp: string): string {
  return `CREATE TABLE job_schedules (
  name TEXT PRIMARY KEY,
  cron TEXT NOT NULL,
  job TEXT NOT NULL,
  payload TEXT,
  timezone TEXT,
  missed TEXT NOT NULL CHECK (missed IN ('skip', 'run_once')),
  next_run_at ${timestamp} NOT NULL,
  last_run_at ${timestamp},
  last_job_id ${id},
  created_at ${timestamp} NOT NULL,
  updated_at ${timestamp} NOT NULL
);
CREATE INDEX ix_job_schedules_next_run_at ON job_schedules (next_run_at);
CREATE TABLE job_schedule_ticks (
  schedule TEXT NOT NULL,
  tick ${timestamp} NOT NULL,
  job_id ${id} NOT NULL,
  PRIMARY KEY (schedule, tick)
);`;
}

/**
 * The history of finished jobs: the columns of `jobs` (new columns of `jobs`
 * must be added here too), range-partitioned by `finished_at` on PostgreSQL
 * (primary key `(id, finished_at)`, a default partition for rows no
 * partition covers); a plain table on SQLite.
 */
const JOB_HISTORY = {
  sqlite: `CREATE TABLE job_history AS SELECT * FROM jobs WHERE 0;
CREATE INDEX ix_job_history_id ON job_history (id);
CREATE INDEX ix_job_history_finished_at ON job_history (finished_at);`,
  postgres: `CREATE TABLE job_history (LIKE jobs INCLUDING DEFAULTS) PARTITION BY RANGE (finished_at);
ALTER TABLE job_history ADD PRIMARY KEY (id, finished_at);
CREATE TABLE job_history_default PARTITION OF job_history DEFAULT;
CREATE INDEX ix_job_history_submitted_at ON job_history (submitted_at);`,
};

/**
 * The schema of the jobs module (module `jobs`): the `jobs` table holding
 * each record with its lease (`owner`, `owner_key`, `heartbeat_at`), its
 * progress and its queue fields (name, payload, priority, attempts, run
 * time, dedup key), `job_dependencies` (which job waits for which), and the
 * cron schedules with one row per fired tick (`job_schedules`,
 * `job_schedule_ticks`), and `job_history`, where finished jobs move
 * when the service archives them (`withJobs({ history })`).
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
  {
    module: "jobs",
    version: 3,
    name: "job queue",
    up: {
      sqlite: queueColumns("TEXT", "TEXT", "INTEGER", "0"),
      postgres: `${queueColumns("VARCHAR(26)", "TIMESTAMPTZ(3)", "BOOLEAN", "FALSE")};
${NOTIFY_TRIGGER}`,
    },
    down: {
      sqlite: dropQueue(),
      postgres: `DROP TRIGGER IF EXISTS jobs_notify ON jobs;\nDROP FUNCTION IF EXISTS chapkit_jobs_notify();\n${dropQueue()}`,
    },
  },
  {
    module: "jobs",
    version: 4,
    name: "job schedules",
    up: { sqlite: createSchedules("TEXT", "TEXT"), postgres: createSchedules("VARCHAR(26)", "TIMESTAMPTZ(3)") },
    down: "DROP TABLE job_schedule_ticks;\nDROP TABLE job_schedules;",
  },
  { module: "jobs", version: 5, name: "job history", up: JOB_HISTORY, down: "DROP TABLE job_history;" },
];
