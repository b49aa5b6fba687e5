import { type TObject, Type } from "@sinclair/typebox";

/** One arm of an A/B split: a version or alias of the model and its weight. */
export interface SplitArm {
  /** An alias (`champion`) or a version (`1.2.0`) of the model. */
  target: string;
  /** Relative weight (> 0). */
  weight: number;
}

/** A canary ramp: the candidate's share rises step by step while it stays within bounds. */
export interface CanaryPolicy {
  /** The candidate: an alias or version. */
  target: string;
  /** Percentages the candidate gets, rising (e.g. `[5, 25, 50, 100]`). */
  steps: number[];
  /** Seconds each step lasts before the next (when within bounds). */
  step_seconds: number;
  /** Highest tolerated share of failed predictions of the candidate (0–1). */
  max_error_rate: number;
  /** Highest tolerated p95 latency of the candidate, in ms. */
  max_latency_ms: number;
  /** Predictions of the candidate in a step before its figures count (default 10). */
  min_requests?: number;
  /** Alias moved to the candidate's version when the ramp completes (optional). */
  promote_alias?: string;
}

/** Where a canary is: its step, share and outcome. */
export interface CanaryState {
  step: number;
  percentage: number;
  status: "ramping" | "completed" | "rolled_back";
  step_started_at: string;
  /** Why it rolled back or how it completed. */
  reason: string | null;
}

/** Shadow traffic: a second version also predicts; its result is stored, never returned. */
export interface ShadowPolicy {
  target: string;
  /** Share (0–1) of requests mirrored (default 1). */
  sample_rate?: number;
}

/** How requests for a model name (without alias or version) are routed. */
export interface RoutePolicy {
  /** The default target (alias or version); default: the `production` alias, else the latest active version. */
  target?: string;
  /** A weighted A/B split; when present it decides instead of `target`. */
  split?: SplitArm[];
  /**
   * What keeps a caller on one arm: `user` (the authenticated principal),
   * `header:<name>`, `field:<name>` (a body field, or a KServe request
   * parameter); default: each request drawn at random.
   */
  sticky_by?: string | null;
  canary?: CanaryPolicy | null;
  shadow?: ShadowPolicy | null;
}

/** A stored policy with its canary state. */
export interface StoredRoutePolicy extends RoutePolicy {
  name: string;
  canary_state: CanaryState | null;
  updated_at: string;
}

const Target = Type.String({ minLength: 1, maxLength: 100, description: "An alias or a version of the model" });

/** Body of `PUT /api/v1/models/{name}/route`. */
export const RoutePolicySchema: TObject = Type.Object({
  target: Type.Optional(Target),
  split: Type.Optional(Type.Array(
    Type.Object({ target: Target, weight: Type.Number({ exclusiveMinimum: 0 }) }, { additionalProperties: false }),
    { minItems: 1, maxItems: 20 },
  )),
  sticky_by: Type.Optional(Type.Union([
    Type.String({ pattern: "^(user|header:[A-Za-z0-9-]{1,100}|field:[A-Za-z0-9_.-]{1,100})$" }),
    Type.Null(),
  ])),
  canary: Type.Optional(Type.Union([
    Type.Object({
      target: Target,
      steps: Type.Array(Type.Number({ exclusiveMinimum: 0, maximum: 100 }), { minItems: 1, maxItems: 20 }),
      step_seconds: Type.Number({ minimum: 1 }),
      max_error_rate: Type.Number({ minimum: 0, maximum: 1 }),
      max_latency_ms: Type.Number({ exclusiveMinimum: 0 }),
      min_requests: Type.Optional(Type.Integer({ minimum: 1 })),
      promote_alias: Type.Optional(Type.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$" })),
    }, { additionalProperties: false }),
    Type.Null(),
  ])),
  shadow: Type.Optional(Type.Union([
    Type.Object({
      target: Target,
      sample_rate: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    }, { additionalProperties: false }),
    Type.Null(),
  ])),
}, { title: "RoutePolicy", additionalProperties: false });

/** A stable bucket 0–9999 of `salt` + `key` (FNV-1a, 32 bit): a key keeps its arm while weights stay. */
export function stickyBucket(salt: string, key: string): number {
  let hash = 0x811c9dc5;
  const text = `${salt}\u0000${key}`;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % 10_000;
}

/**
 * The arm a request takes: the canary's candidate for its share, else the
 * split's weighted arm, else the default target. `bucket` (0–9999) comes
 * from the sticky key, or at random.
 */
export function chooseTarget(policy: StoredRoutePolicy, bucket: number): { target: string | undefined; arm: string } {
  const state = policy.canary_state;
  if (policy.canary && state && state.status === "ramping" && bucket < state.percentage * 100) {
    return { target: policy.canary.target, arm: "canary" };
  }
  if (policy.canary && state && state.status === "completed") return { target: policy.canary.target, arm: "canary" };
  if (policy.split && policy.split.length > 0) {
    const total = policy.split.reduce((sum, arm) => sum + arm.weight, 0);
    // A canary's own share is taken out first; the split shares what is left, with a bucket of its own.
    const point = (stickyBucket("split", String(bucket)) / 10_000) * total;
    let acc = 0;
    for (const arm of policy.split) {
      acc += arm.weight;
      if (point < acc) return { target: arm.target, arm: `split:${arm.target}` };
    }
    const last = policy.split[policy.split.length - 1]!;
    return { target: last.target, arm: `split:${last.target}` };
  }
  return { target: policy.target, arm: policy.canary ? "baseline" : "default" };
}
