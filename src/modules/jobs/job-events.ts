import type { EventBus } from "../../core/events/bus.ts";
import type { EventInput } from "../../core/events/types.ts";
import type {
  AppliedEnds,
  AttemptEnd,
  ClaimedJob,
  ClaimOptions,
  JobLease,
  JobOutcome,
  JobStore,
  NewJob,
  SweepOptions,
} from "./job-store.ts";
import type { JobRecord, JobStatus } from "./types.ts";

/** The collection job events name. */
export const JOBS_COLLECTION = "jobs";

/**
 * A job store that publishes each state change it applies as `job.<status>`
 * (`job.pending`, `job.running`, `job.completed`, `job.failed`,
 * `job.canceled`; `job.retrying` for an attempt that will be retried;
 * `job.deleted`) with the job's record. Publishing never fails a store call.
 */
export function publishJobEvents(store: JobStore, bus: EventBus): JobStore {
  return new PublishingJobStore(store, bus);
}

class PublishingJobStore implements JobStore {
  readonly #store: JobStore;
  readonly #bus: EventBus;

  constructor(store: JobStore, bus: EventBus) {
    this.#store = store;
    this.#bus = bus;
  }

  async #publish(changes: readonly { type: string; record: JobRecord | null }[]): Promise<void> {
    const inputs: EventInput[] = [];
    for (const { type, record } of changes) {
      if (record) inputs.push({ type: type as `job.${string}`, collection: JOBS_COLLECTION, id: record.id, entity: record });
    }
    try {
      await this.#bus.publishMany(inputs);
    } catch {
      // The change is stored; a subscriber misses it rather than the runner failing.
    }
  }

  /** The records of these jobs now, each with the event type it gets. */
  async #current(entries: readonly { id: string; type?: string }[]): Promise<void> {
    if (entries.length === 0 || !this.#bus.publishes(JOBS_COLLECTION)) return;
    try {
      const records = await Promise.all(entries.map((entry) => this.#store.get(entry.id)));
      await this.#publish(records.map((record, index) => ({
        type: entries[index]!.type ?? `job.${record?.status as JobStatus}`,
        record,
      })));
    } catch {
      // As in #publish: a failed read costs an event, not the store call.
    }
  }

  async insert(record: JobRecord, lease: JobLease): Promise<void> {
    await this.#store.insert(record, lease);
    // A function job is stored running when it starts at once.
    if (this.#bus.publishes(JOBS_COLLECTION)) await this.#publish([{ type: `job.${record.status}`, record }]);
  }

  async enqueue(jobs: readonly NewJob[]): Promise<{ record: JobRecord; created: boolean }[]> {
    const results = await this.#store.enqueue(jobs);
    if (this.#bus.publishes(JOBS_COLLECTION)) {
      await this.#publish(results.filter((result) => result.created).map(({ record }) => ({ type: `job.${record.status}`, record })));
    }
    return results;
  }

  async claim(options: ClaimOptions): Promise<ClaimedJob[]> {
    const claimed = await this.#store.claim(options);
    await this.#current(claimed.map((job) => ({ id: job.id, type: "job.running" })));
    return claimed;
  }

  runningOf(owner: string): Promise<string[]> {
    return this.#store.runningOf(owner);
  }

  async unclaim(ids: readonly string[], owner: string): Promise<void> {
    await this.#store.unclaim(ids, owner);
    await this.#current(ids.map((id) => ({ id })));
  }

  async finishMany(ends: readonly AttemptEnd[], options?: { records?: boolean }): Promise<AppliedEnds> {
    const publishing = this.#bus.publishes(JOBS_COLLECTION);
    // With subscribers the records come back with the write: no read per job.
    const applied = await this.#store.finishMany(ends, publishing ? { records: true } : options ?? {});
    if (!publishing) return applied;
    const type = (end: AttemptEnd): string => "retryAt" in end.outcome ? "job.retrying" : `job.${end.outcome.status}`;
    const returned = ends.filter((end) => applied.get(end.id));
    await this.#publish(returned.map((end) => ({ type: type(end), record: applied.get(end.id)! })));
    await this.#current(ends.filter((end) => applied.has(end.id) && !applied.get(end.id)).map((end) => ({
      id: end.id,
      type: type(end),
    })));
    return applied;
  }

  async finish(id: string, outcome: JobOutcome): Promise<JobRecord | null> {
    const record = await this.#store.finish(id, outcome);
    if (record && this.#bus.publishes(JOBS_COLLECTION)) await this.#publish([{ type: `job.${record.status}`, record }]);
    return record;
  }

  async failBlocked(now: string): Promise<string[]> {
    const ids = await this.#store.failBlocked(now);
    await this.#current(ids.map((id) => ({ id, type: "job.failed" })));
    return ids;
  }

  async requeue(id: string, now: string): Promise<JobRecord | null> {
    const record = await this.#store.requeue(id, now);
    if (record && this.#bus.publishes(JOBS_COLLECTION)) await this.#publish([{ type: "job.pending", record }]);
    return record;
  }

  progress(id: string, fraction: number, message: string | null): Promise<boolean> {
    return this.#store.progress(id, fraction, message);
  }

  get(id: string): Promise<JobRecord | null> {
    return this.#store.get(id);
  }

  list(status?: JobStatus, deadLetter?: boolean): Promise<JobRecord[]> {
    return this.#store.list(status, deadLetter);
  }

  async delete(id: string): Promise<boolean> {
    const record = this.#bus.publishes(JOBS_COLLECTION) ? await this.#store.get(id) : null;
    const deleted = await this.#store.delete(id);
    if (deleted && record) await this.#publish([{ type: "job.deleted", record }]);
    return deleted;
  }

  heartbeat(owner: string, at: string): Promise<void> {
    return this.#store.heartbeat(owner, at);
  }

  statuses(ids: readonly string[]): Promise<Map<string, { status: JobStatus; owner: string }>> {
    return this.#store.statuses(ids);
  }

  async sweep(options: SweepOptions): Promise<JobRecord[]> {
    const failed = await this.#store.sweep(options);
    if (this.#bus.publishes(JOBS_COLLECTION)) await this.#publish(failed.map((record) => ({ type: "job.failed", record })));
    return failed;
  }
}
