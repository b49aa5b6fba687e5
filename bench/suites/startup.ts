// startup: process start to the first 200 from /api/v1/health, a
// quickstart-like chapkit service against the baseline server (Elysia +
// bun:sqlite), alternating, several repetitions, median.
import { startServer } from "../lib/process.ts";
import { median, sqliteStore } from "../lib/stores.ts";
import { type BenchRow, compare, round, type Suite, type SuiteContext } from "../lib/types.ts";

const CHAPKIT = new URL("../servers/startup-chapkit.ts", import.meta.url).pathname;
const BASELINE = new URL("../baselines/crud-baseline.ts", import.meta.url).pathname;

async function once(script: string): Promise<{ ms: number; rss: number }> {
  const store = sqliteStore();
  try {
    const server = await startServer(script, { DATABASE_URL: store.url });
    const result = { ms: server.startupMs, rss: server.peakRssMiB() };
    await server.stop();
    return result;
  } finally {
    await store.drop();
  }
}

async function run(context: SuiteContext): Promise<BenchRow[]> {
  const repetitions = context.quick ? 5 : 11;
  const chapkit: { ms: number; rss: number }[] = [];
  const baseline: { ms: number; rss: number }[] = [];
  await once(CHAPKIT); // warm the module cache of the file system
  for (let i = 0; i < repetitions; i++) {
    chapkit.push(await once(CHAPKIT));
    baseline.push(await once(BASELINE));
  }
  const c = median(chapkit.map((r) => r.ms));
  const b = median(baseline.map((r) => r.ms));
  context.log(`median start-up: chapkit ${round(c)} ms, baseline ${round(b)} ms (${repetitions} runs each)`);
  return [
    compare({ suite: "startup", case: `spawn to first 200 from /api/v1/health (median of ${repetitions})`, store: "bun:sqlite", metric: "start-up", unit: "ms" }, c, b, false),
    compare({ suite: "startup", case: "idle after start-up", store: "bun:sqlite", metric: "peak RSS", unit: "MiB" }, median(chapkit.map((r) => r.rss)), median(baseline.map((r) => r.rss)), false),
  ];
}

/** The startup suite: time to the first healthy answer. */
export const suite: Suite = {
  name: "startup",
  description: "process start to the first 200 from /api/v1/health, quickstart-like chapkit vs baseline",
  run,
};
