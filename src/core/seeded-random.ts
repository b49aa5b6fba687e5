/**
 * A small deterministic PRNG (mulberry32) returning floats in [0, 1): the
 * same seed draws the same sequence on every runtime, so sample data,
 * explanations and random searches repeat for a seed.
 *
 * @example
 * ```ts
 * import { seededRandom } from "./seeded-random.ts";
 * const random = seededRandom(42);
 * random(); // the same first draw on every run
 * ```
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
