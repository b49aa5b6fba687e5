import type { JobLease, JobOutcome, JobStore, SweepOptions } from "./job-store.ts";
import { jobInterruptedError } from "./job-store.ts";
import { isFinishedStatus, type JobRecord, type JobStatus } from "./types.ts";

interface Entry {
  record: JobRecord;
  lease: JobLease;
}

/**
 * A {@link JobStore} in memory: records vanish with the process. For scripts
 * and tests; services keep jobs in their database (the jobs module).
 */
export class MemoryJobStore implements JobStore {
  readonly #entries = new Map<string, Entry>();

  insert(record: JobRecord, lease: JobLease): Promise<void> {
    this.#entries.set(record.id, { record: { ...record }, lease: { ...lease } });
    return Promise.resolve();
  }

  start(id: string, startedAt: string): Promise<JobRecord | null> {
    const entry = this.#entries.get(id);
    if (!entry || entry.record.status !== "pending") return Promise.resolve(null);
    entry.record = { ...entry.record, status: "running", started_at: startedAt };
    return Promise.resolve({ ...entry.record });
  }

  finish(id: string, outcome: JobOutcome): Promise<JobRecord | null> {
    const entry = this.#entries.get(id);
    if (!entry || isFinishedStatus(entry.record.status)) return Promise.resolve(null);
    entry.record = { ...entry.record, ...outcome };
    return Promise.resolve({ ...entry.record });
  }

  progress(id: string, fraction: number, message: string | null): Promise<boolean> {
    const entry = this.#entries.get(id);
    if (!entry || entry.record.status !== "running") return Promise.resolve(false);
    const { progress_message: _, ...rest } = entry.record;
    entry.record = { ...rest, progress: fraction, ...(message === null ? {} : { progress_message: message }) };
    return Promise.resolve(true);
  }

  get(id: string): Promise<JobRecord | null> {
    const entry = this.#entries.get(id);
    return Promise.resolve(entry ? { ...entry.record } : null);
  }

  list(status?: JobStatus): Promise<JobRecord[]> {
    const records = [...this.#entries.values()]
      .map((entry) => ({ ...entry.record }))
      .filter((record) => status === undefined || record.status === status);
    records.sort((a, b) =>
      a.submitted_at === b.submitted_at ? (a.id < b.id ? 1 : -1) : a.submitted_at < b.submitted_at ? 1 : -1
    );
    return Promise.resolve(records);
  }

  delete(id: string): Promise<boolean> {
    return Promise.resolve(this.#entries.delete(id));
  }

  heartbeat(owner: string, at: string): Promise<void> {
    for (const entry of this.#entries.values()) {
      if (entry.lease.owner === owner && !isFinishedStatus(entry.record.status)) entry.lease.heartbeatAt = at;
    }
    return Promise.resolve();
  }

  statuses(ids: readonly string[]): Promise<Map<string, JobStatus>> {
    const out = new Map<string, JobStatus>();
    for (const id of ids) {
      const entry = this.#entries.get(id);
      if (entry) out.set(id, entry.record.status);
    }
    return Promise.resolve(out);
  }

  sweep(options: SweepOptions): Promise<JobRecord[]> {
    const swept: JobRecord[] = [];
    for (const entry of this.#entries.values()) {
      if (isFinishedStatus(entry.record.status)) continue;
      const { lease } = entry;
      const stale = lease.heartbeatAt < options.staleBefore;
      const previous = options.previous !== undefined && lease.ownerKey === options.previous.key &&
        lease.owner !== options.previous.instance;
      if (!stale && !previous) continue;
      const error = jobInterruptedError(lease.owner);
      entry.record = {
        ...entry.record,
        status: "failed",
        finished_at: options.now,
        error,
        error_traceback: error,
        artifact_id: null,
      };
      swept.push({ ...entry.record });
    }
    return Promise.resolve(swept);
  }
}
