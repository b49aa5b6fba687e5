// crud-deno: the config service running on Deno against a hand-written
// `Deno.serve` + `node:sqlite` baseline with the same routes, bodies and
// validation, on a SQLite file. Rounds alternate the sides to spread drift;
// each side starts fresh (10,000 seeded rows) and is loaded from a separate
// process: GET by id, GET a list page, POST. Needs `deno` (node_modules/.bin
// or PATH); without it the suite reports nothing and says why.
import { existsSync } from "node:fs";
import { BENCH_DATA } from "../servers/bench-config.ts";
import { runLoad, startServer } from "../lib/process.ts";
import { median, sqliteStore } from "../lib/stores.ts";
import { type BenchRow, compare, type Suite, type SuiteContext } from "../lib/types.ts";

const SEED = 10_000;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const CHAPKIT = new URL("../servers/crud-chapkit.ts", import.meta.url).pathname;
const BASELINE = new URL("./../baselines/crud-deno.ts", import.meta.url).pathname;
const LOCAL_DENO = new URL("../../node_modules/.bin/deno", import.meta.url).pathname;

type Side = "chapkit" | "baseline";
type Case = "GET by id" | "GET list page" | "POST create";
const CASES: Case[] = ["GET by id", "GET list page", "POST create"];

function requestsOf(kind: Case, ids: string[]): { method: string; path: string; body?: string }[] {
  if (kind === "GET by id") return ids.map((id) => ({ method: "GET", path: `/api/v1/config/${id}` }));
  if (kind === "GET list page") return [{ method: "GET", path: "/api/v1/config?page=50&size=20" }];
  return [{ method: "POST", path: "/api/v1/config", body: JSON.stringify({ name: "post-{i}", data: BENCH_DATA }) }];
}

async function runSide(side: Side, deno: string, timing: { durationMs: number; warmupMs: number }) {
  const store = sqliteStore();
  const server = await startServer(side === "chapkit" ? CHAPKIT : BASELINE, { DATABASE_URL: store.url, BENCH_SEED: String(SEED) }, {
    executable: deno,
    runtimeArgs: ["run", "-A", "--no-check"],
  });
  try {
    const page = (await (await fetch(`${server.base}/api/v1/config?page=1&size=1000`)).json()) as { items: { id: string }[]; total: number };
    if (page.total !== SEED) throw new Error(`${side}: expected ${SEED} seeded configs, found ${page.total}`);
    const ids = page.items.map((item) => item.id);
    // The peak under load: seeding at start-up is the bench's own work, not the service's.
    server.resetPeak();
    const loads = new Map<Case, { rps: number; p50_ms: number; p99_ms: number }>();
    for (const kind of CASES) {
      const result = await runLoad({ base: server.base, requests: requestsOf(kind, ids), connections: CONNECTIONS, tag: `deno-${side}`, ...timing });
      if (result.errors > 0) throw new Error(`deno ${side} ${kind}: ${result.errors} failed requests`);
      loads.set(kind, result);
    }
    return { loads, peakRssMiB: server.peakRssMiB() };
  } finally {
    await server.stop();
    await store.drop();
  }
}

async function run(context: SuiteContext): Promise<BenchRow[]> {
  const deno = existsSync(LOCAL_DENO) ? LOCAL_DENO : "deno";
  const timing = context.quick ? { durationMs: 2000, warmupMs: 500 } : { durationMs: 5000, warmupMs: 1000 };
  const rounds = context.quick ? 1 : 2;
  const results: Record<Side, Awaited<ReturnType<typeof runSide>>[]> = { chapkit: [], baseline: [] };
  for (let round = 0; round < rounds; round++) {
    for (const side of ["chapkit", "baseline"] as const) {
      const result = await runSide(side, deno, timing);
      results[side].push(result);
      context.log(`deno round ${round + 1} ${side}: ` + CASES.map((kind) => `${kind} ${result.loads.get(kind)!.rps.toFixed(0)} req/s`).join("; ") +
        `; peak RSS ${result.peakRssMiB.toFixed(0)} MiB`);
    }
  }
  const pick = (side: Side, kind: Case, key: "rps" | "p50_ms" | "p99_ms") => median(results[side].map((r) => r.loads.get(kind)![key]));
  const rows: BenchRow[] = [];
  for (const kind of CASES) {
    const base = { suite: "crud-deno", case: kind, store: "node:sqlite" };
    rows.push(compare({ ...base, metric: "throughput", unit: "req/s" }, pick("chapkit", kind, "rps"), pick("baseline", kind, "rps"), true));
    rows.push(compare({ ...base, metric: "p50 latency", unit: "ms" }, pick("chapkit", kind, "p50_ms"), pick("baseline", kind, "p50_ms"), false));
  }
  rows.push(compare(
    { suite: "crud-deno", case: "server under load (all cases, after seeding)", store: "node:sqlite", metric: "peak RSS", unit: "MiB" },
    median(results.chapkit.map((r) => r.peakRssMiB)),
    median(results.baseline.map((r) => r.peakRssMiB)),
    false,
  ));
  return rows;
}

/** The crud-deno suite: config CRUD through chapkit on Deno against `Deno.serve` + `node:sqlite`. */
export const suite: Suite = {
  name: "crud-deno",
  description: `config service on Deno vs hand-written Deno.serve + node:sqlite, ${SEED} seeded rows, ${CONNECTIONS} keep-alive connections`,
  run,
};
