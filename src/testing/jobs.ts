/** Deterministic job execution for tests: run queued jobs one at a time. */
import type { JobRecord } from "../modules/jobs/types.ts";
import { InProcessJobRunner } from "../modules/jobs/runner.ts";
import type { ServiceHandle } from "../service/lifecycle.ts";

/** Runs the queued jobs of a service whose jobs module is manual, one at a time. */
export interface JobStepper {
  /** Claims the next eligible job, runs it to its end and answers its stored record; null when none is eligible. */
  next(): Promise<JobRecord | null>;
  /** Runs jobs one after another until none is eligible; answers them in the order they ran. */
  all(): Promise<JobRecord[]>;
}

/**
 * A stepper over the jobs of `service` (a built app, or a `TestClient` via its
 * `app`), which must be built with `withJobs({ manual: true })`: then no job
 * runs until the test calls `next()`, so the order of effects is the test's.
 * Retries wait in the queue until their back-off has passed, as they would.
 *
 * @example
 * ```ts ignore
 * const client = await testClient(createService().withJobs({ manual: true, handlers }));
 * const steps = stepJobs(client.app);
 * await client.post("/api/v1/jobs", { name: "email", payload: { to: "a@example.org" } });
 * assert.equal((await steps.next())?.status, "completed");
 * ```
 *
 * @throws {Error} when the service has no jobs module or its runner is not manual.
 */
export function stepJobs(service: { readonly chapkit: ServiceHandle }): JobStepper {
  const runner = service.chapkit.context.get<unknown>("jobs");
  if (!(runner instanceof InProcessJobRunner)) throw new Error("stepJobs() needs a service built with withJobs({ manual: true })");
  return {
    next: () => runner.step(),
    async all(): Promise<JobRecord[]> {
      const ran: JobRecord[] = [];
      for (let record = await runner.step(); record !== null; record = await runner.step()) ran.push(record);
      return ran;
    },
  };
}
