import { type TObject, type TSchema, Type } from "@sinclair/typebox";
import { type FieldError, ValidationError } from "../../core/errors.ts";
import { seededRandom } from "../../core/seeded-random.ts";

/** The values one config key takes in a search: a list, or a numeric range. */
export type ParamRange =
  | { values: unknown[] }
  | {
    min: number;
    max: number;
    /** `log` draws (random) or spaces (grid) the values evenly in log scale; needs min > 0. */
    scale?: "linear" | "log";
    /** Rounds each value to an integer. */
    integer?: boolean;
    /** Grid only: how many evenly spaced values, ends included. */
    count?: number;
  };

/** A search over config values: keys are config paths (`model.alpha` sets `data.model.alpha`). */
export interface SearchSpace {
  /** `grid` tries every combination; `random` draws `trials` combinations. */
  strategy: "grid" | "random";
  space: Record<string, ParamRange>;
  /** Random only: how many trials (default 10). */
  trials?: number;
  /** Random only: the seed of the draws (same seed, same trials; default 1). */
  seed?: number;
}

/** The most trials one search may have. */
export const MAX_TRIALS = 1000;

const Range: TSchema = Type.Union([
  Type.Object({ values: Type.Array(Type.Unknown(), { minItems: 1, maxItems: MAX_TRIALS }) }, { additionalProperties: false }),
  Type.Object({
    min: Type.Number(),
    max: Type.Number(),
    scale: Type.Optional(Type.Union([Type.Literal("linear"), Type.Literal("log")])),
    integer: Type.Optional(Type.Boolean()),
    count: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TRIALS })),
  }, { additionalProperties: false }),
]);

/** The schema of a search's `strategy`, `space`, `trials` and `seed`. */
export const SearchSpaceProperties = {
  strategy: Type.Union([Type.Literal("grid"), Type.Literal("random")]),
  space: Type.Record(Type.String({ pattern: "^[A-Za-z0-9_]+(\\.[A-Za-z0-9_]+)*$" }), Range, {
    description: "Config path → `{values: [...]}` or `{min, max, scale?, integer?, count?}`",
  }),
  trials: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TRIALS, description: "Random search: how many trials (default 10)" })),
  seed: Type.Optional(Type.Integer({ description: "Random search: seed of the draws (default 1)" })),
};

/** A search space on its own, as a schema. */
export const SearchSpaceSchema: TObject = Type.Object(SearchSpaceProperties, { title: "SearchSpace" });


function checkRange(key: string, range: ParamRange, strategy: SearchSpace["strategy"], loc: (string | number)[]): FieldError[] {
  if ("values" in range) return [];
  const errors: FieldError[] = [];
  const at = [...loc, "space", key];
  if (!(range.max >= range.min)) errors.push({ loc: at, msg: "max must be at least min", type: "value_error" });
  if (range.scale === "log" && !(range.min > 0)) errors.push({ loc: [...at, "min"], msg: "A log scale needs min > 0", type: "value_error" });
  if (strategy === "grid" && range.count === undefined) {
    errors.push({ loc: [...at, "count"], msg: "A grid over a range needs count (how many values)", type: "missing" });
  }
  return errors;
}

function pick(range: Exclude<ParamRange, { values: unknown[] }>, fraction: number): number {
  const value = range.scale === "log"
    ? Math.exp(Math.log(range.min) + fraction * (Math.log(range.max) - Math.log(range.min)))
    : range.min + fraction * (range.max - range.min);
  // Rounding keeps grid values such as 0.1 readable (no 0.30000000000000004).
  return range.integer ? Math.round(value) : Number(value.toPrecision(12));
}

function gridValues(range: ParamRange): unknown[] {
  if ("values" in range) return range.values;
  const count = range.count ?? 1;
  const values = Array.from({ length: count }, (_, i) => pick(range, count === 1 ? 0 : i / (count - 1)));
  return range.integer ? [...new Set(values)] : values;
}

/**
 * The config overrides of each trial: every combination (grid, keys in
 * order) or `trials` seeded draws (random).
 * @throws {ValidationError} (at `loc`) for a bad range or more than {@link MAX_TRIALS} trials.
 */
export function expandSearch(search: SearchSpace, loc: (string | number)[] = ["body"]): Record<string, unknown>[] {
  const keys = Object.keys(search.space);
  const errors: FieldError[] = keys.length === 0 ? [{ loc: [...loc, "space"], msg: "The space names no config key", type: "value_error" }] : [];
  for (const key of keys) errors.push(...checkRange(key, search.space[key]!, search.strategy, loc));
  if (errors.length > 0) throw new ValidationError(errors);
  if (search.strategy === "random") {
    const random = seededRandom(search.seed ?? 1);
    return Array.from({ length: search.trials ?? 10 }, () => {
      const trial: Record<string, unknown> = {};
      for (const key of keys) {
        const range = search.space[key]!;
        trial[key] = "values" in range ? range.values[Math.floor(random() * range.values.length)] : pick(range, random());
      }
      return trial;
    });
  }
  const axes = keys.map((key) => gridValues(search.space[key]!));
  const total = axes.reduce((product, values) => product * values.length, 1);
  if (total > MAX_TRIALS) {
    throw new ValidationError([{ loc: [...loc, "space"], msg: `The grid has ${total} combinations; at most ${MAX_TRIALS}`, type: "value_error" }]);
  }
  let trials: Record<string, unknown>[] = [{}];
  keys.forEach((key, i) => {
    trials = trials.flatMap((trial) => axes[i]!.map((value) => ({ ...trial, [key]: value })));
  });
  return trials;
}

/** `data` with each override set at its dotted path (objects on the way are copied, missing ones created). */
export function withOverrides(data: Record<string, unknown>, overrides: Record<string, unknown>): Record<string, unknown> {
  const out = structuredClone(data);
  for (const [path, value] of Object.entries(overrides)) {
    const parts = path.split(".");
    let node: Record<string, unknown> = out;
    for (const part of parts.slice(0, -1)) {
      const next = node[part];
      node = node[part] = next !== null && typeof next === "object" && !Array.isArray(next) ? next as Record<string, unknown> : {};
    }
    node[parts.at(-1)!] = value;
  }
  return out;
}
