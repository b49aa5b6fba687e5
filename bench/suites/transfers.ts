// transfers: a large artifact payload through one chapkit server in a
// subprocess, streamed both ways: `POST /api/v1/artifacts/$upload` of 1 GiB
// (--quick 256 MiB, BENCH_TRANSFER_MIB) sent as a chunked stream, then
// `GET …/$download` read as a stream and checked against the SHA-256 sent
// (the ETag). The server's resident set (VmRSS from /proc) is sampled every
// 20 ms during each transfer; the goal is a peak under 200 MiB whatever the
// payload's size, on the database backend (SQLite file, 1 MiB chunks) and
// the filesystem backend.
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../lib/process.ts";
import { sqliteStore } from "../lib/stores.ts";
import { type BenchRow, round, type Suite, type SuiteContext } from "../lib/types.ts";

const SERVER = new URL("../servers/transfers-chapkit.ts", import.meta.url).pathname;
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

async function run(context: SuiteContext): Promise<BenchRow[]> {
  const mib = Number(process.env.BENCH_TRANSFER_MIB ?? (context.quick ? 256 : 1024));
  const dir = mkdtempSync(join(tmpdir(), "chapkit-bench-blobs-"));
  try {
    return [
      ...(await measure(context, "db:", undefined, mib)),
      ...(await measure(context, "file:", `file://${dir}`, mib)),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The transfers suite: streamed upload and download of a large payload with the server's peak RSS. */
export const suite: Suite = {
  name: "transfers",
  description: "1 GiB artifact upload and download, streamed (BENCH_TRANSFER_MIB): throughput and the server's peak RSS (goal < 200 MiB)",
  run,
};
