// The queue against pg-boss on PostgreSQL, in the same run and on the same
// server: completion throughput of a backlog of no-op jobs at the same
// concurrency and fetch batch, enqueue throughput (single and batched), and
// pickup latency from enqueue to handler start on an idle queue.
import { Type } from "@sinclair/typebox";
import postgres from "postgres";
import { PgBoss } from "pg-boss";
import { migrate } from "../../src/db/migrate.ts";
import { openDatabase } from "../../src/db/open.ts";
import type { Driver } from "../../src/db/driver.ts";
import { JOBS_CHANNEL, JOBS_MIGRATIONS } from "../../src/modules/jobs/migrations.ts";
import { InProcessJobRunner } from "../../src/modules/jobs/runner.ts";
import { SqlJobStore } from "../../src/modules/jobs/store.ts";
import { postgresStore } from "./stores.ts";
import { type BenchRow, compare, round } from "./types.ts";

/** Jobs running at once in each system. */
const CONCURRENCY = 8;
/** Jobs fetched (claimed) per round trip in each system. */
const BATCH = 500;
const QUEUE = "noop";

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 2));
}

async function perSecond(n: number, run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return n / ((performance.now() - start) / 1000);
}

interface Side {
  /** Seconds until `n` queued no-op jobs are completed in the database. */
  drain(n: number): Promise<number>;
  /** Enqueues one job. */
  send(): Promise<unknown>;
  /** Enqueues `n` jobs in batches of BATCH. */
  sendMany(n: number): Promise<void>;
  /** Milliseconds from enqueue to handler start, one job at a time on an idle queue. */
  pickup(n: number): Promise<number[]>;
  close(): Promise<void>;
}

async function chapkitSide(url: string): Promise<Side> {
  const db: Driver = await openDatabase(url, { postgres: { max: 10 } });
  await migrate(db, [...JOBS_MIGRATIONS]);
  const store = new SqlJobStore(db);
  let started: ((at: number) => void) | undefined;
  const handler = {
    payload: Type.Object({}),
    run: () => {
      started?.(performance.now());
      return null;
    },
  };
  const producer = new InProcessJobRunner({ store, maxConcurrency: 1 });
  producer.register(QUEUE, handler);
  let worker: InProcessJobRunner | undefined;
  const startWorker = async (): Promise<InProcessJobRunner> => {
    worker = new InProcessJobRunner({
      store,
      maxConcurrency: CONCURRENCY,
      claimBatch: BATCH,
      queuePollMs: 1_000,
      listen: (wake) => db.listen!(JOBS_CHANNEL, wake),
    });
    worker.register(QUEUE, handler);
    await worker.start();
    return worker;
  };
  const completed = async (): Promise<number> =>
    Number((await db.query("SELECT count(*) AS n FROM jobs WHERE status = 'completed'"))[0]!.n);
  const enqueueMany = async (n: number): Promise<void> => {
    for (let done = 0; done < n; done += BATCH) {
      await producer.enqueueMany(Array.from({ length: Math.min(BATCH, n - done) }, () => ({ name: QUEUE, payload: {} })));
    }
  };
  return {
    async drain(n) {
      await db.exec("DELETE FROM jobs");
      await enqueueMany(n);
      const start = performance.now();
      const running = await startWorker();
      await until(async () => (await completed()) >= n);
      const seconds = (performance.now() - start) / 1000;
      await running.close();
      return seconds;
    },
    send: () => producer.enqueue(QUEUE, {}),
    sendMany: enqueueMany,
    async pickup(n) {
      await db.exec("DELETE FROM jobs");
      const running = await startWorker();
      const latencies: number[] = [];
      for (let i = 0; i < n; i++) {
        const picked = new Promise<number>((resolve) => (started = resolve));
        const at = performance.now();
        const { record } = await producer.enqueue(QUEUE, {});
        latencies.push((await picked) - at);
        await running.wait(record.id, 10_000);
      }
      started = undefined;
      await running.close();
      return latencies;
    },
    async close() {
      await producer.close();
      await db.close();
    },
  };
}

async function pgBossSide(url: string): Promise<Side> {
  const boss = new PgBoss({ connectionString: url, max: 10 });
  boss.on("error", () => {});
  await boss.start();
  await boss.createQueue(QUEUE, { notify: true });
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  let started: ((at: number) => void) | undefined;
  const completed = async (): Promise<number> =>
    Number((await sql.unsafe("SELECT count(*) AS n FROM pgboss.job WHERE name = $1 AND state = 'completed'", [QUEUE]))[0]!.n);
  const insertMany = async (n: number): Promise<void> => {
    for (let done = 0; done < n; done += BATCH) {
      await boss.insert(QUEUE, Array.from({ length: Math.min(BATCH, n - done) }, () => ({ data: {} })));
    }
  };
  const work = () =>
    boss.work(QUEUE, { batchSize: BATCH, localConcurrency: CONCURRENCY, pollingIntervalSeconds: 0.5 }, async (jobs) => {
      for (const _job of jobs) started?.(performance.now());
    });
  return {
    async drain(n) {
      await boss.deleteAllJobs?.(QUEUE).catch(() => {});
      const before = await completed();
      await insertMany(n);
      const start = performance.now();
      const id = await work();
      await until(async () => (await completed()) - before >= n);
      const seconds = (performance.now() - start) / 1000;
      await boss.offWork(QUEUE, { id, wait: true } as never);
      return seconds;
    },
    send: () => boss.send(QUEUE, {}),
    sendMany: insertMany,
    async pickup(n) {
      await boss.deleteQueuedJobs(QUEUE);
      const id = await work();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const latencies: number[] = [];
      for (let i = 0; i < n; i++) {
        const picked = new Promise<number>((resolve) => (started = resolve));
        const at = performance.now();
        await boss.send(QUEUE, {});
        latencies.push((await picked) - at);
      }
      started = undefined;
      await boss.offWork(QUEUE, { id, wait: true } as never);
      return latencies;
    },
    async close() {
      await sql.end({ timeout: 1 });
      await boss.stop({ graceful: false, wait: true } as never);
    },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Rows of the chapkit-vs-pg-boss comparison on PostgreSQL. Both sides are
 * open at once and measured in alternating order, round after round (3 in a
 * full run), so that load from elsewhere on the machine falls on both alike;
 * throughputs are the medians of the rounds, latencies percentiles of every
 * pickup of every round.
 */
export async function queueVersusPgBoss(
  adminUrl: string,
  quick: boolean,
  log: (message: string) => void,
): Promise<BenchRow[]> {
  const backlog = quick ? 2_000 : 10_000;
  const singles = quick ? 500 : 2_000;
  const pickups = quick ? 50 : 200;
  const rounds = quick ? 1 : 3;
  type Figures = { drain: number[]; single: number[]; batched: number[]; pickup: number[] };
  const names = ["chapkit", "pgboss"] as const;
  const figures: Record<(typeof names)[number], Figures> = {
    chapkit: { drain: [], single: [], batched: [], pickup: [] },
    pgboss: { drain: [], single: [], batched: [], pickup: [] },
  };
  const stores = [await postgresStore(adminUrl), await postgresStore(adminUrl)];
  const sides: Partial<Record<(typeof names)[number], Side>> = {};
  try {
    sides.chapkit = await chapkitSide(stores[0]!.url);
    sides.pgboss = await pgBossSide(stores[1]!.url);
    for (const name of names) await sides[name]!.drain(500); // warm-up: statements prepared, code compiled
    for (let r = 0; r < rounds; r++) {
      for (const name of r % 2 === 0 ? names : [...names].reverse()) {
        const side = sides[name]!;
        const into = figures[name];
        into.drain.push(backlog / await side.drain(backlog));
        into.single.push(await perSecond(singles, async () => {
          for (let i = 0; i < singles; i++) await side.send();
        }));
        into.batched.push(await perSecond(backlog, () => side.sendMany(backlog)));
        const latencies = await side.pickup(pickups);
        into.pickup.push(...latencies);
        log(`round ${r + 1} ${name}: ${round(into.drain.at(-1)!)} completions/s, enqueue ` +
          `${round(into.single.at(-1)!)}/s single, ${round(into.batched.at(-1)!)}/s batched, ` +
          `pickup p50 ${round(percentile(latencies, 50))} ms`);
      }
    }
  } finally {
    for (const side of Object.values(sides)) await side.close();
    for (const store of stores) await store.drop();
  }
  const pick = (name: (typeof names)[number]) => ({
    drain: median(figures[name].drain),
    single: median(figures[name].single),
    batched: median(figures[name].batched),
    pickup: figures[name].pickup,
  });
  log(`medians of ${rounds} round(s): chapkit ${round(pick("chapkit").drain)} vs pg-boss ${round(pick("pgboss").drain)} completions/s`);
  const c = pick("chapkit");
  const b = pick("pgboss");
  const row = { suite: "jobs", store: "postgres" };
  const vs = "(vs pg-boss 12";
  return [
    compare({ ...row, case: `complete ${backlog} queued no-op jobs, concurrency ${CONCURRENCY}, batch ${BATCH} ${vs})`, metric: "throughput", unit: "jobs/s" }, c.drain, b.drain, true),
    compare({ ...row, case: `enqueue one at a time ${vs})`, metric: "throughput", unit: "jobs/s" }, c.single, b.single, true),
    compare({ ...row, case: `enqueue in batches of ${BATCH} ${vs})`, metric: "throughput", unit: "jobs/s" }, c.batched, b.batched, true),
    compare({ ...row, case: `pickup latency, enqueue to handler start, idle queue ${vs}, NOTIFY on)`, metric: "p50", unit: "ms" }, percentile(c.pickup, 50), percentile(b.pickup, 50), false),
    compare({ ...row, case: `pickup latency, enqueue to handler start, idle queue ${vs}, NOTIFY on)`, metric: "p99", unit: "ms" }, percentile(c.pickup, 99), percentile(b.pickup, 99), false),
  ];
}
