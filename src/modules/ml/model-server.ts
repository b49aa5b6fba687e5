/**
 * ModelServer: synchronous serving of registered versions (KServe V2
 * inference, warm-up, shadow predictions): loads a version's artifact and
 * config once, predicts through the runner, routes by policy and records
 * what answered.
 *
 * @module
 */
import { LRUCache } from "lru-cache";
import { UnavailableError } from "../../core/errors.ts";
import { newUlid } from "../../core/ulid.ts";
import type { Logger } from "../../core/logging.ts";
import { DataFrame } from "../../ml/dataframe.ts";
import { ValueError } from "../../ml/errors.ts";
import { runPredict } from "../../ml/runner.ts";
import type { ModelRegistry } from "../models/registry.ts";
import type { ModelRouter, RouteDecision } from "../models/router.ts";
import type { ModelVersion } from "../models/schema.ts";
import { type LoadedModel, loadTrainedModel, type MlJobDeps } from "./ml-jobs.ts";

/** What a served prediction answers. */
export interface ServedFrame {
  /** The predictions. */
  frame: DataFrame;
  /** The version that answered. */
  version: ModelVersion;
  /** The routing arm that chose it. */
  arm: string;
}

/** Where warm-up stands: what loads, what is ready, what failed. */
export interface WarmUpState {
  /** True once every aliased version has been loaded and run once (or failed). */
  done: boolean;
  /** `name@version` warmed. */
  ready: string[];
  /** `name@version` → error. */
  failed: Record<string, string>;
}

/** Options of {@link ModelServer}. */
export interface ModelServerOptions {
  /** Loaded models kept (default 16). */
  cacheSize?: number;
  logger?: Logger;
}

/**
 * Serves registered versions: `predict` (one version), `serve` (a reference
 * routed by policy, the served prediction logged, a shadow prediction run
 * after the answer and stored), and `warmUp` (every aliased version loaded
 * and run once on a synthetic row, so the first real request pays no load).
 */
export class ModelServer {
  readonly #deps: MlJobDeps;
  readonly #registry: ModelRegistry;
  readonly #router: ModelRouter | undefined;
  readonly #loaded: LRUCache<string, Promise<LoadedModel>>;
  readonly #logger: Logger | undefined;
  readonly #pending = new Set<Promise<void>>();
  #warm: WarmUpState = { done: false, ready: [], failed: {} };
  #warming = 0;

  /** Creates the server over the ML module's dependencies and the registry. */
  constructor(deps: MlJobDeps, registry: ModelRegistry, router?: ModelRouter, options: ModelServerOptions = {}) {
    this.#deps = deps;
    this.#registry = registry;
    this.#router = router;
    this.#loaded = new LRUCache({ max: options.cacheSize ?? 16 });
    this.#logger = options.logger;
  }

  /** The registry served from. */
  get registry(): ModelRegistry {
    return this.#registry;
  }

  /** The runner's declared input columns (for metadata and synthetic warm-up rows), if any. */
  get inputColumns(): readonly string[] | undefined {
    return this.#deps.runner.inputColumns;
  }

  /** The runner's declared output columns, if any. */
  get outputColumns(): readonly string[] | undefined {
    return this.#deps.runner.outputColumns;
  }

  /** `onnx_onnxv1` for an ONNX runner, else `chapkit` (KServe V2 metadata). */
  get platform(): string {
    return typeof (this.#deps.runner as { executionProvider?: unknown }).executionProvider === "function" ? "onnx_onnxv1" : "chapkit";
  }

  /** FP32 for ONNX runners (their tensors are float32), FP64 otherwise. */
  get floatType(): "FP32" | "FP64" {
    return this.platform === "onnx_onnxv1" ? "FP32" : "FP64";
  }

  /** The runner's own facts (execution provider, batching), when it reports them. */
  async runtimeInfo(): Promise<Record<string, unknown>> {
    return (await this.#deps.runner.runtimeInfo?.()) ?? {};
  }

  /** Where warm-up stands. */
  get warmUpState(): WarmUpState {
    return this.#warm;
  }

  /**
   * The loaded model of a version (cached by artifact id).
   *
   * @throws {UnavailableError} when the version has no artifact.
   */
  load(version: ModelVersion): Promise<LoadedModel> {
    const artifactId = version.artifact_id;
    if (!artifactId) return Promise.reject(new UnavailableError(`Model ${version.name} ${version.version} has no trained artifact`));
    let loading = this.#loaded.get(artifactId);
    if (!loading) {
      loading = loadTrainedModel(this.#deps, artifactId);
      loading.catch(() => this.#loaded.delete(artifactId));
      this.#loaded.set(artifactId, loading);
    }
    return loading;
  }

  /** Predicts `future` with one version. */
  async predict(version: ModelVersion, future: DataFrame, options: { signal?: AbortSignal } = {}): Promise<DataFrame> {
    const loaded = await this.load(version);
    return await runPredict(this.#deps.runner, {
      config: loaded.config,
      model: loaded.model,
      modelKey: loaded.modelKey,
      historic: null,
      future,
      geo: null,
      signal: options.signal ?? new AbortController().signal,
    });
  }

  /**
   * Predicts for a reference (`name` follows its route policy; `name@alias`,
   * `name@1.2.0` go there), logs the served prediction, and runs the policy's
   * shadow version afterwards without delaying the answer.
   */
  async serve(reference: string, future: DataFrame, options: { key?: string | null; signal?: AbortSignal } = {}): Promise<ServedFrame> {
    const decision = this.#router ? await this.#router.route(reference, options.key) : {
      version: await this.#registry.resolve(reference),
      arm: reference.includes("@") ? "reference" : "default",
      shadow: null,
    };
    const started = performance.now();
    let frame: DataFrame;
    try {
      frame = await this.predict(decision.version, future, options.signal ? { signal: options.signal } : {});
    } catch (error) {
      this.#track(this.#router?.record({
        name: decision.version.name, version: decision.version.version, arm: decision.arm,
        key: options.key ?? null, ok: false, latencyMs: performance.now() - started,
      }));
      throw error;
    }
    const ms = performance.now() - started;
    this.recordServed(decision, { key: options.key ?? null, ok: true, latencyMs: ms, future, output: frame });
    const id = newUlid();
    this.#track(this.#deps.events?.publish({
      type: "ml.predicted",
      collection: "models",
      id,
      entity: { model_name: decision.version.name, model_version: decision.version.version, route_arm: decision.arm, rows: frame.rowCount },
    }));
    return { frame, version: decision.version, arm: decision.arm };
  }

  /**
   * Logs a served prediction of a routed decision and, when it has a shadow,
   * runs the shadow on the same input after the caller has its answer.
   */
  recordServed(
    decision: RouteDecision,
    served: { key: string | null; ok: boolean; latencyMs: number; future: DataFrame; output: DataFrame },
  ): void {
    const router = this.#router;
    if (!router) return;
    const { version, arm, shadow } = decision;
    this.#track(router.record({ name: version.name, version: version.version, arm, key: served.key, ok: served.ok, latencyMs: served.latencyMs }));
    if (!shadow || !served.ok) return;
    const inputs = served.future.toJSON();
    const primaryOutput = served.output.toJSON();
    // Deferred to a later task, so the caller's answer is sent first.
    this.#track(new Promise<void>((resolve) => setTimeout(resolve, 0)).then(async () => {
      const started = performance.now();
      let output: unknown = null;
      let error: string | null = null;
      try {
        output = (await this.predict(shadow, DataFrame.fromJSON(inputs))).toJSON();
      } catch (cause) {
        error = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
      }
      await router.recordShadow({
        name: version.name,
        primaryVersion: version.version,
        shadowVersion: shadow.version,
        inputs,
        primaryOutput,
        shadowOutput: output,
        shadowError: error,
        primaryMs: served.latencyMs,
        shadowMs: performance.now() - started,
      });
    }));
  }

  #track(work: Promise<unknown> | undefined): void {
    if (!work) return;
    const done: Promise<void> = work.then(() => {}, (error: unknown) => {
      this.#logger?.warn("model.serving.record_failed", { error: String(error) });
    }).finally(() => this.#pending.delete(done));
    this.#pending.add(done);
  }

  /** Resolves when every background write (serving log, shadow runs) started so far has ended. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  /**
   * Loads every aliased version (or the given ones) and runs it once on a
   * synthetic row (zeros in the runner's input columns); failures are kept
   * in {@link warmUpState}, never thrown.
   */
  async warmUp(versions?: ModelVersion[]): Promise<WarmUpState> {
    this.#warming += 1;
    try {
      return await this.#warmUp(versions);
    } finally {
      this.#warming -= 1;
    }
  }

  /** Whether the first warm-up has finished and none is running (what readiness waits for). */
  get warm(): boolean {
    return this.#warm.done && this.#warming === 0;
  }

  async #warmUp(versions?: ModelVersion[]): Promise<WarmUpState> {
    const targets = versions ?? await this.aliasedVersions();
    for (const version of targets) {
      const label = `${version.name}@${version.version}`;
      try {
        await this.load(version);
        const columns = this.inputColumns;
        if (columns && columns.length > 0) {
          await this.predict(version, new DataFrame(columns, [columns.map(() => 0)]));
        }
        if (!this.#warm.ready.includes(label)) this.#warm.ready.push(label);
        delete this.#warm.failed[label];
      } catch (error) {
        this.#warm.failed[label] = error instanceof Error ? error.message : String(error);
        this.#logger?.warn("model.warmup.failed", { model: label, error: String(error) });
      }
    }
    this.#warm.done = true;
    return this.#warm;
  }

  /** Every version an alias points at, once each. */
  async aliasedVersions(): Promise<ModelVersion[]> {
    const seen = new Map<string, ModelVersion>();
    for (const { name, version } of await this.#registry.allAliases()) {
      const key = `${name}@${version}`;
      if (seen.has(key)) continue;
      try {
        seen.set(key, await this.#registry.version(name, version));
      } catch (error) {
        if (!(error instanceof ValueError)) this.#warm.failed[key] = String(error);
      }
    }
    return [...seen.values()];
  }
}
