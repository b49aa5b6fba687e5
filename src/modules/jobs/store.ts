import { ValidationError } from "../../core/errors.ts";
import type { Driver, Executor, Row, SqlValue } from "../../db/driver.ts";
import {
  type AppliedEnds,
  type AttemptEnd,
  type ClaimedJob,
  type ClaimOptions,
  JOB_INTERRUPTED_PREFIX,
  JOB_INTERRUPTED_SUFFIX,
  type JobLease,
  type JobOutcome,
  type JobStore,
  type NewJob,
  type SweepOptions,
} from "./job-store.ts";
import type { JobBackoff, JobRecord, JobStatus } from "./types.ts";
import { decode, parsed, placeholders, text, textArray } from "./_rows.ts";

const COLUMNS = "id, status, submitted_at, started_at, finished_at, error, error_traceback, artifact_id, " +
  "progress, progress_message, name, payload, priority, attempts, max_attempts, last_error, run_at, dead_letter, " +
  "dedup_key, deps";
/** {@link COLUMNS} of `jobs` in a statement that joins another source with like-named columns. */
const RETURNED = COLUMNS.split(", ").map((column) => `jobs.${column}`).join(", ");
const CLAIMED = "id, name, payload, attempts, max_attempts, backoff, timeout_ms, priority";
const ACTIVE = "status IN ('pending', 'running')";
const MAX_IDS = 500;
const ENQUEUE_ROWS = 500;
/** Every job's id and status, live or archived: a dependency may have moved to the history. */
const ALL_JOBS = "(SELECT id, status FROM jobs UNION ALL SELECT id, status FROM job_history)";
/** Active jobs whose dependency failed, was canceled or is gone. */
const BLOCKED_DEPENDENCY = `SELECT d.depends_on FROM job_dependencies d LEFT JOIN ${ALL_JOBS} p ON p.id = d.depends_on
  WHERE d.job_id = jobs.id AND (p.id IS NULL OR p.status IN ('failed', 'canceled'))`;

/**
 * The {@link JobStore} of a service's database (`jobs` and
 * `job_dependencies`, see `JOBS_MIGRATIONS`). Every transition is one
 * conditional statement: claims lock with `FOR UPDATE SKIP LOCKED` on
 * PostgreSQL (SQLite serialises writers), attempt ends apply in batches and
 * only for the owner and attempt that ran them, and a sweep re-checks the
 * heartbeat of each row it changes.
 */
export class SqlJobStore implements JobStore {
  readonly #db: Driver;
  readonly #true: string;
  readonly #postgres: boolean;

  /** A store over `db`, whose schema the jobs migrations created. */
  constructor(db: Driver) {
    this.#db = db;
    this.#postgres = db.dialect === "postgres";
    this.#true = this.#postgres ? "TRUE" : "1";
  }

  async insert(record: JobRecord, lease: JobLease): Promise<void> {
    await this.#db.exec(
      `INSERT INTO jobs (id, status, submitted_at, started_at, finished_at, error, error_traceback, artifact_id,
       owner, owner_key, heartbeat_at, run_at, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        record.id,
        record.status,
        record.submitted_at,
        record.started_at,
        record.finished_at,
        record.error,
        record.error_traceback,
        record.artifact_id,
        lease.owner,
        lease.ownerKey,
        lease.heartbeatAt,
        record.submitted_at,
        record.status === "pending" ? 0 : 1,
      ],
    );
  }

  async enqueue(jobs: readonly NewJob[]): Promise<{ record: JobRecord; created: boolean }[]> {
    const withDeps = jobs.some((job) => job.dependsOn.length > 0);
    const run = (db: Executor) => this.#enqueueOn(db, jobs);
    return withDeps || jobs.length > ENQUEUE_ROWS ? await this.#db.transaction(run) : await run(this.#db);
  }

  async #enqueueOn(db: Executor, jobs: readonly NewJob[]): Promise<{ record: JobRecord; created: boolean }[]> {
    const inserted = new Set<string>();
    for (let start = 0; start < jobs.length; start += ENQUEUE_ROWS) {
      const chunk = jobs.slice(start, start + ENQUEUE_ROWS);
      const params: SqlValue[] = [];
      for (const job of chunk) {
        params.push(
          job.id,
          job.submittedAt,
          job.owner,
          job.submittedAt,
          job.name,
          JSON.stringify(job.payload ?? null),
          job.priority,
          job.maxAttempts,
          job.backoff === null ? null : JSON.stringify(job.backoff),
          job.timeoutMs,
          job.dedupKey,
          job.runAt,
          job.dependsOn.length,
        );
      }
      const rows = await db.query(
        `INSERT INTO jobs (id, status, submitted_at, owner, heartbeat_at, name, payload, priority, max_attempts, backoff,
         timeout_ms, dedup_key, run_at, deps) VALUES ${
          chunk.map(() => "(?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)").join(", ")
        } ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`,
        params,
      );
      for (const row of rows) inserted.add(String(row.id));
    }
    const dependencies = jobs.filter((job) => inserted.has(job.id) && job.dependsOn.length > 0);
    if (dependencies.length > 0) await this.#insertDependencies(db, dependencies);
    const out: { record: JobRecord; created: boolean }[] = [];
    for (const job of jobs) {
      if (inserted.has(job.id)) {
        out.push({ record: this.#fresh(job), created: true });
        continue;
      }
      const rows = await db.query(
        `SELECT ${COLUMNS} FROM jobs WHERE dedup_key = ? AND ${ACTIVE}`,
        [job.dedupKey],
      );
      if (!rows[0]) throw new Error(`Job ${job.id} was neither stored nor a duplicate of an active job`);
      out.push({ record: decode(rows[0], await this.#dependsOn(db, String(rows[0].id))), created: false });
    }
    return out;
  }

  async #insertDependencies(db: Executor, jobs: readonly NewJob[]): Promise<void> {
    const pairs = jobs.flatMap((job) => [...new Set(job.dependsOn)].map((dep) => [job.id, dep] as const));
    const wanted = [...new Set(pairs.map(([, dep]) => dep))];
    const found = new Set<string>();
    for (let start = 0; start < wanted.length; start += MAX_IDS) {
      const chunk = wanted.slice(start, start + MAX_IDS);
      const rows = await db.query(
        `SELECT id FROM jobs WHERE id IN (${placeholders(chunk.length)}) UNION ALL SELECT id FROM job_history WHERE id IN (${placeholders(chunk.length)})`,
        [...chunk, ...chunk],
      );
      for (const row of rows) found.add(String(row.id));
    }
    const missing = wanted.filter((id) => !found.has(id));
    if (missing.length > 0) {
      throw new ValidationError([{
        loc: ["body", "depends_on"],
        msg: `Unknown job${missing.length === 1 ? "" : "s"}: ${missing.join(", ")}`,
        type: "value_error",
      }]);
    }
    for (let start = 0; start < pairs.length; start += MAX_IDS) {
      const chunk = pairs.slice(start, start + MAX_IDS);
      await db.exec(
        `INSERT INTO job_dependencies (job_id, depends_on) VALUES ${chunk.map(() => "(?, ?)").join(", ")}`,
        chunk.flat(),
      );
    }
  }

  #fresh(job: NewJob): JobRecord {
    return {
      id: job.id,
      status: "pending",
      submitted_at: job.submittedAt,
      started_at: null,
      finished_at: null,
      error: null,
      error_traceback: null,
      artifact_id: null,
      name: job.name,
      payload: job.payload ?? null,
      priority: job.priority,
      attempts: 0,
      max_attempts: job.maxAttempts,
      last_error: null,
      next_run_at: job.runAt,
      dead_letter: false,
      dedup_key: job.dedupKey,
      depends_on: [...new Set(job.dependsOn)],
    };
  }

  /** How many job records are in each status (statuses without jobs are absent). */
  async countByStatus(): Promise<Map<JobStatus, number>> {
    const rows = await this.#db.query<{ status: JobStatus; n: number | string }>(
      "SELECT status, COUNT(*) AS n FROM jobs GROUP BY status",
    );
    return new Map(rows.map((row) => [row.status, Number(row.n)]));
  }

  async claim(options: ClaimOptions): Promise<ClaimedJob[]> {
    if (options.limit <= 0) return [];
    // On PostgreSQL a function (JOBS_MIGRATIONS) locks the first eligible jobs in queue order with
    // FOR UPDATE SKIP LOCKED and updates them by row address, in one statement.
    const rows = this.#postgres
      ? await this.#db.query(
        `SELECT ${CLAIMED} FROM chapkit_jobs_claim(CAST(? AS TEXT[]), ?, ?, CAST(? AS TIMESTAMPTZ), CAST(? AS INTEGER))`,
        [textArray(options.names), options.owner, options.ownerKey, options.now, options.limit],
      )
      : await this.#db.query(
        `UPDATE jobs SET status = 'running', owner = ?, owner_key = ?, heartbeat_at = ?, started_at = ?,
         attempts = attempts + 1, progress = NULL, progress_message = NULL
         WHERE id IN (SELECT id FROM jobs WHERE status = 'pending' AND run_at <= ?
           AND (${options.names.length > 0 ? `name IN (${placeholders(options.names.length)}) OR ` : ""}(name IS NULL AND owner = ?))
           AND (deps = 0 OR NOT EXISTS (SELECT 1 FROM job_dependencies d LEFT JOIN ${ALL_JOBS} p ON p.id = d.depends_on
             WHERE d.job_id = jobs.id AND (p.id IS NULL OR p.status <> 'completed')))
           ORDER BY priority DESC, id LIMIT ?) AND status = 'pending' RETURNING ${CLAIMED}`,
        [options.owner, options.ownerKey, options.now, options.now, options.now, ...options.names, options.owner, options.limit],
      );
    const claimed = rows.map((row): ClaimedJob => ({
      id: String(row.id),
      name: text(row.name),
      payload: parsed(row.payload),
      attempt: Number(row.attempts),
      maxAttempts: Number(row.max_attempts),
      backoff: parsed(row.backoff) as JobBackoff | null,
      timeoutMs: row.timeout_ms === null || row.timeout_ms === undefined ? null : Number(row.timeout_ms),
      priority: Number(row.priority),
    }));
    return claimed.sort((a, b) => b.priority - a.priority || (a.id < b.id ? -1 : 1));
  }

  async runningOf(owner: string): Promise<string[]> {
    const rows = await this.#db.query("SELECT id FROM jobs WHERE owner = ? AND status = 'running'", [owner]);
    return rows.map((row) => String(row.id));
  }

  async unclaim(ids: readonly string[], owner: string): Promise<void> {
    for (let start = 0; start < ids.length; start += MAX_IDS) {
      const chunk = ids.slice(start, start + MAX_IDS);
      await this.#db.exec(
        `UPDATE jobs SET status = 'pending', attempts = attempts - 1, started_at = NULL
         WHERE id IN (${placeholders(chunk.length)}) AND status = 'running' AND owner = ?`,
        [...chunk, owner],
      );
    }
  }

  async finishMany(ends: readonly AttemptEnd[], options: { records?: boolean } = {}): Promise<AppliedEnds> {
    const applied: AppliedEnds = new Map();
    // The records come back only when asked: a waiter then needs no second read.
    for (let start = 0; start < ends.length; start += MAX_IDS) {
      const values = ends.slice(start, start + MAX_IDS).map((end) => {
        const retry = "retryAt" in end.outcome ? end.outcome : null;
        const outcome = "retryAt" in end.outcome ? null : end.outcome;
        return {
          id: end.id,
          owner: end.owner,
          attempt: end.attempt,
          status: outcome?.status ?? "pending",
          finished_at: outcome?.finished_at ?? null,
          error: outcome?.error ?? null,
          error_traceback: outcome?.error_traceback ?? null,
          artifact_id: outcome?.artifact_id ?? null,
          last_error: retry?.lastError ?? outcome?.error ?? null,
          run_at: retry?.retryAt ?? null,
          dead_letter: outcome?.dead_letter ?? false,
        };
      });
      // On PostgreSQL a function (JOBS_MIGRATIONS) applies the batch, each end found by primary key.
      const rows = this.#postgres
        ? await this.#db.query(`SELECT ${options.records ? COLUMNS : "id"} FROM chapkit_jobs_finish(?)`, [JSON.stringify(values)])
        // The unary + keeps the status index out: the ends drive the join through the primary key
        // (driven by the status index, every running job would re-read the whole batch).
        : await this.#db.query(
          `UPDATE jobs SET status = v.status, finished_at = v.finished_at, error = v.error,
           error_traceback = v.error_traceback, artifact_id = v.artifact_id,
           last_error = COALESCE(v.last_error, jobs.last_error), run_at = COALESCE(v.run_at, jobs.run_at),
           dead_letter = v.dead_letter
           FROM (SELECT json_extract(value, '$.id') AS id, json_extract(value, '$.owner') AS owner,
           json_extract(value, '$.attempt') AS attempt, json_extract(value, '$.status') AS status,
           json_extract(value, '$.finished_at') AS finished_at, json_extract(value, '$.error') AS error,
           json_extract(value, '$.error_traceback') AS error_traceback,
           json_extract(value, '$.artifact_id') AS artifact_id, json_extract(value, '$.last_error') AS last_error,
           json_extract(value, '$.run_at') AS run_at, json_extract(value, '$.dead_letter') AS dead_letter
           FROM json_each(?)) AS v
           WHERE jobs.id = v.id AND +jobs.status = 'running' AND jobs.owner = v.owner AND jobs.attempts = v.attempt
           RETURNING ${options.records ? RETURNED : "jobs.id"}`,
          [JSON.stringify(values)],
        );
      for (const row of rows) {
        // A job with dependencies needs another read for them: its waiter reads it.
        applied.set(String(row.id), options.records && Number(row.deps) === 0 ? decode(row) : null);
      }
    }
    return applied;
  }

  async finish(id: string, outcome: JobOutcome): Promise<JobRecord | null> {
    const rows = await this.#db.query(
      `UPDATE jobs SET status = ?, finished_at = ?, error = ?, error_traceback = ?, artifact_id = ?
       WHERE id = ? AND ${ACTIVE} RETURNING ${COLUMNS}`,
      [outcome.status, outcome.finished_at, outcome.error, outcome.error_traceback, outcome.artifact_id, id],
    );
    return rows[0] ? await this.#decode(rows[0]) : null;
  }

  async failBlocked(now: string): Promise<string[]> {
    const failed: string[] = [];
    // Each pass fails the direct dependents of what failed before, so a chain fails link by link.
    for (;;) {
      const message = `'DependencyFailed: Job ' || (${BLOCKED_DEPENDENCY} ORDER BY d.depends_on LIMIT 1) ||
        ' it depends on failed, was canceled or was deleted'`;
      const rows = await this.#db.query(
        `UPDATE jobs SET status = 'failed', finished_at = ?, error = ${message}, error_traceback = ${message},
         last_error = ${message}
         WHERE status = 'pending' AND deps > 0 AND EXISTS (${BLOCKED_DEPENDENCY}) RETURNING id`,
        [now],
      );
      if (rows.length === 0) return failed;
      for (const row of rows) failed.push(String(row.id));
    }
  }

  async requeue(id: string, now: string): Promise<JobRecord | null> {
    const rows = await this.#db.query(
      `UPDATE jobs SET status = 'pending', attempts = 0, run_at = ?, started_at = NULL, finished_at = NULL,
       error = NULL, error_traceback = NULL, artifact_id = NULL, dead_letter = ${this.#postgres ? "FALSE" : "0"},
       progress = NULL, progress_message = NULL, heartbeat_at = ?
       WHERE id = ? AND name IS NOT NULL AND status IN ('failed', 'canceled') RETURNING ${COLUMNS}`,
      [now, now, id],
    );
    return rows[0] ? await this.#decode(rows[0]) : null;
  }

  async progress(id: string, fraction: number, message: string | null): Promise<boolean> {
    const { changes } = await this.#db.exec(
      "UPDATE jobs SET progress = ?, progress_message = ? WHERE id = ? AND status = 'running'",
      [fraction, message, id],
    );
    return changes > 0;
  }

  async get(id: string): Promise<JobRecord | null> {
    const rows = await this.#db.query(`SELECT ${COLUMNS} FROM jobs WHERE id = ?`, [id]);
    if (rows[0]) return await this.#decode(rows[0]);
    // An archived job: read from the history (see `archive`).
    const archived = await this.#db.query(`SELECT ${COLUMNS} FROM job_history WHERE id = ?`, [id]);
    return archived[0] ? await this.#decode(archived[0]) : null;
  }

  /**
   * Moves the jobs that finished (completed, failed, canceled) before
   * `before` from `jobs` to `job_history` in one transaction, so `jobs`
   * holds live jobs and recent ends only; reads by id, lists and deletes
   * see both. Returns how many moved.
   */
  async archive(before: string): Promise<number> {
    const finished = `status IN ('completed', 'failed', 'canceled') AND finished_at < ?`;
    return await this.#db.transaction(async (db) => {
      await db.exec(`INSERT INTO job_history SELECT * FROM jobs WHERE ${finished}`, [before]);
      return (await db.exec(`DELETE FROM jobs WHERE ${finished}`, [before])).changes;
    });
  }

  async list(status?: JobStatus, deadLetter?: boolean): Promise<JobRecord[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (status !== undefined) {
      where.push("status = ?");
      params.push(status);
    }
    if (deadLetter !== undefined) where.push(deadLetter ? `dead_letter = ${this.#true}` : `dead_letter <> ${this.#true}`);
    const filter = where.length ? ` WHERE ${where.join(" AND ")}` : "";
    const rows = await this.#db.query(
      `SELECT ${COLUMNS} FROM jobs${filter} UNION ALL SELECT ${COLUMNS} FROM job_history${filter}
       ORDER BY submitted_at DESC, id DESC`,
      [...params, ...params],
    );
    const withDeps = rows.filter((row) => Number(row.deps) > 0).map((row) => String(row.id));
    const deps = new Map<string, string[]>();
    for (let start = 0; start < withDeps.length; start += MAX_IDS) {
      const chunk = withDeps.slice(start, start + MAX_IDS);
      const found = await this.#db.query(
        `SELECT job_id, depends_on FROM job_dependencies WHERE job_id IN (${placeholders(chunk.length)})
         ORDER BY depends_on`,
        chunk,
      );
      for (const row of found) {
        const list = deps.get(String(row.job_id)) ?? [];
        list.push(String(row.depends_on));
        deps.set(String(row.job_id), list);
      }
    }
    return rows.map((row) => decode(row, deps.get(String(row.id))));
  }

  async delete(id: string): Promise<boolean> {
    const { changes: live } = await this.#db.exec("DELETE FROM jobs WHERE id = ?", [id]);
    const changes = live > 0 ? live : (await this.#db.exec("DELETE FROM job_history WHERE id = ?", [id])).changes;
    await this.#db.exec("DELETE FROM job_dependencies WHERE job_id = ?", [id]);
    return changes > 0;
  }

  async heartbeat(owner: string, at: string): Promise<void> {
    await this.#db.exec(`UPDATE jobs SET heartbeat_at = ? WHERE owner = ? AND ${ACTIVE}`, [at, owner]);
  }

  async statuses(ids: readonly string[]): Promise<Map<string, { status: JobStatus; owner: string }>> {
    const out = new Map<string, { status: JobStatus; owner: string }>();
    for (let start = 0; start < ids.length; start += MAX_IDS) {
      const chunk = ids.slice(start, start + MAX_IDS);
      const rows = await this.#db.query(
        `SELECT id, status, owner FROM jobs WHERE id IN (${placeholders(chunk.length)})`,
        chunk,
      );
      for (const row of rows) out.set(String(row.id), { status: row.status as JobStatus, owner: String(row.owner) });
    }
    return out;
  }

  async sweep(options: SweepOptions): Promise<JobRecord[]> {
    const message = `CAST(? AS TEXT) || owner || CAST(? AS TEXT)`;
    const texts = [JOB_INTERRUPTED_PREFIX, JOB_INTERRUPTED_SUFFIX];
    let abandoned = "heartbeat_at < ?";
    const abandonedParams: SqlValue[] = [options.staleBefore];
    if (options.previous) {
      abandoned += " OR (owner_key = ? AND owner <> ?)";
      abandonedParams.push(options.previous.key, options.previous.instance);
    }
    // A running named job with attempts left goes back to the queue; its last error says why.
    await this.#db.exec(
      `UPDATE jobs SET status = 'pending', run_at = ?, last_error = ${message}, heartbeat_at = ?
       WHERE status = 'running' AND name IS NOT NULL AND attempts < max_attempts AND (${abandoned})`,
      [options.now, ...texts, options.now, ...abandonedParams],
    );
    // Pending named jobs wait in the queue for any instance; every other abandoned active job fails.
    const rows = await this.#db.query(
      `UPDATE jobs SET status = 'failed', finished_at = ?, error = ${message}, error_traceback = ${message},
       last_error = ${message}, artifact_id = NULL, dead_letter = CASE WHEN name IS NULL THEN ${
        this.#postgres ? "FALSE" : "0"
      } ELSE ${this.#true} END
       WHERE ${ACTIVE} AND NOT (status = 'pending' AND name IS NOT NULL) AND (${abandoned}) RETURNING ${COLUMNS}`,
      [options.now, ...texts, ...texts, ...texts, ...abandonedParams],
    );
    return rows.map((row) => decode(row));
  }

  async #decode(row: Row): Promise<JobRecord> {
    return decode(row, Number(row.deps) > 0 ? await this.#dependsOn(this.#db, String(row.id)) : []);
  }

  async #dependsOn(db: Executor, id: string): Promise<string[]> {
    const rows = await db.query("SELECT depends_on FROM job_dependencies WHERE job_id = ? ORDER BY depends_on", [id]);
    return rows.map((row) => String(row.depends_on));
  }
}
