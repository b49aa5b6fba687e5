export {};
// Load generator, run as its own process: `bun bench/lib/load.ts '<json options>'`.
// Prints one JSON line: {requests, errors, seconds, rps, p50_ms, p99_ms}.

interface LoadOptions {
  /** Base URL of the server. */
  base: string;
  /** Requests to cycle through; `{i}` in path/body is replaced by a counter. */
  requests: { method: string; path: string; body?: string }[];
  connections: number;
  durationMs: number;
  warmupMs: number;
}

const options = JSON.parse(process.argv[2] ?? "{}") as LoadOptions;
const latencies: number[] = [];
let errors = 0;
let counter = 0;
let recording = false;

async function worker(deadline: number): Promise<void> {
  while (performance.now() < deadline) {
    const i = counter++;
    const spec = options.requests[i % options.requests.length]!;
    const path = spec.path.replaceAll("{i}", String(i));
    const started = performance.now();
    try {
      const response = await fetch(options.base + path, {
        method: spec.method,
        headers: spec.body ? { "content-type": "application/json" } : {},
        body: spec.body?.replaceAll("{i}", String(i)),
        keepalive: true,
      });
      await response.arrayBuffer();
      if (response.status >= 400) errors++;
    } catch {
      errors++;
    }
    if (recording) latencies.push(performance.now() - started);
  }
}

const warmEnd = performance.now() + options.warmupMs;
await Promise.all(Array.from({ length: options.connections }, () => worker(warmEnd)));
recording = true;
errors = 0;
const start = performance.now();
const end = start + options.durationMs;
await Promise.all(Array.from({ length: options.connections }, () => worker(end)));
const seconds = (performance.now() - start) / 1000;
latencies.sort((a, b) => a - b);
const pick = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
console.log(JSON.stringify({
  requests: latencies.length,
  errors,
  seconds,
  rps: latencies.length / seconds,
  p50_ms: pick(0.5),
  p99_ms: pick(0.99),
}));
