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
import { DataFrame } from "./engine/dataframe.ts";
import { ValueError } from "./engine/errors.ts";
import { combinePredictions, type EnsembleSpec, isEnsembleData } from "../models/ensemble.ts";
import type { ModelRegistry } from "../models/registry.ts";
import type { ModelRouter, RouteDecision } from "../models/router.ts";
import type { ModelVersion } from "../models/schema.ts";
import { type LoadedModel, loadTrainedModel, type MlJobDeps, predictLoaded } from "./ml-jobs.ts";
import { checkPredictInput, type ModelContract } from "./model-io.ts";

/** A loaded ensemble: its definition and the raw input columns its members need. */
export interface LoadedEnsemble {
  ensemble: EnsembleSpec;
  modelKey: string;
  /** What the ensemble's inputs must satisfy (the union of its members'). */
  signature?: ModelContract["signature"];
}

/** A loaded version: a trained model or an ensemble. */
export type LoadedVersion = LoadedModel | LoadedEnsemble;

/** Whether a loaded version is an ensemble. */
export function isLoadedEnsemble(loaded: LoadedVersion): loaded is LoadedEnsemble {
  return "ensemble" in loaded;
}

// Ensembles of ensembles are allowed, to this depth.
const MAX_ENSEMBLE_DEPTH = 8;

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
  readonly #loaded: LRUCache<string, Promise<LoadedVersion>>;
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

  /** The runner's declared input columns (else its signature's), for metadata and synthetic warm-up rows. */
  get inputColumns(): readonly string[] | undefined {
    return this.#deps.runner.inputColumns ?? this.#deps.runner.signature?.inputs.map((c) => c.name);
  }

  /** The ML module's dependencies (runner, artifacts, feature catalog). */
  get deps(): MlJobDeps {
    return this.#deps;
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
  load(version: ModelVersion): Promise<LoadedVersion> {
    const artifactId = version.artifact_id;
    if (!artifactId) return Promise.reject(new UnavailableError(`Model ${version.name} ${version.version} has no trained artifact`));
    return this.loadArtifact(artifactId);
  }

  /** The loaded trained model or ensemble of an artifact (cached by artifact id). */
  loadArtifact(artifactId: string): Promise<LoadedVersion> {
    let loading = this.#loaded.get(artifactId);
    if (!loading) {
      loading = this.#loadArtifact(artifactId);
      loading.catch(() => this.#loaded.delete(artifactId));
      this.#loaded.set(artifactId, loading);
    }
    return loading;
  }

  async #loadArtifact(artifactId: string): Promise<LoadedVersion> {
    const record = await this.#deps.artifacts.repository.findById(artifactId);
    if (record && isEnsembleData(record.data)) {
      const data = record.data as { ensemble: EnsembleSpec; signature?: ModelContract["signature"] };
      return { ensemble: data.ensemble, modelKey: artifactId, ...(data.signature ? { signature: data.signature } : {}) };
    }
    return await loadTrainedModel(this.#deps, artifactId);
  }

  /**
   * Checks an input frame against what the version declares (its signature
   * and its feature set's inputs; an ensemble's members' together).
   *
   * @throws `ModelInputError` (422) listing every offending column.
   */
  async checkInput(version: ModelVersion, future: DataFrame, loc: readonly (string | number)[]): Promise<void> {
    if (!version.artifact_id) throw new UnavailableError(`Model ${version.name} ${version.version} has no trained artifact`);
    await this.checkArtifactInput(version.artifact_id, future, loc);
  }

  /**
   * {@link checkInput} for the trained model or ensemble of an artifact.
   *
   * @throws `ModelInputError` (422) listing every offending column.
   */
  async checkArtifactInput(artifactId: string, future: DataFrame, loc: readonly (string | number)[]): Promise<void> {
    const loaded = await this.loadArtifact(artifactId);
    checkPredictInput(future, isLoadedEnsemble(loaded) ? { ...(loaded.signature ? { signature: loaded.signature } : {}) } : loaded, loc);
  }

  /** Predicts `future` with one version (an ensemble predicts with each member and combines). */
  async predict(version: ModelVersion, future: DataFrame, options: { signal?: AbortSignal } = {}): Promise<DataFrame> {
    const loaded = await this.load(version);
    return await this.#predictLoaded(loaded, future, options.signal ?? new AbortController().signal, 0);
  }

  /** Predicts `future` with the trained model or ensemble of an artifact. */
  async predictArtifact(artifactId: string, future: DataFrame, options: { signal?: AbortSignal } = {}): Promise<DataFrame> {
    const loaded = await this.loadArtifact(artifactId);
    return await this.#predictLoaded(loaded, future, options.signal ?? new AbortController().signal, 0);
  }

  async #predictLoaded(loaded: LoadedVersion, future: DataFrame, signal: AbortSignal, depth: number): Promise<DataFrame> {
    if (!isLoadedEnsemble(loaded)) return await predictLoaded(this.#deps, loaded, { future, historic: null, geo: null, signal });
    if (depth >= MAX_ENSEMBLE_DEPTH) throw new ValueError(`Ensembles are nested deeper than ${MAX_ENSEMBLE_DEPTH} levels`);
    const spec = loaded.ensemble;
    const frames = await Promise.all(spec.members.map(async (member) => {
      const version = await this.#registry.version(member.name, member.version);
      if (!version.artifact_id) throw new ValueError(`Ensemble member ${member.name}@${member.version} has no trained artifact`);
      return await this.#predictLoaded(await this.loadArtifact(version.artifact_id), future, signal, depth + 1);
    }));
    let out = future;
    for (const output of spec.outputs) {
      const columns = frames.map((frame, i) => {
        const member = spec.members[i]!;
        if (!frame.has(output)) throw new ValueError(`Ensemble member ${member.name}@${member.version} predicted no ${output} column`);
        return frame.column(output);
      });
      out = out.withColumn(output, combinePredictions(spec, columns));
    }
    return out;
  }

  /**
   * Predicts for a reference (`name` follows its route policy; `name@alias`,
   * `name@1.2.0` go there) after checking `future` against what the chosen
   * version declares (422 `ModelInputError`), logs the served
   * prediction, and runs the policy's shadow version afterwards without
   * delaying the answer.
   */
  async serve(
    reference: string,
    future: DataFrame,
    options: { key?: string | null; signal?: AbortSignal; inputLoc?: readonly (string | number)[] } = {},
  ): Promise<ServedFrame> {
    const decision = this.#router ? await this.#router.route(reference, options.key) : {
      version: await this.#registry.resolve(reference),
      arm: reference.includes("@") ? "reference" : "default",
      shadow: null,
    };
    // Checked against the version routing chose, before anything is predicted or logged.
    await this.checkInput(decision.version, future, options.inputLoc ?? ["body", "inputs"]);
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
