// batch-predict: memory of `POST /api/v1/ml/$batch-predict` against input size.
// For each size, a fresh chapkit server (a subprocess, SQLite file) trains a
// tiny model, takes a CSV upload of N rows (streamed from a file), predicts it
// in chunks of 10,000 rows through the job queue, and the client downloads the
// result. The server's peak resident set (VmHWM from /proc) is read at the end:
// memory that stays flat with input size shows the input and the result were
// streamed, never held whole. The baseline of each row is the same run with
// the smallest size; the bound is fixed (BOUND_MIB) and the row says whether
// sizes from 1,000,000 rows stayed within it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../lib/process.ts";
import { sqliteStore } from "../lib/stores.ts";
import { type BenchRow, round, type Suite, type SuiteContext } from "../lib/types.ts";

const SERVER = new URL("../servers/batch-chapkit.ts", import.meta.url).pathname;
/** The RSS bound the largest input must stay within, in MiB. */
const BOUND_MIB = 320;

function rssMiB(pid: number, field: "VmRSS" | "VmHWM"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
}

function writeCsv(path: string, rows: number): number {
  const parts: string[] = ["id,x,z\n"];
  let chunk = "";
  for (let i = 0; i < rows; i++) {
    chunk += `r${i},${i % 1000},${(i % 97) / 7}\n`;
    if (chunk.length > 1 << 20) {
      parts.push(chunk);
      chunk = "";
    }
  }
  parts.push(chunk);
  writeFileSync(path, parts.join(""));
  return parts.reduce((sum, part) => sum + part.length, 0);
}

interface Measured {
  rows: number;
  bytes: number;
  idleMiB: number;
  peakMiB: number;
  seconds: number;
}

async function measure(rows: number, file: string, context: SuiteContext): Promise<Measured> {
  const bytes = writeCsv(file, rows);
  const store = sqliteStore();
  const server = await startServer(SERVER, { DATABASE_URL: store.url });
  const pid = server.child.pid!;
  const post = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const response = await fetch(server.base + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as Record<string, unknown>;
  };
  const waitJob = async (id: unknown): Promise<Record<string, unknown>> => {
    for (;;) {
      const job = (await (await fetch(`${server.base}/api/v1/jobs/${id}`)).json()) as Record<string, unknown>;
      if (job.status === "completed") return job;
      if (job.status === "failed" || job.status === "canceled") throw new Error(`job ${id} ${job.status}: ${job.error}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  try {
    const config = await post("/api/v1/config", { name: "bench", data: {} });
    const trained = await post("/api/v1/ml/$train", { config_id: config.id, data: { columns: ["x", "y"], data: [[1, 2], [2, 4]] } });
    await waitJob(trained.job_id);
    const idleMiB = rssMiB(pid, "VmRSS");
    const started = performance.now();
    const response = await fetch(`${server.base}/api/v1/ml/$batch-predict?model_artifact_id=${trained.model_artifact_id}`, {
      method: "POST",
      headers: { "content-type": "text/csv" },
      body: Bun.file(file),
    });
    if (response.status !== 202) throw new Error(`$batch-predict: ${response.status} ${await response.text()}`);
    const answer = (await response.json()) as Record<string, unknown>;
    await waitJob(answer.job_id);
    const download = await fetch(`${server.base}/api/v1/artifacts/${answer.result_artifact_id}/$download`);
    let lines = 0;
    for await (const chunk of download.body as unknown as AsyncIterable<Uint8Array>) {
      for (const byte of chunk) if (byte === 10) lines++;
    }
    const seconds = (performance.now() - started) / 1000;
    if (lines !== rows + 1) throw new Error(`the result has ${lines} lines, expected ${rows + 1}`);
    const peakMiB = rssMiB(pid, "VmHWM");
    context.log(`${rows} rows (${round(bytes / 1048576)} MiB CSV): idle ${round(idleMiB)} MiB, peak ${round(peakMiB)} MiB, ${round(seconds)} s`);
    return { rows, bytes, idleMiB, peakMiB, seconds };
  } finally {
    await server.stop();
    await store.drop();
  }
}

async function run(context: SuiteContext): Promise<BenchRow[]> {
  const sizes = context.quick ? [10_000, 100_000] : [100_000, 1_000_000, 3_000_000];
  const dir = mkdtempSync(join(tmpdir(), "chapkit-batch-"));
  try {
    const results: Measured[] = [];
    for (const rows of sizes) results.push(await measure(rows, join(dir, `input-${rows}.csv`), context));
    const small = results[0]!;
    const large = results.at(-1)!;
    const rowsOut: BenchRow[] = results.map((r) => ({
      suite: "batch-predict",
      case: `peak server RSS, ${r.rows.toLocaleString("en")} rows CSV (${round(r.bytes / 1048576)} MiB) vs ${small.rows.toLocaleString("en")}`,
      store: "bun:sqlite",
      metric: "peak RSS",
      unit: "MiB",
      value: round(r.peakMiB),
      baseline_value: round(small.peakMiB),
      ratio: Number((small.peakMiB / r.peakMiB).toPrecision(3)),
    }));
    for (const r of results.filter((r) => r.rows >= 1_000_000 || r === large)) {
      rowsOut.push({
        suite: "batch-predict",
        case: `${r.rows.toLocaleString("en")} rows within the fixed bound of ${BOUND_MIB} MiB (ratio > 1: within)`,
        store: "bun:sqlite",
        metric: "peak RSS",
        unit: "MiB",
        value: round(r.peakMiB),
        baseline_value: BOUND_MIB,
        ratio: Number((BOUND_MIB / r.peakMiB).toPrecision(3)),
      });
    }
    for (const r of results) {
      rowsOut.push({
        suite: "batch-predict",
        case: `upload, predict and download, ${r.rows.toLocaleString("en")} rows`,
        store: "bun:sqlite",
        metric: "throughput",
        unit: "rows/s",
        value: Math.round(r.rows / r.seconds),
      });
    }
    if (large.peakMiB > BOUND_MIB) context.log(`peak RSS ${round(large.peakMiB)} MiB is above the bound of ${BOUND_MIB} MiB`);
    return rowsOut;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The batch-predict suite: server RSS flat with input size. */
export const suite: Suite = {
  name: "batch-predict",
  description: "$batch-predict of 100,000, 1,000,000 and 3,000,000 CSV rows (--quick 10,000 and 100,000): peak server RSS stays within a fixed bound",
  run,
};
