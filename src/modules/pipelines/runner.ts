/**
 * PipelineRunner: runs declared pipelines as dependent jobs. A start job
 * loads the data, splits off the holdout, stores both once and enqueues the
 * steps, each depending on the one before: train (one training, or a
 * hyperparameter search whose selection job is the step) → evaluate the
 * candidate and the current champion on the holdout → register the
 * candidate as a version → promote the alias when the candidate beats the
 * champion. A failed step fails the steps after it (the queue's
 * `depends_on`); each step's job and outcome are kept per run.
 *
 * @module
 */
import { Type } from "@sinclair/typebox";
import { NotFoundError } from "../../core/errors.ts";
import type { Logger } from "../../core/logging.ts";
import { newUlid } from "../../core/ulid.ts";
import type { Driver } from "../../db/driver.ts";
import type { SqlRepository } from "../../db/repository.ts";
import type { ServiceContext } from "../../http/module.ts";
import { DataFrame, type DataFrameJSON } from "../ml/engine/dataframe.ts";
import { runPredict } from "../ml/engine/runner.ts";
import type { ExperimentTracker } from "../experiments/tracker.ts";
import type { HyperparameterSearch } from "../experiments/search.ts";
import { describeJobError } from "../jobs/job-error.ts";
import type { JobHandler, JobHandlerContext, JobRecord, JobRunner } from "../jobs/types.ts";
import { loadTrainedModel, type MlJobDeps, trainJob } from "../ml/ml-jobs.ts";
import type { ModelRegistry } from "../models/registry.ts";
import { runViews } from "./_views.ts";
import { beats, metricOf, type PipelineDefinition, score } from "./pipeline.ts";
import {
  type PipelineRunRecord,
  type PipelineStepName,
  setStepJob,
  setStepOutcome,
  stepsOf,
  type StoredStep,
} from "./store.ts";

/** The job handlers of pipelines, by step. */
export const PIPELINE_JOBS = {
  start: "pipelines.start",
  train: "pipelines.train",
  evaluate: "pipelines.evaluate",
  register: "pipelines.register",
  promote: "pipelines.promote",
} as const;

/** A step of a pipeline run as clients see it: its job's state and the step's outcome. */
export interface PipelineStepView {
  name: PipelineStepName;
  /** The step's job, null until the start job enqueued it. */
  job_id: string | null;
  /** `waiting` before the step is enqueued; then its job's status. */
  status: "waiting" | JobRecord["status"];
  started_at: string | null;
  finished_at: string | null;
  error: string | null;
  outcome: Record<string, unknown> | null;
}

/** A pipeline run as clients see it. */
export interface PipelineRunView {
  id: string;
  pipeline: string;
  status: PipelineRunRecord["status"];
  trigger: PipelineRunRecord["trigger"];
  start_job_id: string | null;
  started_at: string;
  finished_at: string | null;
  error: string | null;
  steps: PipelineStepView[];
}

/** What the runner works with; the ML module, the registry and the experiments module are looked up at first use. */
export interface PipelineRunnerOptions {
  definitions: readonly PipelineDefinition[];
  db: Driver;
  repository: SqlRepository<PipelineRunRecord>;
  jobs: JobRunner;
  context: ServiceContext;
  mlDeps: () => MlJobDeps;
  registry: () => ModelRegistry;
  tracker: () => ExperimentTracker;
  search: () => HyperparameterSearch;
  logger?: Logger;
}

const StartPayload = Type.Object({ pipeline: Type.String(), pipeline_run_id: Type.Optional(Type.String()) });
const StepPayload = Type.Object({
  pipeline: Type.String(),
  pipeline_run_id: Type.String(),
  data_artifact_id: Type.String(),
  config_id: Type.Optional(Type.String()),
});

type StepPayload = { pipeline: string; pipeline_run_id: string; data_artifact_id: string; config_id?: string };

function frameOf(value: DataFrame | DataFrameJSON, loc: string): DataFrame {
  return value instanceof DataFrame ? value : DataFrame.fromJSON(value, { loc: [loc] });
}

/** Runs the declared pipelines and shows their runs. */
export class PipelineRunner {
  readonly #definitions = new Map<string, PipelineDefinition>();
  readonly #options: PipelineRunnerOptions;

  /** A runner of `options.definitions` (names must be unique). */
  constructor(options: PipelineRunnerOptions) {
    this.#options = options;
    for (const definition of options.definitions) {
      if (this.#definitions.has(definition.name)) throw new TypeError(`Two pipelines are named "${definition.name}"`);
      this.#definitions.set(definition.name, definition);
    }
  }

  /** The declared pipelines. */
  get definitions(): PipelineDefinition[] {
    return [...this.#definitions.values()];
  }

  /** A declared pipeline. @throws {NotFoundError} */
  definition(name: string): PipelineDefinition {
    const definition = this.#definitions.get(name);
    if (!definition) throw new NotFoundError(`Pipeline ${name} not found`);
    return definition;
  }

  /** The job handlers of the steps, to register on the queue. */
  handlers(): Record<string, JobHandler<never>> {
    const step = (work: (payload: StepPayload, context: JobHandlerContext) => Promise<unknown>): JobHandler<never> =>
      ({ payload: StepPayload, run: (payload: StepPayload, context: JobHandlerContext) => this.#guarded(payload.pipeline_run_id, () => work(payload, context)) }) as JobHandler<never>;
    return {
      [PIPELINE_JOBS.start]: {
        payload: StartPayload,
        run: (payload: { pipeline: string; pipeline_run_id?: string }, context: JobHandlerContext) => this.#start(payload, context),
      } as JobHandler<never>,
      [PIPELINE_JOBS.train]: step((payload, context) => this.#train(payload, context)),
      [PIPELINE_JOBS.evaluate]: step((payload, context) => this.#evaluate(payload, context)),
      [PIPELINE_JOBS.register]: step((payload, context) => this.#register(payload, context)),
      [PIPELINE_JOBS.promote]: step((payload, context) => this.#promote(payload, context)),
    };
  }

  /**
   * Starts a run of `name` now: records it and enqueues its start job.
   * @throws {NotFoundError} for an unknown pipeline.
   */
  async run(name: string, trigger: PipelineRunRecord["trigger"] = "manual"): Promise<PipelineRunView> {
    this.definition(name);
    const record = await this.#create(name, trigger);
    const { record: job } = await this.#options.jobs.enqueue(PIPELINE_JOBS.start, { pipeline: name, pipeline_run_id: record.id });
    await this.#options.repository.update(record.id, { start_job_id: job.id });
    return await this.view(record.id);
  }

  #create(name: string, trigger: PipelineRunRecord["trigger"]): Promise<PipelineRunRecord> {
    return this.#options.repository.insert({
      id: newUlid(),
      pipeline: name,
      status: "running",
      trigger,
      start_job_id: null,
      started_at: new Date().toISOString(),
      finished_at: null,
      error: null,
    });
  }

  /** A run with each step's job state and outcome. @throws {NotFoundError} */
  async view(id: string, pipeline?: string): Promise<PipelineRunView> {
    const record = await this.#options.repository.findById(id);
    if (!record || (pipeline !== undefined && record.pipeline !== pipeline)) throw new NotFoundError(`Pipeline run ${id} not found`);
    return (await runViews(this.#options, [record]))[0]!;
  }

  /** The runs of a pipeline, newest first (at most `limit`, default 50). */
  async runs(pipeline: string, limit = 50): Promise<PipelineRunView[]> {
    this.definition(pipeline);
    const records = await this.#options.repository.findMany({
      filter: { kind: "compare", field: "pipeline", op: "eq", value: pipeline },
      sort: [{ field: "id", direction: "desc" }],
      limit,
    });
    return await runViews(this.#options, records);
  }

  /** Runs a step's work; a failure ends the pipeline run as failed (its later steps fail with it). */
  async #guarded<T>(runId: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      await this.#options.repository.update(runId, {
        status: "failed",
        error: describeJobError(error).error,
        finished_at: new Date().toISOString(),
      }).catch(() => {});
      throw error;
    }
  }

  async #start(payload: { pipeline: string; pipeline_run_id?: string }, context: JobHandlerContext): Promise<void> {
    const definition = this.definition(payload.pipeline);
    // A scheduled tick names only the pipeline: its run is recorded here.
    const record = payload.pipeline_run_id
      ? await this.#options.repository.findById(payload.pipeline_run_id)
      : await this.#create(definition.name, "schedule");
    if (!record) throw new NotFoundError(`Pipeline run ${payload.pipeline_run_id} not found`);
    if (!payload.pipeline_run_id) await this.#options.repository.update(record.id, { start_job_id: context.jobId });
    await this.#guarded(record.id, async () => {
      const deps = this.#options.mlDeps();
      const config = await deps.configs.findByName(definition.config);
      if (!config) throw new NotFoundError(`Pipeline ${definition.name}: config ${definition.config} not found`);
      const dataContext = { context: this.#options.context, pipelineRunId: record.id, signal: context.signal };
      const data = frameOf(await definition.data(dataContext), "data");
      const { train, holdout } = await this.#split(definition, data, dataContext);
      const stored = await deps.artifacts.create({
        data: { ml_type: "pipeline_data", pipeline: definition.name, pipeline_run_id: record.id, train: train.toJSON(), holdout: holdout.toJSON() },
      });
      const step = { pipeline: definition.name, pipeline_run_id: record.id, data_artifact_id: stored.id };
      let trainJob: string;
      if (definition.search) {
        const { metric, goal, concurrency, ...space } = definition.search;
        const submitted = await this.#options.search().submit({
          ...space,
          configId: String(config.id),
          data: train.toJSON(),
          metric,
          ...(goal ? { goal } : {}),
          ...(concurrency ? { concurrency } : {}),
          register: null,
          experiment: definition.name,
          name: `${definition.name} search`,
          tags: { pipeline: definition.name, pipeline_run: record.id },
        });
        trainJob = submitted.select_job_id;
        await setStepOutcome(this.#options.db, record.id, "train", trainJob, { search_run_id: submitted.search_run_id, trials: submitted.trials.length });
      } else {
        trainJob = (await this.#options.jobs.enqueue(PIPELINE_JOBS.train, { ...step, config_id: String(config.id) })).record.id;
        await setStepJob(this.#options.db, record.id, "train", trainJob);
      }
      let previous = trainJob;
      for (const name of ["evaluate", "register", "promote"] as const) {
        const { record: job } = await this.#options.jobs.enqueue(PIPELINE_JOBS[name], step, { dependsOn: [previous] });
        await setStepJob(this.#options.db, record.id, name, job.id);
        previous = job.id;
      }
    });
  }

  async #split(
    definition: PipelineDefinition,
    data: DataFrame,
    context: { context: ServiceContext; pipelineRunId: string; signal: AbortSignal },
  ): Promise<{ train: DataFrame; holdout: DataFrame }> {
    if (typeof definition.holdout === "function") return { train: data, holdout: frameOf(await definition.holdout(context), "holdout") };
    if (data.rowCount < 2) throw new RangeError(`Pipeline ${definition.name}: ${data.rowCount} rows cannot be split into training and holdout`);
    const fraction = definition.holdout?.fraction ?? 0.2;
    const held = Math.min(data.rowCount - 1, Math.max(1, Math.round(data.rowCount * fraction)));
    const rows = data.rows();
    return {
      train: new DataFrame(data.columns, rows.slice(0, rows.length - held)),
      holdout: new DataFrame(data.columns, rows.slice(rows.length - held)),
    };
  }

  async #data(payload: StepPayload): Promise<{ train: DataFrameJSON; holdout: DataFrameJSON }> {
    const stored = await this.#options.mlDeps().artifacts.get(payload.data_artifact_id);
    return stored.data as { train: DataFrameJSON; holdout: DataFrameJSON };
  }

  async #steps(runId: string): Promise<Partial<Record<PipelineStepName, StoredStep>>> {
    return (await stepsOf(this.#options.db, [runId])).get(runId) ?? {};
  }

  async #train(payload: StepPayload, context: JobHandlerContext): Promise<string> {
    const definition = this.definition(payload.pipeline);
    const deps = this.#options.mlDeps();
    const { train } = await this.#data(payload);
    const modelArtifactId = newUlid();
    const runId = newUlid();
    await trainJob(deps, {
      configId: String(payload.config_id),
      modelArtifactId,
      data: train,
      geo: null,
      run: { id: runId, experiment: definition.name, name: `${definition.name} candidate`, tags: { pipeline: definition.name, pipeline_run: payload.pipeline_run_id } },
    })(context);
    await setStepOutcome(this.#options.db, payload.pipeline_run_id, "train", context.jobId, { run_id: runId, model_artifact_id: modelArtifactId });
    return modelArtifactId;
  }

  /** The candidate of a run: the trained model, or the best trial of its search. */
  async #candidate(runId: string): Promise<{ runId: string; modelArtifactId: string }> {
    const outcome = (await this.#steps(runId)).train?.outcome ?? {};
    if (typeof outcome.search_run_id === "string") {
      const search = await this.#options.tracker().run(outcome.search_run_id);
      if (!search.model_artifact_id || !search.tags.best_run_id) throw new Error(`Search ${search.id} selected no trial`);
      return { runId: search.tags.best_run_id, modelArtifactId: search.model_artifact_id };
    }
    if (typeof outcome.run_id !== "string" || typeof outcome.model_artifact_id !== "string") throw new Error("The train step recorded no model");
    return { runId: outcome.run_id, modelArtifactId: outcome.model_artifact_id };
  }

  async #holdoutScore(definition: PipelineDefinition, artifactId: string, holdout: DataFrame, signal: AbortSignal): Promise<number> {
    const deps = this.#options.mlDeps();
    const loaded = await loadTrainedModel(deps, artifactId);
    const features = holdout.select(holdout.columns.filter((column) => column !== definition.target));
    const predicted = await runPredict(deps.runner, { ...loaded, historic: null, future: features, geo: null, signal });
    return score(definition.metric, holdout.column(definition.target), predicted.column(definition.prediction ?? "sample_0"));
  }

  async #evaluate(payload: StepPayload, context: JobHandlerContext): Promise<void> {
    const definition = this.definition(payload.pipeline);
    const { name: metric, goal } = metricOf(definition.metric);
    const holdout = DataFrame.fromJSON((await this.#data(payload)).holdout, { loc: ["holdout"] });
    const candidate = await this.#candidate(payload.pipeline_run_id);
    const value = await this.#holdoutScore(definition, candidate.modelArtifactId, holdout, context.signal);
    const alias = definition.alias ?? "champion";
    let champion: { version: string; value: number | null; error?: string } | null = null;
    const current = await this.#options.registry().resolve(`${definition.model}@${alias}`).catch((error: unknown) => {
      if (error instanceof NotFoundError) return null;
      throw error;
    });
    if (current?.artifact_id) {
      try {
        champion = { version: current.version, value: await this.#holdoutScore(definition, current.artifact_id, holdout, context.signal) };
      } catch (error) {
        // A champion that cannot predict any more is beaten by any candidate that can.
        champion = { version: current.version, value: null, error: describeJobError(error).error };
      }
    }
    if (Number.isFinite(value)) await this.#options.tracker().logMetrics(candidate.runId, [{ key: `holdout_${metric}`, value }]);
    await setStepOutcome(this.#options.db, payload.pipeline_run_id, "evaluate", context.jobId, {
      metric,
      goal,
      holdout_rows: holdout.rowCount,
      candidate: { run_id: candidate.runId, model_artifact_id: candidate.modelArtifactId, value: Number.isFinite(value) ? value : null },
      champion,
      beats: beats(value, champion?.value ?? null, goal, definition.minImprovement ?? 0),
    });
  }

  async #register(payload: StepPayload, context: JobHandlerContext): Promise<void> {
    const definition = this.definition(payload.pipeline);
    const steps = await this.#steps(payload.pipeline_run_id);
    const evaluation = steps.evaluate?.outcome as { metric: string; candidate: { run_id: string; model_artifact_id: string; value: number | null } };
    const tracker = this.#options.tracker();
    const run = await tracker.run(evaluation.candidate.run_id);
    const deps = this.#options.mlDeps();
    const config = run.config_id ? await deps.configs.repository.findById(run.config_id) : null;
    const version = await this.#options.registry().register(definition.model, {
      description: `Pipeline ${definition.name}, run ${payload.pipeline_run_id}`,
      metrics: run.metrics,
      params: run.params,
      tags: [`pipeline:${definition.name}`],
      config: (config?.data ?? null) as Record<string, unknown> | null,
      config_id: run.config_id,
      artifact_id: evaluation.candidate.model_artifact_id,
    });
    await tracker.markRegistered(run.id, version.name, version.version);
    await setStepOutcome(this.#options.db, payload.pipeline_run_id, "register", context.jobId, { model: version.name, version: version.version });
  }

  async #promote(payload: StepPayload, context: JobHandlerContext): Promise<void> {
    const definition = this.definition(payload.pipeline);
    const steps = await this.#steps(payload.pipeline_run_id);
    const evaluation = steps.evaluate?.outcome as {
      metric: string;
      beats: boolean;
      candidate: { value: number | null };
      champion: { version: string; value: number | null } | null;
    };
    const { version } = steps.register?.outcome as { version: string };
    const alias = definition.alias ?? "champion";
    const candidateText = `holdout ${evaluation.metric} ${evaluation.candidate.value}`;
    const championText = evaluation.champion ? `champion ${evaluation.champion.version} (${evaluation.champion.value})` : "no champion";
    let outcome: Record<string, unknown>;
    if (evaluation.beats) {
      const reason = `pipeline ${definition.name}: ${candidateText} beats ${championText}`;
      const moved = await this.#options.registry().moveAlias(definition.model, alias, version, { actor: `pipeline:${definition.name}`, reason });
      outcome = { promoted: true, alias, from_version: moved.from_version, to_version: version, reason };
    } else {
      outcome = { promoted: false, alias, from_version: evaluation.champion?.version ?? null, to_version: null, reason: `${candidateText} does not beat ${championText}` };
    }
    await setStepOutcome(this.#options.db, payload.pipeline_run_id, "promote", context.jobId, outcome);
    await this.#options.repository.update(payload.pipeline_run_id, { status: "completed", finished_at: new Date().toISOString() });
  }
}
