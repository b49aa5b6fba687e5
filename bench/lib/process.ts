import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { BUCKET_MS, type LoadOptions } from "./load.ts";

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

/** A server process under test. */
export interface ServerProcess {
  port: number;
  base: string;
  child: ChildProcess;
  /** Milliseconds from spawn to the first 200 of the ready path. */
  startupMs: number;
  /** Peak resident set size so far, in MiB (VmHWM). */
  peakRssMiB(): number;
  /** Starts the peak over from the current size (Linux `clear_refs`), e.g. after seeding, so the peak is the load's. */
  resetPeak(): void;
  stop(): Promise<void>;
}

/** Options of {@link startServer}. */
export interface StartOptions {
  /** Path polled until it answers 200 (default `/api/v1/health`). */
  readyPath?: string;
  /** Give up after this long (default 60 s). */
  timeoutMs?: number;
  /** Runtime flags before the script (e.g. `--cpu-prof`). */
  runtimeArgs?: string[];
  /** The program that runs the script (default: this runtime); `node` for a peer server. */
  executable?: string;
}

/**
 * Starts `bun <script>` with env (and `PORT`), waits until `readyPath`
 * answers 200. The server's stderr (its log) goes to a pipe that is drained
 * continuously, as a process supervisor would; the first 20 kB are kept for
 * error messages.
 */
export async function startServer(
  script: string,
  env: Record<string, string>,
  options: StartOptions = {},
): Promise<ServerProcess> {
  const readyPath = options.readyPath ?? "/api/v1/health";
  const timeoutMs = options.timeoutMs ?? 60000;
  const port = await freePort();
  const started = performance.now();
  const child = spawn(options.executable ?? process.execPath, [...(options.runtimeArgs ?? []), script], {
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    if (stderr.length < 20000) stderr += String(chunk);
  });
  const base = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${script} exited early: ${stderr}`);
    if (performance.now() - started > timeoutMs) {
      child.kill("SIGKILL");
      throw new Error(`${script} did not become ready: ${stderr}`);
    }
    try {
      const response = await fetch(base + readyPath);
      await response.arrayBuffer();
      if (response.status === 200) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  const startupMs = performance.now() - started;
  return {
    port,
    base,
    child,
    startupMs,
    peakRssMiB: () => {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
        const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
        return kb / 1024;
      } catch {
        return 0;
      }
    },
    resetPeak: () => {
      try {
        writeFileSync(`/proc/${child.pid}/clear_refs`, "5");
      } catch {
        // not Linux, or not allowed: the peak then includes start-up
      }
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 5000).unref?.();
      }),
  };
}

/** Result of one load run. */
export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
}

/** Options of {@link runLoad}. */
export interface RunLoadOptions {
  base: string;
  requests: { method: string; path: string; body?: string }[];
  /** Keep-alive connections in all (split evenly across processes). */
  connections: number;
  durationMs: number;
  warmupMs: number;
  /** Generator processes (default 1). */
  processes?: number;
  /** Prefix of the `{i}` counter (distinct names across runs). */
  tag?: string;
}

interface GeneratorOutput {
  requests: number;
  errors: number;
  seconds: number;
  histogram: Record<string, number>;
}

function generate(options: LoadOptions): Promise<GeneratorOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [new URL("./load.ts", import.meta.url).pathname, JSON.stringify(options)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (chunk) => (out += String(chunk)));
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`load generator exited with ${code}`));
      resolve(JSON.parse(out.trim().split("\n").pop()!) as GeneratorOutput);
    });
  });
}

/** Quantile of a merged latency histogram, in milliseconds. */
function quantile(histogram: Map<number, number>, total: number, q: number): number {
  const buckets = [...histogram.keys()].sort((a, b) => a - b);
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (const bucket of buckets) {
    seen += histogram.get(bucket)!;
    if (seen >= rank) return (bucket + 0.5) * BUCKET_MS;
  }
  return 0;
}

/** Runs the load generator in one or more separate processes against a server. */
export async function runLoad(options: RunLoadOptions): Promise<LoadResult> {
  const processes = Math.max(1, options.processes ?? 1);
  const per = Math.ceil(options.connections / processes);
  const outputs = await Promise.all(Array.from({ length: processes }, (_, p) =>
    generate({
      base: options.base,
      requests: options.requests,
      connections: per,
      durationMs: options.durationMs,
      warmupMs: options.warmupMs,
      tag: `${options.tag ?? ""}p${p}-`,
    })
  ));
  const histogram = new Map<number, number>();
  let requests = 0;
  let errors = 0;
  let rps = 0;
  for (const output of outputs) {
    requests += output.requests;
    errors += output.errors;
    rps += output.requests / output.seconds;
    for (const [bucket, count] of Object.entries(output.histogram)) {
      histogram.set(Number(bucket), (histogram.get(Number(bucket)) ?? 0) + count);
    }
  }
  return {
    requests,
    errors,
    seconds: Math.max(...outputs.map((o) => o.seconds)),
    rps,
    p50_ms: quantile(histogram, requests, 0.5),
    p99_ms: quantile(histogram, requests, 0.99),
  };
}
