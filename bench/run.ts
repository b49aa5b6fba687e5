// The bundled benchmark suite: `bun bench [--quick] [--compare FILE [--max-regression PCT]] [SUITE...]`.
// --compare exits 1 when a ratio fell more than PCT % (default 10) below the saved run's;
// with --against FILE2 it compares two saved runs without running anything.
// All suites write bench/results/latest.json; some suites, latest-<suites>.json.
// Every figure is measured beside its baseline in the same invocation.
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import postgres from "postgres";
import { readFileSync } from "node:fs";
import { compareRuns, comparisonReport } from "./lib/compare.ts";
import type { BenchRow, Suite } from "./lib/types.ts";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const VALUED = ["--compare", "--against", "--max-regression"];
const option = (name: string): string | undefined => {
  const index = args.indexOf(name);
  return index < 0 ? undefined : args[index + 1];
};
const wanted = args.filter((a, i) => !a.startsWith("--") && !VALUED.includes(args[i - 1] ?? ""));
const compareFile = option("--compare");
const maxDrop = Number(option("--max-regression") ?? "10") / 100;
if (args.includes("--compare") && !compareFile || !(maxDrop >= 0)) {
  console.error("Usage: bun bench [--quick] [--compare FILE [--against FILE2] [--max-regression PCT]] [SUITE...]");
  process.exit(2);
}
const readRows = (file: string): BenchRow[] => (JSON.parse(readFileSync(file, "utf8")) as { rows: BenchRow[] }).rows;

/** Prints the comparison with the saved run and exits 1 on a regression. */
function compareAndExit(current: BenchRow[]): void {
  if (!compareFile) return;
  const result = compareRuns(readRows(compareFile), current, maxDrop);
  console.log(`\n${comparisonReport(result, maxDrop, compareFile)}`);
  if (result.regressions.length > 0) process.exit(1);
}

const against = option("--against");
if (compareFile && against) {
  compareAndExit(readRows(against));
  process.exit(0);
}
const suitesDir = new URL("./suites/", import.meta.url);

const available = readdirSync(suitesDir).filter((f) => f.endsWith(".ts")).sort();
const suites: Suite[] = [];
for (const file of available) {
  const mod = (await import(new URL(file, suitesDir).href)) as { suite: Suite };
  if (wanted.length === 0 || wanted.includes(mod.suite.name)) suites.push(mod.suite);
}
for (const name of wanted) {
  if (!suites.some((s) => s.name === name)) {
    console.error(`Unknown suite ${name}; available: ${available.map((f) => f.replace(/\.ts$/, "")).join(", ")}`);
    process.exit(2);
  }
}

async function reachablePostgres(): Promise<string | undefined> {
  const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`SELECT 1`;
    return url;
  } catch {
    return undefined;
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

const postgresUrl = await reachablePostgres();
const rows: BenchRow[] = [];
const started = Date.now();
for (const suite of suites) {
  console.error(`\n== ${suite.name}: ${suite.description}${quick ? " (quick)" : ""}`);
  const suiteRows = await suite.run({ quick, postgresUrl, log: (m) => console.error(`   ${m}`) });
  rows.push(...suiteRows);
}

const header = {
  runtime: typeof Bun !== "undefined" ? "bun" : "other",
  runtime_version: typeof Bun !== "undefined" ? Bun.version : process.version,
  chapkit_version: (await import("../package.json", { with: { type: "json" } })).default.version,
  cpus: cpus().length,
  cpu_model: cpus()[0]?.model ?? "unknown",
  date: new Date().toISOString(),
  quick,
  postgres: postgresUrl !== undefined,
  seconds: Math.round((Date.now() - started) / 1000),
};

function table(data: BenchRow[]): string {
  const head = ["suite", "case", "store", "metric", "chapkit", "baseline", "ratio"];
  const body = data.map((r) => [
    r.suite,
    r.case,
    r.store,
    `${r.metric} (${r.unit})`,
    String(r.value),
    r.baseline_value === undefined ? "" : String(r.baseline_value),
    r.ratio === undefined ? "" : `${r.ratio >= 0.1 ? r.ratio.toFixed(2) : r.ratio.toPrecision(2)}x`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(line)].join("\n");
}

console.log(`\nchapkit ${header.chapkit_version} on ${header.runtime} ${header.runtime_version}, ${header.cpus} CPUs (${header.cpu_model}), ${header.date}${quick ? ", --quick" : ""}`);
console.log("ratio: chapkit relative to its baseline, > 1 means chapkit is better (faster or leaner)\n");
console.log(table(rows));
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
// Only a run of every suite replaces latest.json; a run of some suites writes beside it.
const file = wanted.length === 0 ? "latest.json" : `latest-${[...wanted].sort().join("-")}.json`;
writeFileSync(new URL(`./results/${file}`, import.meta.url), JSON.stringify({ header, rows }, null, 2) + "\n");
console.log(`\nwrote bench/results/${file} (${rows.length} rows, ${header.seconds} s)`);
compareAndExit(rows);
