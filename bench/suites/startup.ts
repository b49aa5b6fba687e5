// startup: process start to the first 200 from /api/v1/health, a
// quickstart-like chapkit service against the baseline server (Elysia +
// bun:sqlite), alternating, several repetitions, median. Chapkit starts as
// `bun add chapkit` installs it: the package is built first (`bun scripts/build.ts`,
// into dist/) and the service imports its dist/mod.js. The same service on the
// TypeScript sources (a checkout, or JSR's files) is measured in the same rounds.
import { spawnSync } from "node:child_process";
import { startServer } from "../lib/process.ts";
import { median, sqliteStore } from "../lib/stores.ts";
import { type BenchRow, compare, round, type Suite, type SuiteContext } from "../lib/types.ts";

const CHAPKIT = new URL("../servers/startup-chapkit.ts", import.meta.url).pathname;
const BASELINE = new URL("../baselines/crud-baseline.ts", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;
const PACKAGE_ENTRY = new URL("../../dist/mod.js", import.meta.url).pathname;

interface Start {
  ms: number;
  rss: number;
}

async function once(script: string, env: Record<string, string> = {}): Promise<Start> {
  const store = sqliteStore();
  try {
    const server = await startServer(script, { DATABASE_URL: store.url, ...env });
    const result = { ms: server.startupMs, rss: server.peakRssMiB() };
    await server.stop();
    return result;
  } finally {
    await store.drop();
  }
}

/** Builds the npm package's dist/ from the current sources, as `npm pack` does. */
function buildPackage(): void {
  const built = spawnSync(process.execPath, ["scripts/build.ts"], { cwd: ROOT, encoding: "utf8" });
  if (built.status !== 0) throw new Error(`bun scripts/build.ts failed:\n${built.stderr || built.stdout}`);
}

async function run(context: SuiteContext): Promise<BenchRow[]> {
  buildPackage();
  const repetitions = context.quick ? 5 : 11;
  const installed = { BENCH_CHAPKIT_ENTRY: PACKAGE_ENTRY };
  const chapkit: Start[] = [];
  const sources: Start[] = [];
  const baseline: Start[] = [];
  // Warm the file system's cache of every module each side reads.
  await once(CHAPKIT, installed);
  await once(CHAPKIT);
  await once(BASELINE);
  for (let i = 0; i < repetitions; i++) {
    chapkit.push(await once(CHAPKIT, installed));
    baseline.push(await once(BASELINE));
    sources.push(await once(CHAPKIT));
  }
  const c = median(chapkit.map((r) => r.ms));
  const s = median(sources.map((r) => r.ms));
  const b = median(baseline.map((r) => r.ms));
  context.log(`median start-up: chapkit ${round(c)} ms (from its TypeScript sources ${round(s)} ms), baseline ${round(b)} ms (${repetitions} runs each)`);
  return [
    compare({ suite: "startup", case: `spawn to first 200 from /api/v1/health (median of ${repetitions})`, store: "bun:sqlite", metric: "start-up", unit: "ms" }, c, b, false),
    compare(
      { suite: "startup", case: `spawn to first 200 from /api/v1/health, TypeScript sources (median of ${repetitions})`, store: "bun:sqlite", metric: "start-up", unit: "ms" },
      s,
      b,
      false,
    ),
    compare({ suite: "startup", case: "idle after start-up", store: "bun:sqlite", metric: "peak RSS", unit: "MiB" }, median(chapkit.map((r) => r.rss)), median(baseline.map((r) => r.rss)), false),
  ];
}

/** The startup suite: time to the first healthy answer. */
export const suite: Suite = {
  name: "startup",
  description: "process start to the first 200 from /api/v1/health, quickstart-like chapkit (built package and sources) vs baseline",
  run,
};
