// transfers: a large artifact payload through one chapkit server in a
// subprocess, streamed both ways: `POST /api/v1/artifacts/$upload` of 1 GiB
// (--quick 256 MiB, BENCH_TRANSFER_MIB) sent as a chunked stream, then
// `GET …/$download` read as a stream and checked against the SHA-256 sent
// (the ETag). The server's resident set (VmRSS from /proc) is sampled every
// 20 ms during each transfer; the goal is a peak under 200 MiB whatever the
// payload's size, on the database backend (SQLite file, 1 MiB chunks) and
// the filesystem backend. Then a collection of 1,000,000 configs (--quick
// 100,000, BENCH_EXPORT_ROWS) is exported through `$export` as CSV, NDJSON
// and XLSX, read as a stream: the peak RSS beside the idle server's shows
// that memory stays flat whatever the number of rows.
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { newUlid } from "../../src/core/ulid.ts";
import { BENCH_DATA, seedName } from "../servers/bench-config.ts";
import { startServer } from "../lib/process.ts";
import { sqliteStore } from "../lib/stores.ts";
import { type BenchRow, round, type Suite, type SuiteContext } from "../lib/types.ts";

const SERVER = new URL("../servers/transfers-chapkit.ts", import.meta.url).pathname;
const CONFIG_SERVER = new URL("../servers/crud-chapkit.ts", import.meta.url).pathname;
const MIB = 1024 * 1024;

function rssMiB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/** Samples a process's RSS until stopped; answers the peak. */
function sampler(pid: number): { stop(): number } {
  let peak = rssMiB(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 20);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, rssMiB(pid));
    },
  };
}

/** `mib` MiB of varied bytes, made 1 MiB at a time, hashed as they go. */
function payload(mib: number, hash: ReturnType<typeof createHash>): ReadableStream<Uint8Array> {
  const block = new Uint8Array(MIB);
  for (let i = 0; i < MIB; i++) block[i] = (i * 31 + (i >> 11)) & 0xff;
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === mib) return controller.close();
      const chunk = block.slice();
      chunk[0] = sent & 0xff;
      chunk[1] = (sent >> 8) & 0xff;
      hash.update(chunk);
      controller.enqueue(chunk);
      sent += 1;
    },
  });
}

async function measure(context: SuiteContext, backend: string, storageUrl: string | undefined, mib: number): Promise<BenchRow[]> {
  const store = sqliteStore();
  const server = await startServer(SERVER, {
    DATABASE_URL: store.url,
    LOG_LEVEL: "warn",
    CHAPKIT_HTTP_MAX_UPLOAD_BYTES: String((mib + 1) * MIB),
    ...(storageUrl ? { CHAPKIT_STORAGE_URL: storageUrl } : {}),
  });
  try {
    const pid = server.child.pid!;
    const idle = rssMiB(pid);
    const sent = createHash("sha256");
    let watch = sampler(pid);
    let started = performance.now();
    const response = await fetch(`${server.base}/api/v1/artifacts/$upload`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: payload(mib, sent),
      duplex: "half",
    } as RequestInit);
    const created = await response.json() as { id: string };
    const uploadSeconds = (performance.now() - started) / 1000;
    const uploadPeak = watch.stop();
    if (response.status !== 201) throw new Error(`upload answered ${response.status}: ${JSON.stringify(created)}`);
    const digest = sent.digest("hex");

    watch = sampler(pid);
    started = performance.now();
    const download = await fetch(`${server.base}/api/v1/artifacts/${created.id}/$download`);
    const received = createHash("sha256");
    let bytes = 0;
    for await (const chunk of download.body as unknown as AsyncIterable<Uint8Array>) {
      received.update(chunk);
      bytes += chunk.byteLength;
    }
    const downloadSeconds = (performance.now() - started) / 1000;
    const downloadPeak = watch.stop();
    if (bytes !== mib * MIB || received.digest("hex") !== digest || download.headers.get("etag") !== `"${digest}"`) {
      throw new Error(`download of ${bytes} bytes does not match the ${mib} MiB sent`);
    }
    context.log(`${backend}: idle ${round(idle)} MiB; upload ${round(uploadSeconds)} s, peak ${round(uploadPeak)} MiB; download ${round(downloadSeconds)} s, peak ${round(downloadPeak)} MiB`);
    const size = mib >= 1024 ? `${mib / 1024} GiB` : `${mib} MiB`;
    const row = (name: string, metric: string, unit: string, value: number): BenchRow =>
      ({ suite: "transfers", case: `${name} ${size}, ${backend} backend`, store: "bun:sqlite", metric, unit, value: round(value) });
    return [
      row("upload", "peak server RSS (goal < 200)", "MiB", uploadPeak),
      row("download", "peak server RSS (goal < 200)", "MiB", downloadPeak),
      row("upload", "throughput", "MiB/s", mib / uploadSeconds),
      row("download", "throughput", "MiB/s", mib / downloadSeconds),
    ];
  } finally {
    await server.stop();
    await store.drop();
  }
}

/** Inserts `count` configs straight into the SQLite file (the server made the table), as the crud seed would. */
function seedConfigs(file: string, count: number): void {
  const db = new Database(file);
  const now = new Date().toISOString();
  const data = JSON.stringify(BENCH_DATA);
  const insert = db.prepare(`INSERT INTO "configs" ("id", "created_at", "updated_at", "name", "data") VALUES (?, ?, ?, ?, ?)`);
  for (let start = 0; start < count; start += 50_000) {
    db.transaction(() => {
      for (let i = start; i < Math.min(start + 50_000, count); i++) insert.run(newUlid(), now, now, seedName(i), data);
    })();
  }
  db.close();
}

/** `GET /api/v1/config/$export` of every row in each format, read as a stream: the server's peak RSS and rows per second. */
async function exports(context: SuiteContext, count: number): Promise<BenchRow[]> {
  const store = sqliteStore();
  const first = await startServer(CONFIG_SERVER, { DATABASE_URL: store.url, BENCH_SEED: "0", LOG_LEVEL: "warn" });
  await first.stop();
  seedConfigs(store.url.slice("sqlite:".length), count);
  const server = await startServer(CONFIG_SERVER, { DATABASE_URL: store.url, BENCH_SEED: "0", LOG_LEVEL: "warn" });
  const rows: BenchRow[] = [];
  try {
    const pid = server.child.pid!;
    const idle = rssMiB(pid);
    for (const format of (process.env.BENCH_EXPORT_FORMATS ?? "csv,ndjson,xlsx").split(",") as ("csv" | "ndjson" | "xlsx")[]) {
      const watch = sampler(pid);
      const started = performance.now();
      const response = await fetch(`${server.base}/api/v1/config/$export?format=${format}`);
      let bytes = 0;
      let lines = 0;
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        bytes += chunk.byteLength;
        if (format !== "xlsx") for (let i = 0; i < chunk.byteLength; i++) if (chunk[i] === 10) lines++;
      }
      const seconds = (performance.now() - started) / 1000;
      const peak = watch.stop();
      const expected = format === "csv" ? count + 1 : count;
      if (response.status !== 200 || (format !== "xlsx" && lines !== expected)) throw new Error(`${format} export: ${response.status}, ${lines} lines for ${count} rows`);
      context.log(`export ${count} rows as ${format}: ${round(bytes / MIB)} MiB in ${round(seconds)} s, peak RSS ${round(peak)} MiB (idle ${round(idle)})`);
      const name = `export ${count.toLocaleString("en")} configs as ${format}`;
      rows.push(
        { suite: "transfers", case: name, store: "bun:sqlite", metric: "peak server RSS", unit: "MiB", value: round(peak), baseline_value: round(idle) },
        { suite: "transfers", case: name, store: "bun:sqlite", metric: "throughput", unit: "rows/s", value: Math.round(count / seconds) },
      );
    }
    return rows;
  } finally {
    await server.stop();
    await store.drop();
  }
}

async function run(context: SuiteContext): Promise<BenchRow[]> {
  const mib = Number(process.env.BENCH_TRANSFER_MIB ?? (context.quick ? 256 : 1024));
  const count = Number(process.env.BENCH_EXPORT_ROWS ?? (context.quick ? 100_000 : 1_000_000));
  const dir = mkdtempSync(join(tmpdir(), "chapkit-bench-blobs-"));
  try {
    return [
      ...(await measure(context, "db:", undefined, mib)),
      ...(await measure(context, "file:", `file://${dir}`, mib)),
      ...(await exports(context, count)),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The transfers suite: streamed upload and download of a large payload with the server's peak RSS. */
export const suite: Suite = {
  name: "transfers",
  description: "1 GiB artifact upload and download (BENCH_TRANSFER_MIB) and a 1M-row export (BENCH_EXPORT_ROWS), streamed: throughput and the server's peak RSS",
  run,
};
