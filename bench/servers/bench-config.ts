// The config data schema and seed rows both crud servers use, so that they
// validate and store the same documents.
import { Type } from "@sinclair/typebox";

/** The `data` schema of the benchmark's configs: three declared fields with defaults, extras kept. */
export const BenchConfigData = Type.Object({
  min_samples: Type.Integer({ default: 5 }),
  model: Type.String({ default: "linear" }),
  features: Type.Array(Type.String(), { default: [] }),
}, { title: "BenchConfig", additionalProperties: true });

/** The `data` of seeded and posted configs. */
export const BENCH_DATA = { min_samples: 7, model: "gbm", features: ["rainfall", "mean_temperature"] };

/** How many rows the servers seed (`BENCH_SEED`, default 0). */
export function seedCount(): number {
  return Number(process.env.BENCH_SEED ?? 0);
}

/** The name of the seeded row `i`. */
export function seedName(i: number): string {
  return `seed-${String(i).padStart(6, "0")}`;
}
