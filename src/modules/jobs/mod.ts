/**
 * Durable jobs, in one folder: the record and runner types (`types.ts`), the
 * error text of a failed job (`job-error.ts`), the store interface with its
 * in-memory and SQL implementations (`job-store.ts`, `memory-store.ts`,
 * `store.ts`, `migrations.ts`), the runner that claims and runs jobs
 * (`runner.ts`, with `enqueue-options.ts`, `attempt-ends.ts` for batched
 * writes and `progress.ts`), cron schedules (`scheduler.ts`), the HTTP routes
 * (`routes.ts`, `schema.ts`, `schedule-routes.ts`) and this module, which
 * wires them into a service.
 *
 * @module
 */
import { InProcessJobRunner } from "./runner.ts";
import { JOB_STATUSES, type JobHandler, type JobRunner } from "./types.ts";
import type { Driver } from "../../db/driver.ts";
import type { ServiceContext, ServiceModule } from "../../http/module.ts";
import { JOBS_CHANNEL, JOBS_MIGRATIONS } from "./migrations.ts";
import { jobsRoutes } from "./routes.ts";
import { scheduleRoutes } from "./schedule-routes.ts";
import { JobScheduler, type ScheduleSpec } from "./scheduler.ts";
import { type AnyElysia, Elysia } from "elysia";
import { SqlJobStore } from "./store.ts";
import { type Partitions, PARTITIONS_KEY } from "../../db/partitions.ts";
import { JOBS_COLLECTION, publishJobEvents } from "./job-events.ts";
import { registerSubscribable } from "../../http/realtime/collections.ts";
import { ROW_ACCESS_KEY } from "../../http/row-access-key.ts";
import type { RowAccess } from "../../http/row-policy.ts";
import { JOB_TENANTS_MIGRATION, jobEventVisibility, tenantScopedRunner } from "./tenant-scope.ts";
import { JOBS_KEY, SCHEDULES_KEY } from "./keys.ts";
import { unrefTimer } from "../../core/timers.ts";

export { JOBS_KEY, SCHEDULES_KEY } from "./keys.ts";

/** Options of {@link jobsModule}. */
export interface JobsModuleOptions {
  /** Path prefix (default `/api/v1/jobs`). */
  prefix?: string;
  /** OpenAPI tags (default `["jobs"]`). */
  tags?: string[];
  /** Jobs running at once; null or 0 (the default) means unlimited. */
  maxConcurrency?: number | null;
  /** Milliseconds between lease heartbeats and sweeps (default a third of the lease, at most 10 000). */
  heartbeatMs?: number;
  /**
   * Milliseconds after its last heartbeat that an active job counts as
   * abandoned: the lease (default the `jobs.leaseMs` setting, `CHAPKIT_JOB_LEASE_MS`, 60 000). A
   * named job whose instance died is retried by the others after it, when
   * attempts remain.
   */
  leaseTtlMs?: number;
  /** Cron schedules by name, created or replaced at start-up (also `/api/v1/schedules`). */
  schedules?: Record<string, ScheduleSpec>;
  /** Milliseconds between checks for due schedule ticks (default 1 000). */
  scheduleTickMs?: number;
  /** A tick found due more than this many milliseconds late counts as missed (default 10 000). */
  missedAfterMs?: number;
  /** Job handlers by name, registered before the runner starts claiming. */
  handlers?: Record<string, JobHandler<never>>;
  /** Jobs claimed per round trip at most (default: the concurrency, or 64 when unlimited). */
  claimBatch?: number;
  /** Milliseconds between queue polls when no wake-up arrives (default 1 000; PostgreSQL also wakes on `NOTIFY`). */
  queuePollMs?: number;
  /**
   * A name of this instance that survives restarts: at start-up, active jobs
   * left under this name by an earlier run fail at once instead of when their
   * lease expires. Default: `"sqlite"` on SQLite (a SQLite file is served by
   * one instance, so any other owner is an earlier run), none on PostgreSQL
   * (leases only; set it to e.g. a StatefulSet pod name). Several processes
   * sharing one SQLite file must set it to null or to a name per process.
   */
  identity?: string | null;
  /**
   * The runner claims nothing by itself; tests run queued jobs one at a time
   * with `stepJobs()` from `chapkit/testing` (default false).
   */
  manual?: boolean;
  /**
   * The history of finished jobs: jobs that ended more than `archiveAfterMs`
   * ago (default 3 600 000) move from `jobs` to `job_history`, checked every
   * minute at most. On PostgreSQL the history is range-partitioned by
   * `finished_at` (`interval`, default `day`; `ahead`, default 3) and
   * partitions older than `retention` intervals are dropped (default: kept);
   * SQLite deletes them. Reads by id, lists and deletes see both tables.
   * Off unless given.
   */
  history?: { archiveAfterMs?: number; interval?: "day" | "week" | "month"; ahead?: number; retention?: number };
}

function defaultIdentity(db: Driver): string | null {
  return db.dialect === "sqlite" ? "sqlite" : null;
}

/**
 * The jobs module (module name and provided key `jobs`): the durable job
 * queue with its in-process worker, and the routes under `/api/v1/jobs`.
 * Records live in the service's store and survive restarts; named jobs run
 * on any instance sharing the store; jobs whose instance stopped are retried
 * when attempts remain and otherwise end `failed` with a `JobInterrupted`
 * error.
 *
 * @example
 * ```ts ignore
 * const handlers = { email: { payload: Type.Object({ to: Type.String() }), run: ({ to }) => send(to) } };
 * const app = await new ServiceBuilder({ info }).module(jobsModule({ maxConcurrency: 4, handlers })).build();
 * const runner = app.chapkit.context.get<JobRunner>("jobs");
 * await runner.enqueue("email", { to: "a@example.org" }, { maxAttempts: 5, priority: 10 });
 * ```
 */
export function jobsModule(options: JobsModuleOptions = {}): ServiceModule {
  let archiving: ReturnType<typeof setInterval> | undefined;
  /** Registers the history's partitions and moves finished jobs there now and then (see `history`). */
  const archiveHistory = (context: ServiceContext, store: SqlJobStore, history: NonNullable<JobsModuleOptions["history"]>): void => {
    const { archiveAfterMs = 3_600_000, interval = "day", ahead = 3, retention } = history;
    if (context.has(PARTITIONS_KEY)) {
      context.get<Partitions>(PARTITIONS_KEY).add("job_history", { column: "finished_at", interval, ahead, ...(retention === undefined ? {} : { retention }) });
    }
    const logger = context.logger.child({ module: "jobs" });
    const archive = (): void => {
      store.archive(new Date(Date.now() - archiveAfterMs).toISOString()).then((moved) => {
        if (moved > 0) logger.debug("jobs.archived", { moved });
      }, (error: unknown) => logger.warn("jobs.archive.failed", { error }));
    };
    archive();
    archiving = setInterval(archive, Math.max(1000, Math.min(60_000, archiveAfterMs)));
    unrefTimer(archiving);
  };
  let runner: InProcessJobRunner | undefined;
  let scheduler: JobScheduler | undefined;
  return {
    name: "jobs",
    migrations: [...JOBS_MIGRATIONS, JOB_TENANTS_MIGRATION],
    async setup(context: ServiceContext): Promise<void> {
      const store = new SqlJobStore(context.db);
      const gauge = context.monitoring?.jobs;
      gauge?.collect(async () => {
        const counts = await store.countByStatus();
        for (const status of JOB_STATUSES) gauge.set(counts.get(status) ?? 0, status);
      });
      const leaseTtlMs = options.leaseTtlMs ?? context.settings.jobs?.leaseMs ?? 60_000;
      const db = context.db;
      runner = new InProcessJobRunner({
        store: publishJobEvents(store, context.events),
        instanceId: context.instanceId,
        identity: options.identity === undefined ? defaultIdentity(db) : options.identity,
        maxConcurrency: options.maxConcurrency ?? null,
        heartbeatMs: options.heartbeatMs ?? Math.max(10, Math.min(10_000, Math.floor(leaseTtlMs / 3))),
        leaseTtlMs,
        ...(options.claimBatch === undefined ? {} : { claimBatch: options.claimBatch }),
        ...(options.queuePollMs === undefined ? {} : { queuePollMs: options.queuePollMs }),
        ...(options.manual ? { manual: true } : {}),
        // After a gap in the subscription a job may have been announced unheard: the runner looks once.
        ...(db.listen ? { listen: (wake: () => void) => db.listen!(JOBS_CHANNEL, wake, { onRelisten: wake }) } : {}),
        logger: context.logger.child({ module: "jobs" }),
      });
      // Under tenancy every user of the runner (routes, modules, handlers) sees it through the caller's tenant.
      const access = context.has(ROW_ACCESS_KEY) ? context.get<RowAccess>(ROW_ACCESS_KEY) : undefined;
      const exposed = access?.multiTenant ? tenantScopedRunner(runner, access, db) : runner;
      if (access?.multiTenant) access.addEventVisibility(JOBS_COLLECTION, jobEventVisibility(db));
      for (const [name, handler] of Object.entries(options.handlers ?? {})) {
        exposed.register(name, handler as JobHandler<unknown>);
      }
      await runner.start();
      context.provide<JobRunner>(JOBS_KEY, exposed);
      registerSubscribable(context, { collection: JOBS_COLLECTION, prefix: options.prefix ?? "/api/v1/jobs" });
      scheduler = new JobScheduler(db, exposed, {
        ...(options.scheduleTickMs === undefined ? {} : { tickMs: options.scheduleTickMs }),
        ...(options.missedAfterMs === undefined ? {} : { missedAfterMs: options.missedAfterMs }),
        logger: context.logger.child({ module: "jobs" }),
      });
      if (options.history) archiveHistory(context, store, options.history);
      for (const [name, spec] of Object.entries(options.schedules ?? {})) await scheduler.schedule(name, spec);
      scheduler.start();
      context.provide<JobScheduler>(SCHEDULES_KEY, scheduler);
    },
    routes(context: ServiceContext) {
      const jobs = jobsRoutes(context.get<JobRunner>(JOBS_KEY), {
        ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
        ...(options.tags === undefined ? {} : { tags: options.tags }),
      });
      return new Elysia({ name: "chapkit:jobs-module" })
        .use(jobs)
        .use(scheduleRoutes(context.get<JobScheduler>(SCHEDULES_KEY))) as unknown as AnyElysia;
    },
    async stop(): Promise<void> {
      clearInterval(archiving);
      await scheduler?.stop();
      await runner?.close();
    },
  };
}
