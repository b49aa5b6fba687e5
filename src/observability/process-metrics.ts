import type { Registry } from "./metrics.ts";
import { unrefTimer } from "../core/timers.ts";

interface ProcessLike {
  cpuUsage?(): { user: number; system: number };
  memoryUsage?(): { rss: number; heapUsed: number; heapTotal: number; external?: number };
  uptime?(): number;
  versions?: Record<string, string | undefined>;
}

function processOf(): ProcessLike {
  return ((globalThis as { process?: ProcessLike }).process) ?? {};
}

/** The runtime's name and version, for `chapkit_runtime_info`. */
function runtime(): { name: string; version: string } {
  const deno = (globalThis as { Deno?: { version?: { deno?: string } } }).Deno;
  if (deno?.version?.deno) return { name: "deno", version: deno.version.deno };
  const versions = processOf().versions ?? {};
  if (versions.bun) return { name: "bun", version: versions.bun };
  return { name: "node", version: versions.node ?? "unknown" };
}

/**
 * Samples how late timers fire: a timer due every `intervalMs` records how
 * much later than due it ran. A busy event loop shows as lag.
 */
export class EventLoopLag {
  #last = 0;
  #lagSeconds = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  /** Starts sampling every `intervalMs` (default 500); the timer does not keep the process alive. */
  start(intervalMs = 500): void {
    if (this.#timer !== undefined) return;
    this.#last = performance.now();
    this.#timer = setInterval(() => {
      const now = performance.now();
      this.#lagSeconds = Math.max(0, now - this.#last - intervalMs) / 1000;
      this.#last = now;
    }, intervalMs);
    unrefTimer(this.#timer);
  }

  /** Stops sampling. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The lag of the last sample, in seconds. */
  get seconds(): number {
    return this.#lagSeconds;
  }
}

/**
 * Registers the process metrics: CPU seconds, resident memory, heap, start
 * time, uptime, event-loop lag and a `chapkit_runtime_info` gauge naming the
 * runtime (Bun or Deno) and its version. Values are read at scrape time.
 */
export function registerProcessMetrics(registry: Registry, lag: EventLoopLag): void {
  const proc = processOf();
  const startSeconds = Math.round((Date.now() - (proc.uptime?.() ?? 0) * 1000) / 10) / 100;
  const cpuUser = registry.counter({ name: "process_cpu_user_seconds_total", help: "User CPU time spent by the process, in seconds." });
  const cpuSystem = registry.counter({ name: "process_cpu_system_seconds_total", help: "System CPU time spent by the process, in seconds." });
  const cpu = registry.counter({ name: "process_cpu_seconds_total", help: "User and system CPU time spent by the process, in seconds." });
  cpu.collect(() => {
    const usage = proc.cpuUsage?.();
    if (!usage) return;
    const user = usage.user / 1e6;
    const system = usage.system / 1e6;
    cpuUser.child().inc(user - cpuUser.child().get());
    cpuSystem.child().inc(system - cpuSystem.child().get());
    cpu.child().inc(user + system - cpu.child().get());
  });
  const rss = registry.gauge({ name: "process_resident_memory_bytes", help: "Resident memory of the process, in bytes." });
  const heapUsed = registry.gauge({ name: "chapkit_runtime_heap_used_bytes", help: "JavaScript heap in use, in bytes." });
  const heapTotal = registry.gauge({ name: "chapkit_runtime_heap_total_bytes", help: "JavaScript heap reserved, in bytes." });
  rss.collect(() => {
    const memory = proc.memoryUsage?.();
    if (!memory) return;
    rss.set(memory.rss);
    heapUsed.set(memory.heapUsed);
    heapTotal.set(memory.heapTotal);
  });
  registry.gauge({ name: "process_start_time_seconds", help: "Start time of the process since the Unix epoch, in seconds." })
    .set(startSeconds);
  const lagGauge = registry.gauge({
    name: "chapkit_event_loop_lag_seconds",
    help: "How late the last event-loop timer sample fired, in seconds.",
  });
  lagGauge.collect(() => lagGauge.set(lag.seconds));
  const { name, version } = runtime();
  registry.gauge({
    name: "chapkit_runtime_info",
    help: "The JavaScript runtime serving this process (value always 1).",
    labelNames: ["runtime", "version"],
  }).set(1, name, version);
}
