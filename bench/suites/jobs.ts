// jobs: no-op jobs through the in-process runner with durable records
// (SqlJobStore on a SQLite file and on PostgreSQL), against calling the same
// function directly. Two shapes: one job at a time (submit, wait, next) and a
// burst submitted at once then awaited.
import { InProcessJobRunner } from "../../src/modules/jobs/runner.ts";
import { migrate } from "../../src/db/migrate.ts";
import { openDatabase } from "../../src/db/open.ts";
import { JOBS_MIGRATIONS } from "../../src/modules/jobs/migrations.ts";
import { SqlJobStore } from "../../src/modules/jobs/store.ts";
import { storeFactories } from "../lib/stores.ts";
import { queueVersusPgBoss } from "../lib/jobs-queue.ts";
import { type BenchRow, compare, round, type Suite, type SuiteContext } from "../lib/types.ts";

const noop = (): number => 1;

/** Seconds to call `noop` n times the way the runner would (awaited). */
async function direct(n: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < n; i++) await Promise.resolve(noop());
  return (performance.now() - start) / 1000;
}

async function run(context: SuiteContext): Promise<BenchRow[]> {
  const sequential = context.quick ? 300 : 2000;
  const burst = context.quick ? 1000 : 5000;
  const rows: BenchRow[] = [];
  for (const factory of storeFactories(context.postgresUrl)) {
    const store = await factory.open();
    const db = await openDatabase(store.url);
    try {
      await migrate(db, [...JOBS_MIGRATIONS]);
      const runner = new InProcessJobRunner({ store: new SqlJobStore(db), maxConcurrency: null });
      await runner.start();
      // Warm-up: statements prepared, code compiled.
      for (let i = 0; i < 50; i++) await runner.wait(await runner.submit(noop));

      let start = performance.now();
      for (let i = 0; i < sequential; i++) await runner.wait(await runner.submit(noop));
      const oneSeconds = (performance.now() - start) / 1000;
      const oneDirect = await direct(sequential);

      start = performance.now();
      const ids = await Promise.all(Array.from({ length: burst }, () => runner.submit(noop)));
      const records = await Promise.all(ids.map((id) => runner.wait(id)));
      const burstSeconds = (performance.now() - start) / 1000;
      const burstDirect = await direct(burst);
      const failed = records.filter((r) => r.status !== "completed").length;
      if (failed > 0) throw new Error(`${failed} jobs did not complete`);
      await runner.close();

      const kind = factory.kind;
      context.log(`${kind}: one at a time ${round(sequential / oneSeconds)} jobs/s, burst of ${burst} ${round(burst / burstSeconds)} jobs/s`);
      rows.push(compare({ suite: "jobs", case: "submit + complete, one at a time (vs direct call)", store: kind, metric: "throughput", unit: "jobs/s" }, sequential / oneSeconds, sequential / oneDirect, true));
      rows.push({ suite: "jobs", case: "submit + complete, one at a time", store: kind, metric: "overhead per job", unit: "us", value: round(((oneSeconds - oneDirect) / sequential) * 1e6, 1) });
      rows.push(compare({ suite: "jobs", case: `burst of ${burst} submitted at once (vs direct call)`, store: kind, metric: "throughput", unit: "jobs/s" }, burst / burstSeconds, burst / burstDirect, true));
      rows.push({ suite: "jobs", case: `burst of ${burst} submitted at once`, store: kind, metric: "overhead per job", unit: "us", value: round(((burstSeconds - burstDirect) / burst) * 1e6, 1) });
    } finally {
      await db.close();
      await store.drop();
    }
  }
  if (context.postgresUrl) rows.push(...await queueVersusPgBoss(context.postgresUrl, context.quick, context.log));
  return rows;
}

/** The jobs suite: durable no-op jobs against direct calls. */
export const suite: Suite = {
  name: "jobs",
  description: "no-op jobs through InProcessJobRunner + SqlJobStore vs calling the function directly, and the queue vs pg-boss on PostgreSQL",
  run,
};
