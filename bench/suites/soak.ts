// soak: long-run stability of the config service under mixed reads and writes.
// One chapkit server (defaults on: request id, request logging at info, ETags,
// problem errors, validation) on a SQLite file takes BENCH_SOAK_REQUESTS
// requests (default 1,000,000; --quick 60,000) in windows of a few seconds:
// GET by id, list pages and POSTs, about 3 reads to 1 write. After a warm-up
// window, its resident set and its open file descriptors are sampled after
// every window; the rows report their growth from the warm-up sample to the end.
import { readdirSync, readFileSync } from "node:fs";
import { BENCH_DATA } from "../servers/bench-config.ts";
import { runLoad, startServer } from "../lib/process.ts";
import { sqliteStore } from "../lib/stores.ts";
import { type BenchRow, round, type Suite, type SuiteContext } from "../lib/types.ts";

const CHAPKIT = new URL("../servers/crud-chapkit.ts", import.meta.url).pathname;
const SEED = 10_000;
const CONNECTIONS = 32;

/** Resident set (VmRSS) of a process, in MiB. */
function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** Open file descriptors of a process (sockets, the store's files, pipes). */
function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

async function run(context: SuiteContext): Promise<BenchRow[]> {
  const total = Number(process.env.BENCH_SOAK_REQUESTS ?? (context.quick ? 60_000 : 1_000_000));
  const windowMs = context.quick ? 2000 : 5000;
  const store = sqliteStore();
  const server = await startServer(CHAPKIT, { DATABASE_URL: store.url, BENCH_SEED: String(SEED) });
  try {
    const pid = server.child.pid!;
    const page = (await (await fetch(`${server.base}/api/v1/config?page=1&size=1000`)).json()) as { items: { id: string }[] };
    const reads = page.items.slice(0, 300).map((item) => ({ method: "GET", path: `/api/v1/config/${item.id}` }));
    const mix = [
      ...reads,
      ...Array.from({ length: 20 }, (_, i) => ({ method: "GET", path: `/api/v1/config?page=${i + 1}&size=20` })),
      ...Array.from({ length: 107 }, () => ({ method: "POST", path: "/api/v1/config", body: JSON.stringify({ name: "soak-{i}", data: BENCH_DATA }) })),
    ];
    let done = 0;
    let windows = 0;
    let warm: { rss: number; fds: number } | undefined;
    let peakRss = 0;
    let last = { rss: 0, fds: 0 };
    while (done < total) {
      const result = await runLoad({ base: server.base, requests: mix, connections: CONNECTIONS, durationMs: windowMs, warmupMs: 0, tag: `w${windows}-` });
      if (result.errors > 0) throw new Error(`soak window ${windows}: ${result.errors} failed requests`);
      done += result.requests;
      windows++;
      last = { rss: rssMiB(pid), fds: openFds(pid) };
      peakRss = Math.max(peakRss, last.rss);
      // The first window (a tenth of the run, at least one) warms caches, JIT and the allocator.
      if (!warm && done >= total / 10) {
        warm = last;
        context.log(`warm after ${done} requests: RSS ${round(last.rss)} MiB, ${last.fds} open fds`);
      }
      if (windows % 10 === 0) context.log(`${done} requests: RSS ${round(last.rss)} MiB, ${last.fds} open fds, ${Math.round(result.rps)} req/s`);
    }
    warm ??= last;
    context.log(`end after ${done} requests: RSS ${round(last.rss)} MiB (warm ${round(warm.rss)}), ${last.fds} open fds (warm ${warm.fds})`);
    const growth = (to: number, from: number) => round(((to - from) / from) * 100);
    return [
      { suite: "soak", case: `RSS growth after warm-up, ${done} mixed requests`, store: "bun:sqlite", metric: "growth", unit: "%", value: growth(last.rss, warm.rss), baseline_value: round(warm.rss) },
      { suite: "soak", case: "peak RSS", store: "bun:sqlite", metric: "peak RSS", unit: "MiB", value: round(peakRss) },
      { suite: "soak", case: "open file descriptors after warm-up vs end", store: "bun:sqlite", metric: "growth", unit: "fds", value: last.fds - warm.fds, baseline_value: warm.fds },
    ];
  } finally {
    await server.stop();
    await store.drop();
  }
}

/** The soak suite: RSS and descriptor growth over a long mixed run. */
export const suite: Suite = {
  name: "soak",
  description: "long mixed reads and writes against one chapkit server (BENCH_SOAK_REQUESTS, default 1,000,000): RSS and fd growth after warm-up",
  run,
};
