// Profiles one crud case of a server under load:
//   bun bench/profile.ts [chapkit|baseline] ["GET by id"|"GET list page"|"POST create"] [seconds]
// (BENCH_PROFILE_STORE=postgres profiles on a fresh database next to DATABASE_URL's;
// BENCH_PROFILE_INTERVAL_US sets the sampling interval, default 1000.)
// Starts the server with `--cpu-prof`, loads it from a separate process, stops
// it, and prints the functions with the most self time and the most total
// (inclusive) time. The raw profile stays in bench/results/profiles/.
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { BENCH_DATA } from "./servers/bench-config.ts";
import { runLoad, startServer } from "./lib/process.ts";
import { postgresStore, sqliteStore } from "./lib/stores.ts";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
}

const side = process.argv[2] ?? "chapkit";
const kind = process.argv[3] ?? "GET by id";
const seconds = Number(process.argv[4] ?? 5);
const dir = new URL("./results/profiles/", import.meta.url).pathname;
mkdirSync(dir, { recursive: true });
const name = `${side}-${kind.replaceAll(" ", "-")}-${Date.now()}.cpuprofile`;
const store = process.env.BENCH_PROFILE_STORE === "postgres"
  ? await postgresStore(process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test")
  : sqliteStore();
const script = new URL(side === "chapkit" ? "./servers/crud-chapkit.ts" : "./baselines/crud-baseline.ts", import.meta.url).pathname;
const server = await startServer(script, { DATABASE_URL: store.url, BENCH_SEED: "10000" }, {
  runtimeArgs: ["--cpu-prof", `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}`, `--cpu-prof-interval=${process.env.BENCH_PROFILE_INTERVAL_US ?? 1000}`],
});
const page = (await (await fetch(`${server.base}/api/v1/config?page=1&size=1000`)).json()) as { items: { id: string }[] };
const requests = kind === "GET by id"
  ? page.items.map((item) => ({ method: "GET", path: `/api/v1/config/${item.id}` }))
  : kind === "GET list page"
  ? [{ method: "GET", path: "/api/v1/config?page=50&size=20" }]
  : [{ method: "POST", path: "/api/v1/config", body: JSON.stringify({ name: "post-{i}", data: BENCH_DATA }) }];
const result = await runLoad({ base: server.base, requests, connections: 32, durationMs: seconds * 1000, warmupMs: 500 });
console.log(`${side} ${kind}: ${result.rps.toFixed(0)} req/s, p50 ${result.p50_ms.toFixed(2)} ms, p99 ${result.p99_ms.toFixed(2)} ms`);
await server.stop();
await store.drop();

await Bun.sleep(200);
const file = readdirSync(dir).find((f) => f === name);
if (!file) throw new Error(`no profile written in ${dir}`);
const profile = JSON.parse(readFileSync(dir + file, "utf8")) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
const label = (node: ProfileNode) => {
  const url = node.callFrame.url.replace(/^.*\/(node_modules|src|bench)\//, "$1/");
  return `${node.callFrame.functionName || "(anonymous)"} ${url}:${node.callFrame.lineNumber + 1}`;
};
const self = new Map<string, number>();
const total = new Map<string, number>();
for (const sample of profile.samples) {
  const node = byId.get(sample)!;
  self.set(label(node), (self.get(label(node)) ?? 0) + 1);
  const seen = new Set<string>();
  for (let id: number | undefined = sample; id !== undefined; id = parent.get(id)) {
    const l = label(byId.get(id)!);
    if (seen.has(l)) continue;
    seen.add(l);
    total.set(l, (total.get(l) ?? 0) + 1);
  }
}
const count = profile.samples.length;
const top = (map: Map<string, number>, n: number) =>
  [...map].sort((a, b) => b[1] - a[1]).slice(0, n).map(([l, c]) => `${((100 * c) / count).toFixed(1).padStart(5)}%  ${l}`).join("\n");
console.log(`\nself time (${count} samples)\n${top(self, 30)}\n\ntotal time\n${top(total, 45)}`);
console.log(`\nprofile: ${dir}${file}`);
