/**
 * ModelRouter: which version of a model answers a request (route policies:
 * A/B split, canary ramp, shadow), what it recorded about each answer, and
 * the champion/challenger report. Works from code without HTTP.
 *
 * @module
 */
import { BadRequestError, NotFoundError } from "../../core/errors.ts";
import { newUlid } from "../../core/ulid.ts";
import { validateValue } from "../../core/validation.ts";
import type { Driver } from "../../db/driver.ts";
import { chooseTarget, type RoutePolicy, RoutePolicySchema, stickyBucket, type StoredRoutePolicy } from "./policy.ts";
import type { ModelRegistry } from "./registry.ts";
import type { ModelVersion } from "./schema.ts";

/** The outcome of routing one request. */
export interface RouteDecision {
  /** The version that answers. */
  version: ModelVersion;
  /** Which arm chose it: `default`, `split:<target>`, `canary`, `baseline`, `alias`, `version`. */
  arm: string;
  /** A version that also predicts, its result stored and never returned (shadow traffic). */
  shadow: ModelVersion | null;
}

/** One served prediction, as the serving log keeps it. */
export interface ServedPrediction {
  name: string;
  version: string;
  arm: string;
  key?: string | null;
  ok: boolean;
  latencyMs: number;
}

/** A shadow prediction beside the one returned. */
export interface ShadowResult {
  name: string;
  primaryVersion: string;
  shadowVersion: string;
  inputs: unknown;
  primaryOutput: unknown;
  shadowOutput: unknown;
  shadowError: string | null;
  primaryMs: number;
  shadowMs: number;
}

/** Per-version figures from the serving log. */
export interface VersionStats {
  version: string;
  requests: number;
  errors: number;
  error_rate: number;
  p50_ms: number | null;
  p95_ms: number | null;
}

/** The champion/challenger report of a model. */
export interface ChampionChallengerReport {
  name: string;
  /** Served predictions per version (since `since`, when given). */
  versions: VersionStats[];
  /** From the stored shadow pairs. */
  shadow: {
    pairs: number;
    shadow_errors: number;
    /** Per output column: mean and max absolute difference, and the share of rows within 1e-6. */
    columns: Record<string, { mean_abs_diff: number; max_abs_diff: number; agreement: number }>;
    primary_mean_ms: number | null;
    shadow_mean_ms: number | null;
    by_pair: { primary_version: string; shadow_version: string; pairs: number }[];
  };
  canary: StoredRoutePolicy["canary_state"];
}

/** Options of {@link ModelRouter}. */
export interface ModelRouterOptions {
  /** The clock (tests). */
  now?: () => Date;
  /** How long (ms) a read policy is trusted before re-reading (default 1000); this instance's writes clear it. */
  cacheTtlMs?: number;
  /** Random numbers for requests without a sticky key (tests). */
  random?: () => number;
  /** Told when a canary changes step, completes or rolls back. */
  onCanary?: (name: string, state: NonNullable<StoredRoutePolicy["canary_state"]>) => void;
}

interface PolicyRow {
  name: string;
  policy: string;
  updated_at: string;
}

function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

interface Frame {
  columns: string[];
  data: unknown[][];
}

function isFrame(value: unknown): value is Frame {
  const frame = value as Frame;
  return typeof value === "object" && value !== null && Array.isArray(frame.columns) && Array.isArray(frame.data);
}

/**
 * Routes requests for a model name by its stored policy (see
 * {@link RoutePolicy}), records each served prediction (version, arm, key,
 * outcome, latency) and shadow pairs, ramps canaries (see {@link evaluate})
 * and reports champion against challenger. Policies are read from the store
 * (cached for `cacheTtlMs`), so a change over HTTP applies without restart,
 * on every instance sharing the store.
 */
export class ModelRouter {
  readonly #db: Driver;
  readonly #registry: ModelRegistry;
  readonly #now: () => Date;
  readonly #ttl: number;
  readonly #random: () => number;
  readonly #onCanary: ModelRouterOptions["onCanary"];
  readonly #cache = new Map<string, { policy: StoredRoutePolicy | null; at: number }>();

  /** Creates the router over the registry's store. */
  constructor(db: Driver, registry: ModelRegistry, options: ModelRouterOptions = {}) {
    this.#db = db;
    this.#registry = registry;
    this.#now = options.now ?? (() => new Date());
    this.#ttl = options.cacheTtlMs ?? 1000;
    this.#random = options.random ?? Math.random;
    this.#onCanary = options.onCanary;
  }

  /** The stored policy of `name`, or null. */
  async policy(name: string): Promise<StoredRoutePolicy | null> {
    const cached = this.#cache.get(name);
    const now = Date.now();
    if (cached && now - cached.at < this.#ttl) return cached.policy;
    const [row] = await this.#db.query<PolicyRow & Record<string, unknown>>(
      "SELECT name, policy, updated_at FROM model_routes WHERE name = ?",
      [name],
    );
    const policy = row ? { ...(JSON.parse(row.policy) as StoredRoutePolicy), name, updated_at: row.updated_at } : null;
    this.#cache.set(name, { policy, at: now });
    return policy;
  }

  /**
   * Sets the policy of `name` (validated; every target must resolve now). A
   * new or changed canary starts at its first step.
   *
   * @throws {ValidationError} for a malformed policy; {@link NotFoundError} for a target that does not resolve.
   */
  async setPolicy(name: string, input: unknown): Promise<StoredRoutePolicy> {
    const policy = validateValue<RoutePolicy>(RoutePolicySchema, input);
    await this.#registry.model(name);
    const targets = [
      policy.target,
      ...(policy.split ?? []).map((arm) => arm.target),
      policy.canary?.target,
      policy.shadow?.target,
    ].filter((t): t is string => t !== undefined);
    for (const target of targets) await this.#registry.resolve(`${name}@${target}`);
    if (policy.canary) {
      const steps = policy.canary.steps;
      if (steps.some((s, i) => i > 0 && s <= steps[i - 1]!)) throw new BadRequestError("canary.steps must rise");
    }
    const previous = await this.policy(name);
    const sameCanary = previous?.canary && policy.canary &&
      JSON.stringify(previous.canary) === JSON.stringify(policy.canary);
    const at = this.#now().toISOString();
    const stored: StoredRoutePolicy = {
      ...policy,
      name,
      canary_state: policy.canary
        ? sameCanary && previous?.canary_state
          ? previous.canary_state
          : { step: 0, percentage: policy.canary.steps[0]!, status: "ramping", step_started_at: at, reason: null }
        : null,
      updated_at: at,
    };
    await this.#write(stored);
    return stored;
  }

  async #write(stored: StoredRoutePolicy): Promise<void> {
    const { name, updated_at, ...rest } = stored;
    await this.#db.exec(
      `INSERT INTO model_routes (name, policy, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at`,
      [name, JSON.stringify(rest), updated_at],
    );
    this.#cache.delete(name);
  }

  /**
   * Removes the policy of `name`.
   *
   * @throws {NotFoundError} when it has none.
   */
  async deletePolicy(name: string): Promise<void> {
    const { changes } = await this.#db.exec("DELETE FROM model_routes WHERE name = ?", [name]);
    this.#cache.delete(name);
    if (changes === 0) throw new NotFoundError(`Model ${name} has no route policy`);
  }

  /**
   * The version that answers a reference: `name@alias` and `name@version`
   * go straight there; `name` alone follows the route policy (sticky by
   * `key` when given), else the registry's default.
   */
  async route(reference: string, key?: string | null): Promise<RouteDecision> {
    const at = reference.indexOf("@");
    if (at >= 0) {
      const version = await this.#registry.resolve(reference);
      return { version, arm: /^\d/.test(reference.slice(at + 1)) ? "version" : "alias", shadow: null };
    }
    const name = reference;
    const policy = await this.policy(name);
    if (!policy) return { version: await this.#registry.resolve(name), arm: "default", shadow: null };
    const bucket = key === undefined || key === null || key === ""
      ? Math.floor(this.#random() * 10_000)
      : stickyBucket(name, key);
    const choice = chooseTarget(policy, bucket);
    const version = await this.#registry.resolve(choice.target === undefined ? name : `${name}@${choice.target}`);
    let shadow: ModelVersion | null = null;
    if (policy.shadow && this.#random() < (policy.shadow.sample_rate ?? 1)) {
      const candidate = await this.#registry.resolve(`${name}@${policy.shadow.target}`).catch(() => null);
      if (candidate && candidate.version !== version.version) shadow = candidate;
    }
    return { version, arm: choice.arm, shadow };
  }

  /** Records a served prediction in the serving log (what canaries and the report read). */
  async record(served: ServedPrediction): Promise<void> {
    await this.#db.exec(
      `INSERT INTO model_serving_log (id, name, version, arm, request_key, ok, latency_ms, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      [newUlid(), served.name, served.version, served.arm, served.key ?? null, served.ok ? 1 : 0, served.latencyMs, this.#now().toISOString()],
    );
  }

  /** Stores a shadow pair for the champion/challenger report. */
  async recordShadow(result: ShadowResult): Promise<void> {
    await this.#db.exec(
      `INSERT INTO model_shadow_results (id, name, primary_version, shadow_version, inputs, primary_output, shadow_output,
         shadow_error, primary_ms, shadow_ms, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        newUlid(), result.name, result.primaryVersion, result.shadowVersion, JSON.stringify(result.inputs ?? null),
        JSON.stringify(result.primaryOutput ?? null),
        result.shadowOutput === undefined || result.shadowOutput === null ? null : JSON.stringify(result.shadowOutput),
        result.shadowError, result.primaryMs, result.shadowMs, this.#now().toISOString(),
      ],
    );
  }

  /** Served-prediction figures per version of `name` (since an ISO time, when given). */
  async stats(name: string, since?: string): Promise<VersionStats[]> {
    const rows = await this.#db.query<{ version: string; ok: number | boolean; latency_ms: number }>(
      `SELECT version, ok, latency_ms FROM model_serving_log WHERE name = ?${since ? " AND at >= ?" : ""} ORDER BY version`,
      since ? [name, since] : [name],
    );
    const byVersion = new Map<string, { ok: number; errors: number; latencies: number[] }>();
    for (const row of rows) {
      const entry = byVersion.get(row.version) ?? { ok: 0, errors: 0, latencies: [] };
      if (Number(row.ok) === 1 || row.ok === true) entry.ok += 1;
      else entry.errors += 1;
      entry.latencies.push(Number(row.latency_ms));
      byVersion.set(row.version, entry);
    }
    return [...byVersion].map(([version, entry]) => {
      const sorted = entry.latencies.sort((a, b) => a - b);
      const requests = entry.ok + entry.errors;
      return {
        version,
        requests,
        errors: entry.errors,
        error_rate: requests === 0 ? 0 : entry.errors / requests,
        p50_ms: quantile(sorted, 0.5),
        p95_ms: quantile(sorted, 0.95),
      };
    });
  }

  /**
   * Advances or rolls back the canary of `name` (of every model when
   * omitted): when the candidate's figures in the current step (with at
   * least `min_requests` predictions) break `max_error_rate` or
   * `max_latency_ms` (p95), the ramp rolls back (share 0); when the step has
   * lasted `step_seconds` within bounds, the next step starts; after the last
   * one the ramp completes and `promote_alias` moves to the candidate. The
   * module runs this every few seconds; call it to evaluate now.
   */
  async evaluate(name?: string): Promise<StoredRoutePolicy[]> {
    const names = name !== undefined
      ? [name]
      : (await this.#db.query<{ name: string }>("SELECT name FROM model_routes")).map((row) => row.name);
    const changed: StoredRoutePolicy[] = [];
    for (const model of names) {
      this.#cache.delete(model);
      const policy = await this.policy(model);
      const canary = policy?.canary;
      const state = policy?.canary_state;
      if (!policy || !canary || !state || state.status !== "ramping") continue;
      const candidate = await this.#registry.resolve(`${model}@${canary.target}`);
      const [stats] = (await this.stats(model, state.step_started_at)).filter((s) => s.version === candidate.version);
      const now = this.#now();
      let next: typeof state | null = null;
      const enough = (stats?.requests ?? 0) >= (canary.min_requests ?? 10);
      if (stats && enough && stats.error_rate > canary.max_error_rate) {
        next = { ...state, percentage: 0, status: "rolled_back", reason: `error rate ${stats.error_rate.toFixed(3)} > ${canary.max_error_rate}` };
      } else if (stats && enough && (stats.p95_ms ?? 0) > canary.max_latency_ms) {
        next = { ...state, percentage: 0, status: "rolled_back", reason: `p95 latency ${stats.p95_ms?.toFixed(1)} ms > ${canary.max_latency_ms} ms` };
      } else if (enough && now.getTime() - Date.parse(state.step_started_at) >= canary.step_seconds * 1000) {
        const step = state.step + 1;
        next = step < canary.steps.length
          ? { step, percentage: canary.steps[step]!, status: "ramping", step_started_at: now.toISOString(), reason: null }
          : { ...state, percentage: 100, status: "completed", reason: `completed at ${now.toISOString()}` };
      }
      if (!next) continue;
      const stored = { ...policy, canary_state: next, updated_at: now.toISOString() };
      await this.#write(stored);
      if (next.status === "completed" && canary.promote_alias) {
        await this.#registry.moveAlias(model, canary.promote_alias, candidate.version, { actor: "canary", reason: next.reason ?? "canary completed" });
      }
      this.#onCanary?.(model, next);
      changed.push(stored);
    }
    return changed;
  }

  /** Champion against challenger: served figures per version and the stored shadow pairs compared. */
  async report(name: string, since?: string): Promise<ChampionChallengerReport> {
    await this.#registry.model(name);
    const rows = await this.#db.query<{
      primary_version: string;
      shadow_version: string;
      inputs: string;
      primary_output: string;
      shadow_output: string | null;
      shadow_error: string | null;
      primary_ms: number;
      shadow_ms: number;
    }>(
      `SELECT primary_version, shadow_version, inputs, primary_output, shadow_output, shadow_error, primary_ms, shadow_ms
       FROM model_shadow_results WHERE name = ?${since ? " AND at >= ?" : ""} ORDER BY id`,
      since ? [name, since] : [name],
    );
    const columns: Record<string, { sum: number; max: number; n: number; agree: number }> = {};
    const pairs = new Map<string, number>();
    let errors = 0;
    let primaryMs = 0;
    let shadowMs = 0;
    for (const row of rows) {
      const pairKey = `${row.primary_version}\u0000${row.shadow_version}`;
      pairs.set(pairKey, (pairs.get(pairKey) ?? 0) + 1);
      primaryMs += Number(row.primary_ms);
      shadowMs += Number(row.shadow_ms);
      if (row.shadow_error !== null || row.shadow_output === null) {
        errors += 1;
        continue;
      }
      const inputs: unknown = JSON.parse(row.inputs);
      const inputColumns = new Set(isFrame(inputs) ? inputs.columns : []);
      const primary: unknown = JSON.parse(row.primary_output);
      const shadow: unknown = JSON.parse(row.shadow_output);
      if (!isFrame(primary) || !isFrame(shadow)) continue;
      for (const column of primary.columns) {
        const j = shadow.columns.indexOf(column);
        const i = primary.columns.indexOf(column);
        if (j < 0 || inputColumns.has(column)) continue;
        const entry = columns[column] ??= { sum: 0, max: 0, n: 0, agree: 0 };
        primary.data.forEach((prow, r) => {
          const a = Number(prow[i]);
          const b = Number(shadow.data[r]?.[j]);
          if (!Number.isFinite(a) || !Number.isFinite(b)) return;
          const diff = Math.abs(a - b);
          entry.sum += diff;
          entry.max = Math.max(entry.max, diff);
          entry.n += 1;
          if (diff <= 1e-6 * Math.max(1, Math.abs(a))) entry.agree += 1;
        });
      }
    }
    const policy = await this.policy(name);
    return {
      name,
      versions: await this.stats(name, since),
      shadow: {
        pairs: rows.length,
        shadow_errors: errors,
        columns: Object.fromEntries(Object.entries(columns).map(([column, e]) => [column, {
          mean_abs_diff: e.n === 0 ? 0 : e.sum / e.n,
          max_abs_diff: e.max,
          agreement: e.n === 0 ? 0 : e.agree / e.n,
        }])),
        primary_mean_ms: rows.length === 0 ? null : primaryMs / rows.length,
        shadow_mean_ms: rows.length === 0 ? null : shadowMs / rows.length,
        by_pair: [...pairs].map(([key, n]) => {
          const [primary, shadow] = key.split("\u0000");
          return { primary_version: primary!, shadow_version: shadow!, pairs: n };
        }),
      },
      canary: policy?.canary_state ?? null,
    };
  }
}
