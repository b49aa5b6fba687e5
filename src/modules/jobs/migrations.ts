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
 * The PostgreSQL claim and attempt-end writes (see `SqlJobStore.claim` and `finishMany`) as
 * functions, for their planner settings: a claim reads the eligible jobs in queue order from
 * `ix_jobs_queue` and stops at its limit, a batch of ends finds each job by its primary key,
 * whatever the statistics say. Without statistics (a table not yet analyzed) or with old ones
 * (a burst after a quiet spell) the planner would read every pending (or running) job on every
 * claim (or batch of ends) and sort them; no statement-level hint exists, a function's `SET` is
 * the per-call setting. No line of a body ends with `;` (see `splitStatements`).
 */
const QUEUE_FUNCTIONS = `CREATE FUNCTION chapkit_jobs_claim(p_names TEXT[], p_owner TEXT, p_owner_key TEXT, p_now TIMESTAMPTZ,
  p_limit INTEGER)
RETURNS TABLE (id VARCHAR, name TEXT, payload TEXT, attempts INTEGER, max_attempts INTEGER, backoff TEXT,
  timeout_ms INTEGER, priority INTEGER)
LANGUAGE sql VOLATILE SET enable_bitmapscan = off SET enable_sort = off SET enable_seqscan = off
AS $$
  WITH next AS (
    SELECT j.ctid AS row_id FROM jobs j
    WHERE j.status = 'pending' AND j.run_at <= p_now
      AND (j.name = ANY(p_names) OR (j.name IS NULL AND j.owner = p_owner))
      AND (j.deps = 0 OR NOT EXISTS (SELECT 1 FROM job_dependencies d
        LEFT JOIN (SELECT id, status FROM jobs UNION ALL SELECT id, status FROM job_history) p ON p.id = d.depends_on
        WHERE d.job_id = j.id AND (p.id IS NULL OR p.status <> 'completed')))
    ORDER BY j.priority DESC, j.id LIMIT p_limit FOR UPDATE OF j SKIP LOCKED
  )
  UPDATE jobs SET status = 'running', owner = p_owner, owner_key = p_owner_key, heartbeat_at = p_now,
    started_at = p_now, attempts = jobs.attempts + 1, progress = NULL, progress_message = NULL
  WHERE jobs.ctid = ANY(ARRAY(SELECT row_id FROM next)) AND jobs.status = 'pending'
  RETURNING jobs.id, jobs.name, jobs.payload, jobs.attempts, jobs.max_attempts, jobs.backoff, jobs.timeout_ms,
    jobs.priority
$$;
CREATE FUNCTION chapkit_jobs_finish(p_ends TEXT) RETURNS SETOF jobs
LANGUAGE sql VOLATILE SET enable_hashjoin = off SET enable_mergejoin = off SET enable_material = off
  SET enable_bitmapscan = off SET enable_seqscan = off
AS $$
  UPDATE jobs SET status = v.status, finished_at = v.finished_at, error = v.error,
    error_traceback = v.error_traceback, artifact_id = v.artifact_id,
    last_error = COALESCE(v.last_error, jobs.last_error), run_at = COALESCE(v.run_at, jobs.run_at),
    dead_letter = v.dead_letter
  FROM json_to_recordset(CAST(p_ends AS json)) AS v(id TEXT, owner TEXT, attempt INTEGER, status TEXT,
    finished_at TIMESTAMPTZ, error TEXT, error_traceback TEXT, artifact_id TEXT, last_error TEXT,
    run_at TIMESTAMPTZ, dead_letter BOOLEAN)
  WHERE jobs.id = v.id AND (jobs.status = 'running') IS TRUE AND jobs.owner = v.owner AND jobs.attempts = v.attempt
  RETURNING jobs.*
$$`;

/**
 * The schema of the jobs module (module `jobs`): the `jobs` table holding
 * each record with its lease (`owner`, `owner_key`, `heartbeat_at`), its
 * progress and its queue fields (name, payload, priority, attempts, run
 * time, dedup key), `job_dependencies` (which job waits for which), and the
 * cron schedules with one row per fired tick (`job_schedules`,
 * `job_schedule_ticks`), `job_history`, where finished jobs move
 * when the service archives them (`withJobs({ history })`), and on
 * PostgreSQL the claim and attempt-end functions.
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
  {
    module: "jobs",
    version: 6,
    name: "job claims and ends by index",
    up: { sqlite: "", postgres: QUEUE_FUNCTIONS },
    down: {
      sqlite: "",
      postgres: "DROP FUNCTION IF EXISTS chapkit_jobs_finish(TEXT);\nDROP FUNCTION IF EXISTS chapkit_jobs_claim(TEXT[], TEXT, TEXT, TIMESTAMPTZ, INTEGER);",
    },
  },
];
