/**
 * ETL (module `etl`): declarative imports that run as durable jobs on a
 * cron schedule. A pipeline reads a source (an HTTP URL, a file, the new
 * objects under an S3 prefix) in CSV, NDJSON, JSON or XLSX, passes each row
 * through a registered transform, and inserts or upserts the rows into a
 * collection installed with `withEntity`, validated like create bodies,
 * skipping invalid rows or refusing the whole load. Each run is a job of
 * the queue (`etl.run`, retried per its policy when the source is down) and
 * a row of `etl_runs`; a source unchanged since the last completed run is
 * skipped. Reading files reuses the bulk importer's readers
 * (`src/http/exchange/import.ts`), S3 the storage layer's client.
 *
 * @module
 */
import { ConfigurationError, ValidationError } from "../../core/errors.ts";
import type { Manager } from "../../core/manager.ts";
import type { ServiceContext, ServiceModule } from "../../http/module.ts";
import { registeredEntities } from "../entity/mod.ts";
import { JOBS_KEY, SCHEDULES_KEY } from "../jobs/mod.ts";
import type { JobScheduler } from "../jobs/scheduler.ts";
import type { JobBackoff, JobRunner } from "../jobs/types.ts";
import { ETL_RUN_JOB, EtlManager } from "./manager.ts";
import { etlRoutes } from "./routes.ts";
import type { EtlPipelineSpec, EtlTransform } from "./schema.ts";
import { ETL_MIGRATIONS, EtlStore } from "./store.ts";
import { etlRequires } from "./requires.ts";

export { ETL_RUN_JOB, EtlManager, etlScheduleName } from "./manager.ts";
export type { EtlManagerOptions, EtlPipelineView } from "./manager.ts";
export { ETL_PERMISSION, etlRoutes } from "./routes.ts";
export type { EtlRoutesOptions } from "./routes.ts";
export type {
  EtlFormat,
  EtlLoad,
  EtlOnInvalid,
  EtlPipelineSpec,
  EtlRowContext,
  EtlRowError,
  EtlRunRecord,
  EtlRunStatus,
  EtlSource,
  EtlTransform,
} from "./schema.ts";
export { ETL_MIGRATIONS, EtlStore } from "./store.ts";

/** The key the ETL module provides its {@link EtlManager} under. */
export const ETL_KEY = "etl";

/** Options of {@link etlModule} (`withEtl`). */
export interface EtlModuleOptions {
  /** Transforms by name, which pipelines name in `transform`; every instance that runs jobs needs the same ones. */
  transforms?: Record<string, EtlTransform>;
  /** Pipelines declared in code: created or replaced at start-up (others come over HTTP). */
  pipelines?: readonly EtlPipelineSpec[];
  /**
   * Collections besides the `withEntity` ones rows may load into, by name
   * (any manager, e.g. one made with `createEntityManager`).
   */
  // deno-lint-ignore no-explicit-any
  collections?: Record<string, Manager<any, any, any>>;
  /** Path prefix (default `/api/v1/etl`). */
  prefix?: string;
  /** Attempts per run (default 3): a source that is down or unreadable fails the attempt and the queue retries it. */
  maxAttempts?: number;
  /** Back-off between attempts (default 5 s doubling, at most 5 min). */
  backoff?: JobBackoff;
  /** Milliseconds an HTTP source may take to answer (default 30 000). */
  timeoutMs?: number;
  /**
   * Directories that file sources of pipelines created over HTTP must be
   * under (default none: over HTTP only URLs and S3 prefixes; pipelines in
   * code read any path).
   */
  fileRoots?: readonly string[];
}

/**
 * The ETL module (`withEtl()`, needs `withJobs()`): tables `etl_pipelines`,
 * `etl_runs` and `etl_objects`, the job handler `etl.run`, a cron schedule
 * `etl:<name>` per scheduled pipeline, the {@link EtlManager} under
 * {@link ETL_KEY} and the routes under `/api/v1/etl`. Code pipelines that
 * load into a `withEntity` collection make the module set up after it.
 *
 * @throws {ConfigurationError} at build, for a code pipeline that does not check out.
 */
export function etlModule(options: EtlModuleOptions = {}): ServiceModule {
  return {
    name: "etl",
    requires: etlRequires(options),
    provides: [ETL_KEY],
    migrations: ETL_MIGRATIONS,
    async setup(context: ServiceContext): Promise<void> {
      const jobs = context.get<JobRunner>(JOBS_KEY);
      // deno-lint-ignore no-explicit-any
      const collections = (): Map<string, Manager<any, any, any>> => {
        // deno-lint-ignore no-explicit-any
        const all = new Map<string, Manager<any, any, any>>();
        for (const entity of registeredEntities(context)) all.set(entity.definition.table.name, entity.manager);
        for (const [name, manager] of Object.entries(options.collections ?? {})) all.set(name, manager);
        return all;
      };
      const manager = new EtlManager({
        store: new EtlStore(context.db),
        jobs,
        scheduler: context.get<JobScheduler>(SCHEDULES_KEY),
        transforms: options.transforms ?? {},
        collections,
        credentials: () => ({ accessKeyId: context.settings.storage?.accessKeyId, secretAccessKey: context.settings.storage?.secretAccessKey }),
        ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
        ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        ...(options.fileRoots === undefined ? {} : { fileRoots: options.fileRoots }),
        logger: context.logger.child({ module: "etl" }),
      });
      jobs.register(ETL_RUN_JOB, manager.handler());
      for (const spec of options.pipelines ?? []) {
        try {
          await manager.put(spec, "code");
        } catch (error) {
          if (!(error instanceof ValidationError)) throw error;
          const why = error.errors.map((item) => `${item.loc.slice(1).join(".")}: ${item.msg}`).join("; ");
          throw new ConfigurationError(`ETL pipeline "${spec.name}" in withEtl(): ${why}`);
        }
      }
      context.provide<EtlManager>(ETL_KEY, manager);
    },
    routes(context: ServiceContext) {
      return etlRoutes(context.get<EtlManager>(ETL_KEY), { ...(options.prefix === undefined ? {} : { prefix: options.prefix }) });
    },
  };
}
