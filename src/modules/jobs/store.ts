import {
  JOB_INTERRUPTED_PREFIX,
  JOB_INTERRUPTED_SUFFIX,
  type JobLease,
  type JobOutcome,
  type JobStore,
  type SweepOptions,
} from "./job-store.ts";
import type { JobRecord, JobStatus } from "./types.ts";
import { toIso } from "../../core/time.ts";
import type { Driver, Row, SqlValue } from "../../db/driver.ts";

const COLUMNS =
  "id, status, submitted_at, started_at, finished_at, error, error_traceback, artifact_id, progress, progress_message";
const INSERTED = "id, status, submitted_at, started_at, finished_at, error, error_traceback, artifact_id";
const ACTIVE = "status IN ('pending', 'running')";
const MAX_IDS = 500;

function timestamp(value: unknown): string | null {
  return value === null || value === undefined ? null : toIso(value as string | Date);
}

function text(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

function decode(row: Row): JobRecord {
  const record: JobRecord = {
    id: String(row.id),
    status: row.status as JobStatus,
    submitted_at: timestamp(row.submitted_at)!,
    started_at: timestamp(row.started_at),
    finished_at: timestamp(row.finished_at),
    error: text(row.error),
    error_traceback: text(row.error_traceback),
    artifact_id: text(row.artifact_id),
  };
  if (row.progress !== null && row.progress !== undefined) record.progress = Number(row.progress);
  if (row.progress_message !== null && row.progress_message !== undefined) {
    record.progress_message = String(row.progress_message);
  }
  return record;
}

/**
 * The {@link JobStore} of a service's database (`jobs` table, see
 * `JOBS_MIGRATIONS`). Every transition is one conditional `UPDATE`, so on
 * PostgreSQL concurrent instances cannot both win: a sweep re-checks the
 * heartbeat of each row it locks and skips a job whose lease was just renewed.
 */
export class SqlJobStore implements JobStore {
  readonly #db: Driver;

  constructor(db: Driver) {
    this.#db = db;
  }

  async insert(record: JobRecord, lease: JobLease): Promise<void> {
    await this.#db.exec(
      `INSERT INTO jobs (${INSERTED}, owner, owner_key, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
      ],
    );
  }

  /** How many job records are in each status (statuses without jobs are absent). */
  async countByStatus(): Promise<Map<JobStatus, number>> {
    const rows = await this.#db.query<{ status: JobStatus; n: number | string }>(
      "SELECT status, COUNT(*) AS n FROM jobs GROUP BY status",
    );
    return new Map(rows.map((row) => [row.status, Number(row.n)]));
  }

  async start(id: string, startedAt: string): Promise<JobRecord | null> {
    const rows = await this.#db.query(
      `UPDATE jobs SET status = 'running', started_at = ? WHERE id = ? AND status = 'pending' RETURNING ${COLUMNS}`,
      [startedAt, id],
    );
    return rows[0] ? decode(rows[0]) : null;
  }

  async finish(id: string, outcome: JobOutcome): Promise<JobRecord | null> {
    const rows = await this.#db.query(
      `UPDATE jobs SET status = ?, finished_at = ?, error = ?, error_traceback = ?, artifact_id = ?
       WHERE id = ? AND ${ACTIVE} RETURNING ${COLUMNS}`,
      [outcome.status, outcome.finished_at, outcome.error, outcome.error_traceback, outcome.artifact_id, id],
    );
    return rows[0] ? decode(rows[0]) : null;
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
    return rows[0] ? decode(rows[0]) : null;
  }

  async list(status?: JobStatus): Promise<JobRecord[]> {
    const where = status === undefined ? "" : " WHERE status = ?";
    const rows = await this.#db.query(
      `SELECT ${COLUMNS} FROM jobs${where} ORDER BY submitted_at DESC, id DESC`,
      status === undefined ? [] : [status],
    );
    return rows.map(decode);
  }

  async delete(id: string): Promise<boolean> {
    const { changes } = await this.#db.exec("DELETE FROM jobs WHERE id = ?", [id]);
    return changes > 0;
  }

  async heartbeat(owner: string, at: string): Promise<void> {
    await this.#db.exec(`UPDATE jobs SET heartbeat_at = ? WHERE owner = ? AND ${ACTIVE}`, [at, owner]);
  }

  async statuses(ids: readonly string[]): Promise<Map<string, JobStatus>> {
    const out = new Map<string, JobStatus>();
    for (let start = 0; start < ids.length; start += MAX_IDS) {
      const chunk = ids.slice(start, start + MAX_IDS);
      const rows = await this.#db.query(
        `SELECT id, status FROM jobs WHERE id IN (${chunk.map(() => "?").join(", ")})`,
        chunk,
      );
      for (const row of rows) out.set(String(row.id), row.status as JobStatus);
    }
    return out;
  }

  async sweep(options: SweepOptions): Promise<JobRecord[]> {
    const message = `CAST(? AS TEXT) || owner || CAST(? AS TEXT)`;
    const params: SqlValue[] = [
      options.now,
      JOB_INTERRUPTED_PREFIX,
      JOB_INTERRUPTED_SUFFIX,
      JOB_INTERRUPTED_PREFIX,
      JOB_INTERRUPTED_SUFFIX,
      options.staleBefore,
    ];
    let abandoned = "heartbeat_at < ?";
    if (options.previous) {
      abandoned += " OR (owner_key = ? AND owner <> ?)";
      params.push(options.previous.key, options.previous.instance);
    }
    const rows = await this.#db.query(
      `UPDATE jobs SET status = 'failed', finished_at = ?, error = ${message}, error_traceback = ${message},
       artifact_id = NULL WHERE ${ACTIVE} AND (${abandoned}) RETURNING ${COLUMNS}`,
      params,
    );
    return rows.map(decode);
  }
}
