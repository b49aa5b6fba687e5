// onnx: rows/s of an MLP (64 inputs, two hidden layers of 256, 1 output)
// through the worker pool against one onnxruntime-web session on the main
// thread: sequential batches of 1 and of 1000 rows, and N concurrent
// single-row requests. The pool gets as many concurrent callers as it has
// workers for batch 1000, since one caller keeps one worker busy at most.
import { availableParallelism } from "node:os";
import { mlpOnnx, seededMlpLayers } from "../../src/modules/ml/onnx/onnx-models.ts";
import { BatchingExecutor } from "../../src/modules/ml/onnx/onnx-batching.ts";
import { OnnxWorkerPool } from "../../src/modules/ml/onnx/onnx-pool.ts";
import { type OnnxExecutor, OnnxMainThread } from "../../src/modules/ml/onnx/onnx-session.ts";
import { type BenchRow, compare, round, type Suite, type SuiteContext } from "../lib/types.ts";

const INPUTS = 64;
const CONCURRENT = 32;
/** Warm-up of the first batching round (ms). */
const BATCHING_WARM_MS = 4000;
/** Rounds of the batching loops (batching on, off, batch 1000), alternating. */
const BATCHING_ROUNDS = 3;

function inputOf(rows: number): Float32Array {
  const data = new Float32Array(rows * INPUTS);
  for (let i = 0; i < data.length; i++) data[i] = ((i * 7919) % 1000) / 1000 - 0.5;
  return data;
}

interface Rate {
  /** Rows per wall-clock second. */
  wall: number;
  /** Rows per CPU second of this process (all threads). */
  cpu: number;
  /** 99th percentile of one call's latency, in ms. */
  p99: number;
}

/**
 * Rows per second with `callers` concurrent loops sending batches of `rows` for `ms`, after
 * `warmMs` of the same loop (default: half of `ms`, at most 1 s).
 */
async function rowsPerSecond(executor: OnnxExecutor, model: Uint8Array, rows: number, callers: number, ms: number, warmMs = Math.min(1000, ms / 2)): Promise<Rate> {
  const template = inputOf(rows);
  const call = () =>
    executor.run({ modelKey: "bench-mlp", model, inputs: [{ data: template.slice(), dims: [rows, INPUTS] }] });
  // Warm-up: every worker has the session, and the same loop runs long enough for the
  // engines' top compiler tiers (main thread and workers) to finish before the window opens.
  const warmUntil = performance.now() + warmMs;
  await Promise.all(Array.from({ length: callers }, async () => {
    do await call(); while (performance.now() < warmUntil);
  }));
  let done = 0;
  const latencies: number[] = [];
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const deadline = start + ms;
  await Promise.all(Array.from({ length: callers }, async () => {
    while (performance.now() < deadline) {
      const began = performance.now();
      await call();
      latencies.push(performance.now() - began);
      done += rows;
    }
  }));
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  latencies.sort((a, b) => a - b);
  const p99 = latencies[Math.min(latencies.length - 1, Math.ceil(latencies.length * 0.99) - 1)] ?? 0;
  return { wall: done / seconds, cpu: done / ((cpu.user + cpu.system) / 1e6), p99 };
}

async function run(context: SuiteContext): Promise<BenchRow[]> {
  const ms = context.quick ? 1500 : 4000;
  const model = mlpOnnx(seededMlpLayers([INPUTS, 256, 256, 1], 7));
  const cores = availableParallelism();
  const pool = new OnnxWorkerPool();
  const main = new OnnxMainThread();
  const rows: BenchRow[] = [];
  let batch1000 = 0;
  try {
    const cases: { name: string; rows: number; poolCallers: number; mainCallers: number }[] = [
      { name: "batch 1, sequential", rows: 1, poolCallers: 1, mainCallers: 1 },
      { name: "batch 1000", rows: 1000, poolCallers: pool.size, mainCallers: 1 },
      { name: `${CONCURRENT} concurrent single-row requests`, rows: 1, poolCallers: CONCURRENT, mainCallers: CONCURRENT },
    ];
    for (const c of cases) {
      // Alternate pool, main, pool, main and keep the better of each to damp noise from other processes.
      const poolRuns: Rate[] = [];
      const mainRuns: Rate[] = [];
      for (let i = 0; i < 2; i++) {
        poolRuns.push(await rowsPerSecond(pool, model, c.rows, c.poolCallers, ms / 2));
        mainRuns.push(await rowsPerSecond(main, model, c.rows, c.mainCallers, ms / 2));
      }
      const poolRate = Math.max(...poolRuns.map((r) => r.wall));
      const mainRate = Math.max(...mainRuns.map((r) => r.wall));
      context.log(`${c.name}: pool ${round(poolRate)} rows/s, main thread ${round(mainRate)} rows/s`);
      rows.push(compare({ suite: "onnx", case: `MLP 64-256-256-1, ${c.name} (pool of ${pool.size} vs main thread)`, store: "-", metric: "throughput", unit: "rows/s" }, poolRate, mainRate, true));
      if (c.rows === 1000) {
        batch1000 = poolRate;
        // Rows per CPU second tell pool overhead apart from cores taken by other processes.
        const poolCpu = Math.max(...poolRuns.map((r) => r.cpu));
        const mainCpu = Math.max(...mainRuns.map((r) => r.cpu));
        rows.push(compare({ suite: "onnx", case: `MLP 64-256-256-1, ${c.name}, per CPU second (pool vs main thread)`, store: "-", metric: "efficiency", unit: "rows/CPU-s" }, poolCpu, mainCpu, true));
        const target = 0.8 * Math.min(pool.size, cores);
        rows.push({
          suite: "onnx",
          case: `target: pool at batch 1000 >= 0.8 x min(pool ${pool.size}, cores ${cores}) x main = ${round(target)}x`,
          store: "-",
          metric: "speed-up",
          unit: "x",
          value: round(poolRate / mainRate, 3),
          baseline_value: round(target, 3),
          ratio: round(poolRate / mainRate / target, 3),
        });
      }
    }
    rows.push(...await batchingRows(context, pool, model, ms, batch1000));
  } finally {
    await pool.close();
    await main.close();
  }
  return rows;
}

/**
 * Adaptive micro-batching: 32 concurrent single-row requests through a
 * BatchingExecutor over the pool against the pool alone, in the same run;
 * targets: >= 5x batching off, and >= 50% of the pool's batch-1000 rate.
 * The three loops (batching on, off, the pool at batch 1000) alternate over
 * BATCHING_ROUNDS rounds and each keeps its best window, so a slow spell of
 * the machine (on a shared host every thread's CPU time per row rises by up to
 * half for a few seconds) weighs on all three alike; the batch-1000 rate is
 * the best of these windows and of the earlier batch-1000 case.
 */
async function batchingRows(context: SuiteContext, pool: OnnxWorkerPool, model: Uint8Array, ms: number, batch1000: number): Promise<BenchRow[]> {
  const batching = new BatchingExecutor(pool, { maxBatchSize: 256, maxWaitMs: 2 });
  const on: Rate[] = [];
  const off: Rate[] = [];
  let full = batch1000;
  const rounds = context.quick ? 2 : BATCHING_ROUNDS;
  for (let i = 0; i < rounds; i++) {
    // Batches of a new size send the workers down new paths of onnxruntime's WASM, which the
    // engine goes on optimising in a background thread for about 3 s (its CPU, read per thread
    // from /proc, falls to nothing by then): the first round warms up until it is done.
    const warmMs = i === 0 && !context.quick ? BATCHING_WARM_MS : undefined;
    on.push(await rowsPerSecond(batching, model, 1, CONCURRENT, ms / 2, warmMs));
    off.push(await rowsPerSecond(pool, model, 1, CONCURRENT, ms / 2, warmMs));
    full = Math.max(full, (await rowsPerSecond(pool, model, 1000, pool.size, ms / 2)).wall);
  }
  const best = (runs: Rate[]): Rate => runs.reduce((a, b) => (b.wall > a.wall ? b : a));
  const onRate = best(on);
  const offRate = best(off);
  const name = `MLP 64-256-256-1, ${CONCURRENT} concurrent single-row requests`;
  context.log(`${name}: batching ${round(onRate.wall)} rows/s (p99 ${round(onRate.p99, 2)} ms), off ${round(offRate.wall)} rows/s (p99 ${round(offRate.p99, 2)} ms), pool batch 1000 ${round(full)} rows/s (best of each over ${rounds} rounds; windows on ${on.map((r) => round(r.wall)).join(", ")}, off ${off.map((r) => round(r.wall)).join(", ")})`);
  return [
    compare({ suite: "onnx", case: `${name}, adaptive batching on vs off (pool of ${pool.size})`, store: "-", metric: "throughput", unit: "rows/s" }, onRate.wall, offRate.wall, true),
    { suite: "onnx", case: `${name}, batching on, p99 latency`, store: "-", metric: "p99", unit: "ms", value: round(onRate.p99, 3) },
    { suite: "onnx", case: `${name}, batching off, p99 latency`, store: "-", metric: "p99", unit: "ms", value: round(offRate.p99, 3) },
    {
      suite: "onnx",
      case: "target: batching on >= 5 x batching off",
      store: "-",
      metric: "speed-up",
      unit: "x",
      value: round(onRate.wall / offRate.wall, 3),
      baseline_value: 5,
      ratio: round(onRate.wall / offRate.wall / 5, 3),
    },
    {
      suite: "onnx",
      case: "target: batching on >= 0.5 x the pool's batch-1000 throughput",
      store: "-",
      metric: "share",
      unit: "x",
      value: round(full === 0 ? 0 : onRate.wall / full, 3),
      baseline_value: 0.5,
      ratio: round(full === 0 ? 0 : onRate.wall / full / 0.5, 3),
    },
  ];
}

/** The onnx suite: worker pool against the main thread. */
export const suite: Suite = {
  name: "onnx",
  description: "MLP 64-256-256-1 rows/s, OnnxWorkerPool vs one session on the main thread",
  run,
};
