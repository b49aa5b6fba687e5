/**
 * Writes the benchmark MLP (64 inputs, two hidden layers of 256 with Relu,
 * 1 output; deterministic weights from a seed) as an ONNX file.
 *
 * Usage: `bun scripts/make-onnx-model.ts [out.onnx] [--seed N]`
 * (default `bench/fixtures/mlp-64-256-256-1.onnx`, seed 42). Runs on Deno too.
 *
 * @module
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { mlpOnnx, seededMlpLayers } from "../src/modules/ml/onnx/onnx-models.ts";

/** Layer sizes of the benchmark MLP. */
export const BENCH_MLP_SIZES: readonly number[] = [64, 256, 256, 1];
/** Seed of the benchmark MLP's weights. */
export const BENCH_MLP_SEED = 42;

/** The benchmark MLP's ONNX bytes (the same for the same seed). */
export function benchMlpBytes(seed = BENCH_MLP_SEED): Uint8Array {
  return mlpOnnx(seededMlpLayers(BENCH_MLP_SIZES, seed));
}

/** Writes the benchmark MLP to `path`, creating its directory. */
export async function writeBenchMlp(path: string, seed = BENCH_MLP_SEED): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, benchMlpBytes(seed));
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const seedAt = args.indexOf("--seed");
  const seed = seedAt >= 0 ? Number(args.splice(seedAt, 2)[1]) : BENCH_MLP_SEED;
  const out = args[0] ?? fileURLToPath(new URL("../bench/fixtures/mlp-64-256-256-1.onnx", import.meta.url).href);
  await writeBenchMlp(out, seed);
  console.log(`wrote ${out}`);
}
