/**
 * A job cluster: start two or three of these on one PostgreSQL database and
 * each job runs on exactly one of them per attempt. The `record` handler
 * writes one `executions` row per attempt (`job_id`, `instance`, `attempt`),
 * sleeps `sleep_ms`, and fails on purpose for the first `fail_times`
 * attempts. Kill one instance mid-run (even with SIGKILL): once its lease
 * expires (`CHAPKIT_JOB_LEASE_MS`), another instance retries its job when
 * attempts remain, or marks it failed (interrupted) when none do.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test INSTANCE_ID=a PORT=8001 bun examples/jobs_cluster.ts
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test INSTANCE_ID=b PORT=8002 bun examples/jobs_cluster.ts
 *   curl -X POST localhost:8001/api/v1/jobs -H 'content-type: application/json' \
 *        -d '{"name": "record", "payload": {"fail_times": 1, "sleep_ms": 500}, "max_attempts": 3}'
 *   curl localhost:8002/api/v1/executions
 *
 * Environment: `PORT` (default 8000), `DATABASE_URL` (default
 * `sqlite:./jobs_cluster.db`), `INSTANCE_ID` (default `local`),
 * `CHAPKIT_JOB_LEASE_MS` (default 60000), `JOB_CONCURRENCY` (default 4).
 */
import { Type } from "@sinclair/typebox";
import { defineEntity, type JobRunner, listenService, ServiceBuilder } from "chapkit";

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
const instance = env.INSTANCE_ID ?? "local";

/** One attempt of one job, on one instance. */
const Execution = defineEntity({
  table: "executions",
  name: "Execution",
  fields: {
    job_id: Type.String(),
    instance: Type.String(),
    attempt: Type.Integer({ minimum: 1 }),
  },
});

const RecordPayload = Type.Object({
  fail_times: Type.Optional(Type.Integer({ minimum: 0 })),
  sleep_ms: Type.Optional(Type.Integer({ minimum: 0 })),
});

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

const service = await new ServiceBuilder({
  info: { display_name: `Jobs cluster (${instance})`, version: "1.0.0" },
  databaseUrl: env.DATABASE_URL ?? "sqlite:./jobs_cluster.db",
})
  .withSettings()
  .withLogging()
  .withHealth()
  .withEntity(Execution)
  // Several processes may share the store: leases alone decide who still runs a job.
  .withJobs({ maxConcurrency: Number(env.JOB_CONCURRENCY ?? 4), identity: null, queuePollMs: 250 })
  .build();

const executions = service.chapkit.manager(Execution);
service.chapkit.context.get<JobRunner>("jobs").register("record", {
  payload: RecordPayload,
  async run({ fail_times = 0, sleep_ms = 0 }: { fail_times?: number; sleep_ms?: number }, { jobId, attempt, signal }) {
    await executions.create({ job_id: jobId, instance, attempt });
    if (sleep_ms > 0) await sleep(sleep_ms, signal);
    if (attempt <= fail_times) throw new Error(`Failing on purpose: attempt ${attempt} of the first ${fail_times}`);
    return null;
  },
});

const running = await listenService(service, { port: Number(env.PORT ?? 8000) });
console.log(`Instance ${instance} listening on ${running.url}`);
