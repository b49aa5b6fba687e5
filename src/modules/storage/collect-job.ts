import { Type } from "@sinclair/typebox";
import type { ServiceContext } from "../../http/module.ts";
import type { CollectReport } from "../../storage/content-store.ts";
import { DatabaseBlobStore } from "../../storage/database-blob-store.ts";
import { JOBS_KEY, SCHEDULES_KEY } from "../jobs/mod.ts";
import type { JobScheduler } from "../jobs/scheduler.ts";
import type { JobRunner } from "../jobs/types.ts";
import { contentStoreOf, resumableUploadsOf } from "./mod.ts";

/** The name of the garbage-collection job and of its schedule. */
export const COLLECT_JOB = "storage.collect";

/** What one run of the `storage.collect` job removed. */
export interface StorageCollectReport extends CollectReport {
  /** Chunks of interrupted database-backend writes removed. */
  chunks: number;
  /** Resumable uploads removed, untouched for `storage.uploadExpiryMs`. */
  uploads: number;
}

/**
 * One garbage collection of the service's payload storage: expired
 * resumable uploads, then content nobody holds and leftovers of interrupted uploads,
 * each kept for `storage.gcGraceMs` after its last use so that a payload
 * between its upload and the transaction that holds it is never taken.
 */
export async function collectStorage(context: ServiceContext): Promise<StorageCollectReport> {
  const content = contentStoreOf(context);
  const graceMs = context.settings.storage.gcGraceMs;
  const uploads = await resumableUploadsOf(context).expire(context.settings.storage.uploadExpiryMs);
  const report = await content.collect({ graceMs });
  // Chunks of a database write in progress have no key yet; they are aged by their write's start.
  const chunks = content.blobs instanceof DatabaseBlobStore ? await content.blobs.sweep(Math.max(graceMs, 3600_000)) : 0;
  return { ...report, chunks, uploads };
}

/**
 * Registers the `storage.collect` job and schedules it by `storage.gcCron`
 * (once per service; nothing without `withJobs()`: then call
 * {@link collectStorage} yourself).
 */
export async function scheduleCollection(context: ServiceContext): Promise<void> {
  if (!context.has(JOBS_KEY) || context.has(COLLECT_JOB)) return;
  context.provide(COLLECT_JOB, true);
  const logger = context.logger.child({ module: "storage" });
  context.get<JobRunner>(JOBS_KEY).register(COLLECT_JOB, {
    payload: Type.Object({}),
    run: async () => {
      const report = await collectStorage(context);
      logger.info("storage.collected", { ...report });
    },
  });
  const cron = context.settings.storage.gcCron.trim();
  if (cron) await context.get<JobScheduler>(SCHEDULES_KEY).schedule(COLLECT_JOB, { cron, job: COLLECT_JOB });
}
