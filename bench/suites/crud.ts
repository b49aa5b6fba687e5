// crud: the config service against a hand-written Elysia baseline with the
// same routes, bodies and validation, on a SQLite file and on PostgreSQL.
// Each round starts a fresh server (and store) per side, seeds 10,000 rows,
// and loads it from a separate process: GET by id, GET a list page, POST.
// Sides alternate (chapkit, chapkit with monitoring, baseline, featured, …) to
// spread drift; the monitored side gives the cost of withMonitoring() as on/off
// ratios. The featured side is the bare baseline plus chapkit's default
// per-request features written by hand (request id, log line, ETag and 304,
// Link headers, problem errors): chapkit against it tells chapkit's own
// overhead apart from what those features cost anyway. On the
// SQLite store, when scripts/bench-peers.sh has installed them, Fastify 5 +
// better-sqlite3 on Node join the rounds as the peer a user would pick instead.
import { existsSync } from "node:fs";
import { BENCH_DATA } from "../servers/bench-config.ts";
import { type LoadResult, runLoad, startServer } from "../lib/process.ts";
import { type BenchStore, median, sqliteStore, storeFactories } from "../lib/stores.ts";
import { type BenchRow, compare, type Suite, type SuiteContext } from "../lib/types.ts";

const SEED = 10_000;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const PROCESSES = Number(process.env.BENCH_LOAD_PROCESSES ?? 1);
const CHAPKIT = new URL("../servers/crud-chapkit.ts", import.meta.url).pathname;
const BASELINE = new URL("../baselines/crud-baseline.ts", import.meta.url).pathname;
const FEATURED = new URL("../baselines/crud-featured.ts", import.meta.url).pathname;

const FASTIFY = new URL("../peers/crud-fastify.mjs", import.meta.url).pathname;
const PEERS_INSTALLED = existsSync(new URL("../peers/node_modules/fastify/package.json", import.meta.url).pathname) &&
  existsSync(new URL("../peers/node_modules/better-sqlite3/package.json", import.meta.url).pathname);

type Side = "chapkit" | "monitored" | "baseline" | "featured" | "fastify";
const SIDES: readonly Side[] = ["chapkit", "monitored", "baseline", "featured"];
type Case = "GET by id" | "GET list page" | "POST create";
const CASES: Case[] = ["GET by id", "GET list page", "POST create"];

interface Timing {
  durationMs: number;
  warmupMs: number;
}

async function seededIds(base: string): Promise<string[]> {
  const response = await fetch(`${base}/api/v1/config?page=1&size=1000`);
  const body = (await response.json()) as { items: { id: string }[]; total: number };
  if (body.total !== SEED) throw new Error(`expected ${SEED} seeded configs, found ${body.total}`);
  const ids = body.items.map((item) => item.id);
  // A fixed shuffle: both sides read the same sequence of (different) ids.
  let state = 42;
  for (let i = ids.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const j = state % (i + 1);
    [ids[i], ids[j]] = [ids[j]!, ids[i]!];
  }
  return ids;
}

function requestsOf(kind: Case, ids: string[]): { method: string; path: string; body?: string }[] {
  switch (kind) {
    case "GET by id":
      return ids.map((id) => ({ method: "GET", path: `/api/v1/config/${id}` }));
    case "GET list page":
      return [{ method: "GET", path: "/api/v1/config?page=50&size=20" }];
    case "POST create":
      return [{ method: "POST", path: "/api/v1/config", body: JSON.stringify({ name: "post-{i}", data: BENCH_DATA }) }];
  }
}

interface RunResult {
  loads: Map<Case, LoadResult>;
  peakRssMiB: number;
}

async function runSide(side: Side, store: BenchStore, timing: Timing, processes: number, cases: Case[]): Promise<RunResult> {
  const script = side === "baseline" ? BASELINE : side === "featured" ? FEATURED : side === "fastify" ? FASTIFY : CHAPKIT;
  const server = await startServer(script, {
    DATABASE_URL: store.url,
    BENCH_MONITORING: side === "monitored" ? "1" : "0",
    BENCH_SEED: String(SEED),
  }, side === "fastify" ? { executable: "node" } : {});
  try {
    const ids = await seededIds(server.base);
    // The peak under load: seeding at start-up is the bench's own work, not the service's.
    server.resetPeak();
    const loads = new Map<Case, LoadResult>();
    for (const kind of cases) {
      const result = await runLoad({
        base: server.base,
        requests: requestsOf(kind, ids),
        connections: CONNECTIONS,
        processes,
        tag: side,
        ...timing,
      });
      if (result.errors > 0) throw new Error(`${side} ${kind}: ${result.errors} failed requests`);
      loads.set(kind, result);
    }
    return { loads, peakRssMiB: server.peakRssMiB() };
  } finally {
    await server.stop();
  }
}

/** Checks that one generator process is not the bottleneck: the baseline's GET by id with 1 and 2 generators. */
async function generatorCheck(context: SuiteContext, timing: Timing): Promise<BenchRow> {
  const once = async (processes: number): Promise<LoadResult> => {
    const store = sqliteStore();
    try {
      return (await runSide("baseline", store, timing, processes, ["GET by id"])).loads.get("GET by id")!;
    } finally {
      await store.drop();
    }
  };
  const one = await once(1);
  const two = await once(2);
  context.log(`load generator check: baseline GET by id ${one.rps.toFixed(0)} req/s with 1 process, ${two.rps.toFixed(0)} with 2`);
  return {
    suite: "crud",
    case: "load generator: 2 processes vs 1 (baseline GET by id)",
    store: "bun:sqlite",
    metric: "throughput",
    value: Math.round(two.rps),
    unit: "req/s",
    baseline_value: Math.round(one.rps),
    ratio: Math.round((two.rps / one.rps) * 1000) / 1000,
  };
}

async function run(context: SuiteContext): Promise<BenchRow[]> {
  const timing: Timing = context.quick ? { durationMs: 2000, warmupMs: 500 } : { durationMs: 5000, warmupMs: 1000 };
  const rounds = context.quick ? 1 : 2;
  const rows: BenchRow[] = [];
  for (const factory of storeFactories(context.postgresUrl)) {
    const results: Record<Side, RunResult[]> = { chapkit: [], monitored: [], baseline: [], featured: [], fastify: [] };
    const peers = PEERS_INSTALLED && factory.kind === "bun:sqlite";
    if (!PEERS_INSTALLED && factory.kind === "bun:sqlite") context.log("peer rows left out: run scripts/bench-peers.sh to add Fastify + better-sqlite3 on Node");
    for (let round = 0; round < rounds; round++) {
      for (const side of peers ? [...SIDES, "fastify" as const] : SIDES) {
        const store = await factory.open();
        try {
          const result = await runSide(side, store, timing, PROCESSES, CASES);
          results[side].push(result);
          context.log(`${factory.kind} round ${round + 1} ${side}: ` + CASES.map((kind) => {
            const load = result.loads.get(kind)!;
            return `${kind} ${load.rps.toFixed(0)} req/s p50 ${load.p50_ms.toFixed(2)} ms p99 ${load.p99_ms.toFixed(2)} ms`;
          }).join("; ") + `; peak RSS ${result.peakRssMiB.toFixed(0)} MiB`);
        } finally {
          await store.drop();
        }
      }
    }
    const pick = (side: Side, kind: Case, key: "rps" | "p50_ms" | "p99_ms") =>
      median(results[side].map((result) => result.loads.get(kind)![key]));
    for (const kind of CASES) {
      const base = { suite: "crud", case: kind, store: factory.kind };
      rows.push(compare({ ...base, metric: "throughput", unit: "req/s" }, pick("chapkit", kind, "rps"), pick("baseline", kind, "rps"), true));
      rows.push(compare({ ...base, metric: "p50 latency", unit: "ms" }, pick("chapkit", kind, "p50_ms"), pick("baseline", kind, "p50_ms"), false));
      rows.push(compare({ ...base, metric: "p99 latency", unit: "ms" }, pick("chapkit", kind, "p99_ms"), pick("baseline", kind, "p99_ms"), false));
      // Monitoring on (value) against off (baseline_value): the price of withMonitoring().
      rows.push(compare(
        { suite: "crud", case: `${kind}: monitoring on vs off`, store: factory.kind, metric: "throughput", unit: "req/s" },
        pick("monitored", kind, "rps"),
        pick("chapkit", kind, "rps"),
        true,
      ));
      // The default features written by hand (value) against the bare handler (baseline_value): what they cost anyway.
      rows.push(compare(
        { suite: "crud", case: `${kind}: featured hand-written handler vs bare`, store: factory.kind, metric: "throughput", unit: "req/s" },
        pick("featured", kind, "rps"),
        pick("baseline", kind, "rps"),
        true,
      ));
      // chapkit (value) against the featured handler (baseline_value): chapkit's own overhead.
      rows.push(compare(
        { suite: "crud", case: `${kind}: vs featured hand-written handler`, store: factory.kind, metric: "throughput", unit: "req/s" },
        pick("chapkit", kind, "rps"),
        pick("featured", kind, "rps"),
        true,
      ));
    }
    if (peers) {
      // chapkit (value) against the peer (baseline_value): > 1 means chapkit serves more.
      for (const kind of CASES) {
        rows.push(compare(
          { suite: "crud", case: `${kind}: vs Fastify 5 + better-sqlite3 on Node`, store: factory.kind, metric: "throughput", unit: "req/s" },
          pick("chapkit", kind, "rps"),
          pick("fastify", kind, "rps"),
          true,
        ));
      }
    }
    rows.push(compare(
      { suite: "crud", case: "server under load (all cases, after seeding)", store: factory.kind, metric: "peak RSS", unit: "MiB" },
      median(results.chapkit.map((r) => r.peakRssMiB)),
      median(results.baseline.map((r) => r.peakRssMiB)),
      false,
    ));
  }
  rows.push(await generatorCheck(context, timing));
  return rows;
}

/** The crud suite: config CRUD through chapkit against the hand-written baseline. */
export const suite: Suite = {
  name: "crud",
  description: `config service vs hand-written Elysia, ${SEED} seeded rows, ${CONNECTIONS} keep-alive connections from a separate process`,
  run,
};
