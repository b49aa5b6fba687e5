/**
 * ExperimentTracker: experiments and runs from code, and the recorder the
 * ML module's train job reports to.
 *
 * @module
 */
import { BadRequestError, ConflictError, NotFoundError } from "../../core/errors.ts";
import type { Logger } from "../../core/logging.ts";
import { newUlid } from "../../core/ulid.ts";
import type { Driver } from "../../db/driver.ts";
import type { SqlRepository } from "../../db/repository.ts";
import { checkMetric } from "../ml/engine/runner.ts";
import { describeJobError } from "../jobs/job-error.ts";
import type { TrainingRecorder, TrainingRun, TrainingRunStart } from "../ml/ml-jobs.ts";
import type { ExperimentRecord, MetricPoint, RunArtifact, RunComparison, RunKind, RunRecord, RunStatus } from "./schema.ts";
import { insertMetricPoints, metricPoints } from "./store.ts";

/** The experiment runs go to when nothing names one. */
export const DEFAULT_EXPERIMENT = "Default";

/** Buffered metric points are written once this many wait (and at the run's end). */
const FLUSH_AT = 100;

/** What opening a run takes besides its experiment. */
export interface RunStart {
  /** The run's id (default a new ULID). */
  id?: string;
  /** Experiment name (created on first use; default `Default`). */
  experiment?: string;
  name?: string | null;
  kind?: RunKind;
  parentRunId?: string | null;
  params?: Record<string, unknown>;
  tags?: Record<string, string>;
  configId?: string | null;
  modelArtifactId?: string | null;
  modelName?: string | null;
  jobId?: string | null;
}

/** How a run ended. */
export interface RunEnd {
  status: Exclude<RunStatus, "running">;
  /** Merged into the run's metrics (last values). */
  metrics?: Record<string, number>;
  /** Merged into the run's params. */
  params?: Record<string, unknown>;
  /** Merged into the run's tags. */
  tags?: Record<string, string>;
  artifacts?: RunArtifact[];
  modelArtifactId?: string | null;
  modelName?: string | null;
  modelVersion?: string | null;
  error?: string | null;
}

/**
 * A config's data as run params: nested objects flattened with `.`
 * (`{model: {alpha: 1}}` → `{"model.alpha": 1}`); arrays and scalars kept.
 */
export function flattenParams(value: Record<string, unknown>, prefix = ""): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (item !== null && typeof item === "object" && !Array.isArray(item) && Object.keys(item).length > 0) {
      Object.assign(out, flattenParams(item as Record<string, unknown>, name));
    } else {
      out[name] = item;
    }
  }
  return out;
}

/** Params side by side: those equal in every run, and the others per run. */
function diffParams(runs: readonly RunRecord[]): Pick<RunComparison, "params_diff" | "params_same"> {
  const diff: RunComparison["params_diff"] = {};
  const same: RunComparison["params_same"] = {};
  for (const key of [...new Set(runs.flatMap((run) => Object.keys(run.params)))].sort()) {
    const texts = new Set(runs.map((run) => JSON.stringify(run.params[key] ?? null)));
    if (texts.size === 1) same[key] = runs[0]!.params[key] ?? null;
    else diff[key] = Object.fromEntries(runs.map((run) => [run.id, run.params[key] ?? null]));
  }
  return { params_diff: diff, params_same: same };
}

/** A run being recorded: metric points are buffered and written in batches. */
class OpenRun implements TrainingRun {
  readonly id: string;
  readonly #tracker: ExperimentTracker;
  readonly #started: number;
  readonly #params: Record<string, unknown> = {};
  readonly #steps = new Map<string, number>();
  #buffer: MetricPoint[] = [];
  #writing: Promise<void> = Promise.resolve();

  constructor(tracker: ExperimentTracker, id: string, started: number) {
    this.#tracker = tracker;
    this.id = id;
    this.#started = started;
  }

  logMetric(name: string, value: number, step?: number): void {
    checkMetric(name, value, step);
    const at = step ?? this.#steps.get(name) ?? 0;
    this.#steps.set(name, Math.max(this.#steps.get(name) ?? 0, at + 1));
    this.#buffer.push({ key: name, value, step: at, timestamp: new Date().toISOString() });
    if (this.#buffer.length >= FLUSH_AT) void this.#flush().catch(() => {});
  }

  logParam(name: string, value: unknown): void {
    this.#params[name] = value;
  }

  #flush(): Promise<void> {
    const points = this.#buffer;
    this.#buffer = [];
    // Writes stay in order: a run's later batch never lands before an earlier one.
    this.#writing = this.#writing.catch(() => {}).then(() =>
      points.length > 0 ? this.#tracker.appendPoints(this.id, points) : undefined
    );
    return this.#writing;
  }

  async finish(outcome: { metrics: Record<string, number>; modelName: string | null; modelVersion: string | null }): Promise<void> {
    await this.#flush();
    await this.#tracker.endRun(this.id, {
      status: "completed",
      metrics: outcome.metrics,
      params: this.#params,
      modelName: outcome.modelName,
      modelVersion: outcome.modelVersion,
    }, this.#started);
  }

  async fail(error: unknown): Promise<void> {
    await this.#flush().catch(() => {});
    await this.#tracker.endRun(this.id, { status: "failed", params: this.#params, error: describeJobError(error).error }, this.#started);
  }
}

/** Options of {@link ExperimentTracker}. */
export interface ExperimentTrackerOptions {
  /** Where failures to record are logged (recording never fails a training). */
  logger?: Logger;
}

/**
 * Experiments and runs over one store. Every training the ML module runs
 * is recorded as a run of an experiment: its params (the config's data
 * flattened, the registry target's params, what the runner logged), its
 * metric series (`ctx.logMetric(name, value, step)`), tags, duration and the
 * model artifact. Runs compare side by side ({@link compare}) and export to
 * MLflow's shapes (`mlflow.ts`).
 *
 * @example
 * ```ts ignore
 * const tracker = service.chapkit.context.get<ExperimentTracker>(EXPERIMENTS_KEY);
 * const run = await tracker.startRun({ experiment: "dengue", params: { alpha: 0.1 } });
 * await tracker.logMetrics(run.id, [{ key: "holdout_rmse", value: 1.2 }]);
 * await tracker.endRun(run.id, { status: "completed" });
 * ```
 */
export class ExperimentTracker implements TrainingRecorder {
  readonly #db: Driver;
  readonly #experiments: SqlRepository<ExperimentRecord>;
  readonly #runs: SqlRepository<RunRecord>;
  readonly #logger: Logger | undefined;

  /** A tracker over the experiments module's repositories. */
  constructor(
    db: Driver,
    repositories: { experiments: SqlRepository<ExperimentRecord>; runs: SqlRepository<RunRecord> },
    options: ExperimentTrackerOptions = {},
  ) {
    this.#db = db;
    this.#experiments = repositories.experiments;
    this.#runs = repositories.runs;
    this.#logger = options.logger;
  }

  /** The experiment named `name`, created when it does not exist yet. */
  async experiment(name: string): Promise<ExperimentRecord> {
    const find = async (): Promise<ExperimentRecord | undefined> =>
      (await this.#experiments.findMany({ filter: { kind: "compare", field: "name", op: "eq", value: name }, limit: 1 }))[0];
    const found = await find();
    if (found) return found;
    try {
      return await this.#experiments.insert({ name, description: null, tags: {} });
    } catch (error) {
      // Another writer created it first.
      if (error instanceof ConflictError) {
        const again = await find();
        if (again) return again;
      }
      throw error;
    }
  }

  /** Opens a run (status `running`). */
  async startRun(start: RunStart = {}): Promise<RunRecord> {
    const experiment = await this.experiment(start.experiment ?? DEFAULT_EXPERIMENT);
    return await this.#runs.insert({
      ...(start.id ? { id: start.id } : { id: newUlid() }),
      experiment_id: experiment.id,
      name: start.name ?? null,
      kind: start.kind ?? "train",
      status: "running",
      parent_run_id: start.parentRunId ?? null,
      params: start.params ?? {},
      metrics: {},
      tags: start.tags ?? {},
      artifacts: start.modelArtifactId ? [{ name: "model", artifact_id: start.modelArtifactId }] : [],
      config_id: start.configId ?? null,
      model_artifact_id: start.modelArtifactId ?? null,
      model_name: start.modelName ?? null,
      model_version: null,
      job_id: start.jobId ?? null,
      started_at: new Date().toISOString(),
      finished_at: null,
      duration_ms: null,
      error: null,
    });
  }

  /** What a train job calls as it starts: opens its run and returns the handle its runner logs through. */
  async start(run: TrainingRunStart): Promise<TrainingRun> {
    const started = performance.now();
    const record = await this.startRun({
      ...(run.id ? { id: run.id } : {}),
      experiment: run.experiment ?? run.modelName ?? DEFAULT_EXPERIMENT,
      name: run.name ?? null,
      parentRunId: run.parentRunId ?? null,
      params: { ...flattenParams(run.config), ...run.params },
      tags: run.tags ?? {},
      configId: run.configId,
      modelArtifactId: run.modelArtifactId,
      modelName: run.modelName,
      jobId: run.jobId,
    });
    return new OpenRun(this, record.id, started);
  }

  /**
   * Ends a run: status, end time and duration, merged metrics, params and tags.
   * `startedMs` (a `performance.now()` reading) times it more precisely than the stored start.
   * @throws {NotFoundError} for an unknown run.
   */
  async endRun(id: string, end: RunEnd, startedMs?: number): Promise<RunRecord> {
    const run = await this.run(id);
    const finished = new Date();
    const duration = startedMs === undefined ? finished.getTime() - Date.parse(run.started_at) : performance.now() - startedMs;
    const updated = await this.#runs.update(id, {
      status: end.status,
      finished_at: finished.toISOString(),
      duration_ms: Math.max(0, Math.round(duration * 1000) / 1000),
      metrics: { ...run.metrics, ...end.metrics },
      params: { ...run.params, ...end.params },
      tags: { ...run.tags, ...end.tags },
      ...(end.artifacts ? { artifacts: [...run.artifacts, ...end.artifacts] } : {}),
      ...(end.modelArtifactId !== undefined ? { model_artifact_id: end.modelArtifactId } : {}),
      ...(end.modelName !== undefined ? { model_name: end.modelName } : {}),
      ...(end.modelVersion !== undefined ? { model_version: end.modelVersion } : {}),
      error: end.error ?? null,
    });
    return updated ?? run;
  }

  /**
   * Logs metric points on a run (evaluations after training): appended to
   * its series, the last value of each also set in its metrics.
   * @throws {NotFoundError} for an unknown run; {@link BadRequestError} for a non-finite value.
   */
  async logMetrics(id: string, points: readonly { key: string; value: number; step?: number }[]): Promise<RunRecord> {
    const run = await this.run(id);
    const history = await metricPoints(this.#db, [id]);
    const next = new Map<string, number>();
    for (const point of history.get(id) ?? []) next.set(point.key, Math.max(next.get(point.key) ?? 0, point.step + 1));
    const now = new Date().toISOString();
    const stored: MetricPoint[] = [];
    for (const point of points) {
      try {
        checkMetric(point.key, point.value, point.step);
      } catch (error) {
        throw new BadRequestError((error as Error).message);
      }
      const step = point.step ?? next.get(point.key) ?? 0;
      next.set(point.key, Math.max(next.get(point.key) ?? 0, step + 1));
      stored.push({ key: point.key, value: point.value, step, timestamp: now });
    }
    await this.appendPoints(id, stored);
    const metrics = { ...run.metrics };
    for (const point of stored) metrics[point.key] = point.value;
    return (await this.#runs.update(id, { metrics })) ?? run;
  }

  /** Writes metric points of a run (what buffered runs flush); a failure is logged, not thrown. */
  async appendPoints(id: string, points: readonly MetricPoint[]): Promise<void> {
    try {
      await insertMetricPoints(this.#db, id, points);
    } catch (error) {
      this.#logger?.warn("run.metrics.failed", { run_id: id, error });
    }
  }

  /** Records that a run's model was registered as `name@version` (a search's best trial). */
  async markRegistered(id: string, name: string, version: string): Promise<void> {
    await this.#runs.update(id, { model_name: name, model_version: version });
  }

  /** A run. @throws {NotFoundError} */
  async run(id: string): Promise<RunRecord> {
    const run = await this.#runs.findById(id);
    if (!run) throw new NotFoundError(`Run ${id} not found`);
    return run;
  }

  /** The child runs of a run (a search's trials), oldest first. */
  async children(id: string): Promise<RunRecord[]> {
    return await this.#runs.findMany({ filter: { kind: "compare", field: "parent_run_id", op: "eq", value: id }, sort: [{ field: "id", direction: "asc" }] });
  }

  /** The logged points of a run (of one metric when given), by metric and step. */
  async history(id: string, key?: string): Promise<MetricPoint[]> {
    await this.run(id);
    return (await metricPoints(this.#db, [id], key)).get(id) ?? [];
  }

  /**
   * Runs side by side: params that differ, the last value of each metric
   * and each metric's series.
   * @throws {BadRequestError} for fewer than two or more than 50 runs; {@link NotFoundError} for an unknown one.
   */
  async compare(ids: readonly string[]): Promise<RunComparison> {
    const wanted = [...new Set(ids)];
    if (wanted.length < 2) throw new BadRequestError("Compare needs at least two distinct runs");
    if (wanted.length > 50) throw new BadRequestError("Compare takes at most 50 runs");
    const runs = await Promise.all(wanted.map((id) => this.run(id)));
    const points = await metricPoints(this.#db, wanted);
    const metrics: RunComparison["metrics"] = {};
    const keys = new Set([...runs.flatMap((run) => Object.keys(run.metrics)), ...[...points.values()].flat().map((p) => p.key)]);
    for (const key of [...keys].sort()) metrics[key] = Object.fromEntries(runs.map((run) => [run.id, run.metrics[key] ?? null]));
    const curves: RunComparison["curves"] = {};
    for (const run of runs) {
      for (const point of points.get(run.id) ?? []) {
        ((curves[point.key] ??= {})[run.id] ??= []).push([point.step, point.value]);
      }
    }
    return {
      runs: runs.map((run) => ({ id: run.id, name: run.name, experiment_id: run.experiment_id, status: run.status, duration_ms: run.duration_ms })),
      ...diffParams(runs),
      metrics,
      curves,
    };
  }
}
