// faults: a private PostgreSQL server stopped and started again under a
// steady write loop, health probes and a running job (the outage drill of
// test/db/postgres-restart.test.ts). Reports how fast requests and health
// answer while the server is down, how soon the service recovers after the
// server accepts connections again, and what was lost (nothing, expected).
import { type DrillResult, type DrillSample, runOutageDrill } from "../../test/_support/outage-drill.ts";
import { privatePostgresUnavailable, startPrivatePostgres } from "../../test/_support/private-postgres.ts";
import { type BenchRow, round, type Suite, type SuiteContext } from "../lib/types.ts";

const max = (values: number[]): number => values.reduce((a, b) => Math.max(a, b), 0);

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Milliseconds from `since` to the first sample sent after it that answered `status`. */
function firstAfter(samples: DrillSample[], since: number, status: number): number {
  const hit = samples.find((s) => s.at >= since && s.status === status);
  return hit ? hit.at + hit.ms - since : Number.NaN;
}

function rows(drill: DrillResult, outageMs: number): BenchRow[] {
  const down = (samples: DrillSample[]) => samples.filter((s) => s.at >= drill.stopAt && s.at < drill.acceptingAt);
  const writesDown = down(drill.writes);
  const healthDown = down(drill.health);
  const row = (kase: string, metric: string, value: number, unit: string): BenchRow => ({
    suite: "faults",
    case: kase,
    store: "postgres",
    metric,
    value: round(value, 1),
    unit,
  });
  const withRetryAfter = writesDown.filter((w) => w.status === 503 && w.retryAfter !== null).length;
  return [
    row(`writes while the server is down (${writesDown.length} sent, ${round(outageMs / 1000, 1)} s outage)`, "max latency", max(writesDown.map((w) => w.ms)), "ms"),
    row("writes while the server is down", "p99 latency", percentile(writesDown.map((w) => w.ms), 99), "ms"),
    row("writes while the server is down", "503 with Retry-After", writesDown.length ? (100 * withRetryAfter) / writesDown.length : 0, "%"),
    row(`health while the server is down (${healthDown.length} probes)`, "max latency", max(healthDown.map((h) => h.ms)), "ms"),
    row("health during the whole drill", "max latency", max(drill.health.map((h) => h.ms)), "ms"),
    row("health after the stop command returned", "first 503 after", firstAfter(drill.health, drill.stoppedAt, 503), "ms"),
    row("after the server accepts connections again", "first 201 write after", firstAfter(drill.writes, drill.acceptingAt, 201), "ms"),
    row("after the server accepts connections again", "first 200 health after", firstAfter(drill.health, drill.acceptingAt, 200), "ms"),
    row(`acknowledged writes (${drill.acknowledged})`, "lost", drill.lost, "writes"),
    row(`job running across the outage (${drill.job.status})`, "completed", drill.job.status === "completed" ? 1 : 0, "bool"),
  ];
}

async function run(context: SuiteContext): Promise<BenchRow[]> {
  const unavailable = privatePostgresUnavailable();
  if (unavailable) {
    context.log(`skipped: ${unavailable}`);
    return [];
  }
  const outageMs = context.quick ? 3000 : 9000;
  const pg = await startPrivatePostgres();
  try {
    context.log(`private PostgreSQL on port ${pg.port}; stopping it for ${outageMs / 1000} s under load`);
    const drill = await runOutageDrill(pg, { outageMs, calmMs: 1000 });
    const result = rows(drill, outageMs);
    for (const r of result) context.log(`${r.case}: ${r.metric} ${r.value} ${r.unit}`);
    return result;
  } finally {
    await pg.destroy();
  }
}

/** The faults suite: a store outage under load. */
export const suite: Suite = {
  name: "faults",
  description: "PostgreSQL stopped and started under a write loop, health probes and a running job",
  run,
};
