// Row decoding and statement helpers of the SQL job store (private to this folder).
import { toIso } from "../../core/time.ts";
import type { Row } from "../../db/driver.ts";
import type { JobRecord, JobStatus } from "./types.ts";

function timestamp(value: unknown): string | null {
  return value === null || value === undefined ? null : toIso(value as string | Date);
}

/** A nullable column as text. */
export function text(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

/** A nullable JSON text column, parsed. */
export function parsed(value: unknown): unknown {
  return value === null || value === undefined ? null : JSON.parse(String(value));
}

/** A `jobs` (or `job_history`) row as a {@link JobRecord}; queue fields only for a named job. */
export function decode(row: Row, dependsOn?: string[]): JobRecord {
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
  if (row.name !== null && row.name !== undefined) {
    record.name = String(row.name);
    record.payload = parsed(row.payload);
    record.priority = Number(row.priority);
    record.attempts = Number(row.attempts);
    record.max_attempts = Number(row.max_attempts);
    record.last_error = text(row.last_error);
    record.next_run_at = row.status === "pending" ? timestamp(row.run_at) : null;
    record.dead_letter = Boolean(row.dead_letter);
    record.dedup_key = text(row.dedup_key);
    record.depends_on = dependsOn ?? [];
  }
  return record;
}

/** A PostgreSQL array literal of `values`, quoted and escaped, to bind as one `text[]` parameter. */
export function textArray(values: readonly string[]): string {
  return `{${values.map((value) => `"${value.replace(/["\\]/g, "\\$&")}"`).join(",")}}`;
}

/** `count` comma-separated `?` placeholders. */
export function placeholders(count: number): string {
  return Array.from({ length: count }, () => "?").join(", ");
}
