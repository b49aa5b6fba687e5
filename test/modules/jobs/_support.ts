/** Helpers for job tests: stores with the jobs schema, runners, and waiting. */
import { InProcessJobRunner, type InProcessJobRunnerOptions } from "../../../src/modules/jobs/runner.ts";
import type { Driver } from "../../../src/db/driver.ts";
import { migrate } from "../../../src/db/migrate.ts";
import { JOBS_MIGRATIONS } from "../../../src/modules/jobs/migrations.ts";
import { SqlJobStore } from "../../../src/modules/jobs/store.ts";
import { jobsModule, type JobsModuleOptions } from "../../../src/modules/jobs/mod.ts";
import type { JobRunner } from "../../../src/modules/jobs/types.ts";
import type { ServiceApp } from "../../../src/service/lifecycle.ts";
import { ServiceBuilder } from "../../../src/service/service-builder.ts";
import type { TestStore } from "../../_support/stores.ts";

/** Migrates the jobs schema into `db` and returns its store. */
export async function jobStoreOn(db: Driver): Promise<SqlJobStore> {
  await migrate(db, JOBS_MIGRATIONS);
  return new SqlJobStore(db);
}

/** A started runner on `db` (migrated), closed by the caller. */
export async function runnerOn(
  db: Driver,
  options: Omit<InProcessJobRunnerOptions, "store"> = {},
): Promise<InProcessJobRunner> {
  const runner = new InProcessJobRunner({ store: await jobStoreOn(db), ...options });
  await runner.start();
  return runner;
}

/** A promise with its resolver, to hold a job open until the test releases it. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Polls `check` every 20 ms until it holds or `timeoutMs` (generous) passes. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A built service with only the jobs module, on a fresh store of `store`. */
export interface JobsApp {
  app: ServiceApp;
  db: Driver;
  runner: JobRunner;
  /** Closes the service and the store and removes what the store made. */
  close(): Promise<void>;
}

/** Builds a service with `jobsModule(options)` on a fresh store of `store`. */
export async function jobsApp(store: TestStore, options: JobsModuleOptions = {}): Promise<JobsApp> {
  const db = await store.open();
  const app = await new ServiceBuilder({ info: { display_name: "Jobs" } }).withDatabase(db).module(jobsModule(options)).build();
  return {
    app,
    db,
    runner: app.chapkit.context.get<JobRunner>("jobs"),
    async close() {
      await app.chapkit.close();
      await db.close();
      await store.cleanup();
    },
  };
}
