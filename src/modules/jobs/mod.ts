/**
 * Durable jobs, in one folder: the record and runner types (`types.ts`), the
 * error text of a failed job (`job-error.ts`), the store interface with its
 * in-memory and SQL implementations (`job-store.ts`, `memory-store.ts`,
 * `store.ts`, `migrations.ts`), the runner that claims and runs jobs
 * (`runner.ts`), the HTTP routes (`routes.ts`, `schema.ts`) and this module,
 * which wires them into a service.
 *
 * @module
 */
import { InProcessJobRunner } from "./runner.ts";
import { JOB_STATUSES, type JobRunner } from "./types.ts";
import type { Driver } from "../../db/driver.ts";
import type { ServiceContext, ServiceModule } from "../../http/module.ts";
import { JOBS_MIGRATIONS } from "./migrations.ts";
import { jobsRoutes } from "./routes.ts";
import { SqlJobStore } from "./store.ts";

/** The key under which the jobs module provides its {@link JobRunner}. */
export const JOBS_KEY = "jobs";

/** Options of {@link jobsModule}. */
export interface JobsModuleOptions {
  /** Path prefix (default `/api/v1/jobs`). */
  prefix?: string;
  /** OpenAPI tags (default `["jobs"]`). */
  tags?: string[];
  /** Jobs running at once; null or 0 (the default) means unlimited. */
  maxConcurrency?: number | null;
  /** Milliseconds between lease heartbeats and sweeps (default 10 000). */
  heartbeatMs?: number;
  /** Milliseconds after its last heartbeat that an active job counts as abandoned (default 60 000). */
  leaseTtlMs?: number;
  /**
   * A name of this instance that survives restarts: at start-up, active jobs
   * left under this name by an earlier run fail at once instead of when their
   * lease expires. Default: `"sqlite"` on SQLite (a SQLite file is served by
   * one instance, so any other owner is an earlier run), none on PostgreSQL
   * (leases only; set it to e.g. a StatefulSet pod name).
   */
  identity?: string | null;
}

function defaultIdentity(db: Driver): string | null {
  return db.dialect === "sqlite" ? "sqlite" : null;
}

/**
 * The jobs module (module name and provided key `jobs`): a persistent
 * in-process job runner and the routes under `/api/v1/jobs`. Records live in
 * the service's store and survive restarts; jobs whose instance stopped
 * before they finished end `failed` with a `JobInterrupted` error.
 *
 * @example
 * ```ts ignore
 * const app = await new ServiceBuilder({ info }).module(jobsModule({ maxConcurrency: 4 })).build();
 * const runner = app.chapkit.context.get<JobRunner>("jobs");
 * ```
 */
export function jobsModule(options: JobsModuleOptions = {}): ServiceModule {
  let runner: InProcessJobRunner | undefined;
  return {
    name: "jobs",
    migrations: JOBS_MIGRATIONS,
    async setup(context: ServiceContext): Promise<void> {
      const store = new SqlJobStore(context.db);
      const gauge = context.monitoring?.jobs;
      gauge?.collect(async () => {
        const counts = await store.countByStatus();
        for (const status of JOB_STATUSES) gauge.set(counts.get(status) ?? 0, status);
      });
      runner = new InProcessJobRunner({
        store,
        instanceId: context.instanceId,
        identity: options.identity === undefined ? defaultIdentity(context.db) : options.identity,
        maxConcurrency: options.maxConcurrency ?? null,
        ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
        ...(options.leaseTtlMs === undefined ? {} : { leaseTtlMs: options.leaseTtlMs }),
        logger: context.logger.child({ module: "jobs" }),
      });
      await runner.start();
      context.provide<JobRunner>(JOBS_KEY, runner);
    },
    routes(context: ServiceContext) {
      return jobsRoutes(context.get<JobRunner>(JOBS_KEY), {
        ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
        ...(options.tags === undefined ? {} : { tags: options.tags }),
      });
    },
    async stop(): Promise<void> {
      await runner?.close();
    },
  };
}
