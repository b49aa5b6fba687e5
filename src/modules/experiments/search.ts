/**
 * Hyperparameter search: a grid or random search over config values, run as
 * child jobs of the job queue with a concurrency limit, whose best trial by a
 * chosen metric is registered as a model version.
 *
 * How the limit holds without a parent job holding a slot: trial `i`
 * depends on trial `i − concurrency` (`depends_on`), so at most
 * `concurrency` chains run at once, on any instance; a last job depends on
 * every trial and selects the best. A trial whose training fails completes
 * its job (its run records the failure) so the chain goes on.
 *
 * @module
 */
import { Type } from "@sinclair/typebox";
import { NotFoundError, ValidationError } from "../../core/errors.ts";
import type { Logger } from "../../core/logging.ts";
import { newUlid } from "../../core/ulid.ts";
import { describeJobError } from "../jobs/job-error.ts";
import type { JobHandler, JobHandlerContext, JobRunner } from "../jobs/types.ts";
import { dataHash, type MlJobDeps, type RegistryTarget, trainJob } from "../ml/ml-jobs.ts";
import type { RunRecord } from "./schema.ts";
import { expandSearch, type SearchSpace, withOverrides } from "./search-space.ts";
import { flattenParams, type ExperimentTracker } from "./tracker.ts";

/** The job handler that trains one trial. */
export const TRIAL_JOB = "experiments.trial";
/** The job handler that selects (and registers) a search's best trial. */
export const SELECT_JOB = "experiments.select";

/** What a search is asked to do. */
export interface SearchRequest extends SearchSpace {
  /** The config every trial starts from; each trial gets a config of its own with its values set. */
  configId: string;
  /** The training frame (DataFrame JSON), stored once for every trial. */
  data: unknown;
  /** The metric that ranks trials (one the runner logs or sets). */
  metric: string;
  /** Whether a lower (default) or a higher value is better. */
  goal?: "minimize" | "maximize";
  /** Trials training at once (default 2). */
  concurrency?: number;
  /** Registers the best trial as a version of this model; null or absent registers nothing. */
  register?: RegistryTarget | null;
  /** The experiment of the search and its trials (default the model's name, else the config's). */
  experiment?: string;
  name?: string;
  tags?: Record<string, string>;
  /** Jobs the first trials wait for (a pipeline's earlier steps). */
  dependsOn?: readonly string[];
}

/** What a submitted search is: its run, its trials' jobs and the job that selects the best. */
export interface SearchSubmitted {
  /** The search's run (kind `search`); its trials are its child runs. */
  search_run_id: string;
  trial_job_ids: string[];
  select_job_id: string;
  /** Each trial's config values, in trial order. */
  trials: Record<string, unknown>[];
}

const TrialPayload = Type.Object({
  search_run_id: Type.String(),
  config_id: Type.String(),
  data_artifact_id: Type.String(),
  index: Type.Integer({ minimum: 0 }),
  experiment: Type.String(),
});

const SelectPayload = Type.Object({
  search_run_id: Type.String(),
  metric: Type.String(),
  goal: Type.Union([Type.Literal("minimize"), Type.Literal("maximize")]),
  data_artifact_id: Type.String(),
  register: Type.Union([
    Type.Object({
      name: Type.String(),
      version: Type.Optional(Type.String()),
      description: Type.Optional(Type.String()),
      tags: Type.Optional(Type.Array(Type.String())),
    }),
    Type.Null(),
  ]),
});

/** The best of runs by a metric (finite values of completed runs only), or undefined. */
export function bestRun(runs: readonly RunRecord[], metric: string, goal: "minimize" | "maximize"): RunRecord | undefined {
  let best: RunRecord | undefined;
  for (const run of runs) {
    const value = run.metrics[metric];
    if (run.status !== "completed" || typeof value !== "number" || !Number.isFinite(value)) continue;
    const current = best?.metrics[metric];
    if (current === undefined || (goal === "minimize" ? value < current : value > current)) best = run;
  }
  return best;
}

/**
 * Submits searches and runs their jobs. The ML module's job dependencies
 * are looked up when first needed (`mlDeps`), so the module order does not
 * matter.
 */
export class HyperparameterSearch {
  readonly #tracker: ExperimentTracker;
  readonly #jobs: () => JobRunner;
  readonly #ml: () => MlJobDeps;
  readonly #logger: Logger | undefined;

  /** A search over the tracker, the job queue and the ML module's dependencies. */
  constructor(options: { tracker: ExperimentTracker; jobs: () => JobRunner; mlDeps: () => MlJobDeps; logger?: Logger }) {
    this.#tracker = options.tracker;
    this.#jobs = options.jobs;
    this.#ml = options.mlDeps;
    this.#logger = options.logger;
  }

  /** The job handlers of searches (`experiments.trial`, `experiments.select`), to register on the queue. */
  handlers(): Record<string, JobHandler<never>> {
    const trial: JobHandler<{ search_run_id: string; config_id: string; data_artifact_id: string; index: number; experiment: string }> = {
      payload: TrialPayload,
      run: (payload, context) => this.#trial(payload, context),
    };
    const select: JobHandler<{ search_run_id: string; metric: string; goal: "minimize" | "maximize"; data_artifact_id: string; register: RegistryTarget | null }> = {
      payload: SelectPayload,
      run: (payload) => this.#select(payload),
    };
    return { [TRIAL_JOB]: trial as JobHandler<never>, [SELECT_JOB]: select as JobHandler<never> };
  }

  /**
   * Checks the request, creates the search's run, a config per trial and
   * the stored training data, and enqueues the trials and the selection.
   * @throws {NotFoundError} for an unknown config; {@link ValidationError} for a bad space or a trial config its schema refuses.
   */
  async submit(request: SearchRequest): Promise<SearchSubmitted> {
    const deps = this.#ml();
    const base = await deps.configs.repository.findById(request.configId);
    if (!base) throw new NotFoundError(`Config ${request.configId} not found`);
    const overrides = expandSearch(request);
    const concurrency = request.concurrency ?? 2;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 100) {
      throw new ValidationError([{ loc: ["body", "concurrency"], msg: "concurrency is an integer from 1 to 100", type: "value_error" }]);
    }
    const searchId = newUlid();
    const baseData = (base.data ?? {}) as Record<string, unknown>;
    // Every trial's config is checked against the config schema before anything is stored.
    const bodies = overrides.map((values, index) =>
      deps.configs.parse({ name: `${String(base.name)}.search-${searchId}.${index + 1}`, data: withOverrides(baseData, values) }, ["body", "space", index])
    );
    const goal = request.goal ?? "minimize";
    const experiment = request.experiment ?? request.register?.name ?? String(base.name);
    await this.#tracker.startRun({
      id: searchId,
      experiment,
      name: request.name ?? `search ${request.strategy} ${request.metric}`,
      kind: "search",
      params: {
        strategy: request.strategy,
        metric: request.metric,
        goal,
        trials: overrides.length,
        concurrency,
        ...(request.strategy === "random" ? { seed: request.seed ?? 1 } : {}),
        ...flattenParams({ space: request.space as Record<string, unknown> }),
      },
      tags: request.tags ?? {},
      configId: request.configId,
    });
    const stored = await deps.artifacts.create({ data: { ml_type: "training_data", search_run_id: searchId, data: request.data } });
    const configIds: string[] = [];
    for (const body of bodies) configIds.push(String((await deps.configs.create(body) as { id: string }).id));
    const jobs = this.#jobs();
    const trialJobIds: string[] = [];
    for (const [index, configId] of configIds.entries()) {
      const { record } = await jobs.enqueue(TRIAL_JOB, {
        search_run_id: searchId,
        config_id: configId,
        data_artifact_id: stored.id,
        index,
        experiment,
      }, { dependsOn: index >= concurrency ? [trialJobIds[index - concurrency]!] : [...request.dependsOn ?? []] });
      trialJobIds.push(record.id);
    }
    const { record: select } = await jobs.enqueue(SELECT_JOB, {
      search_run_id: searchId,
      metric: request.metric,
      goal,
      data_artifact_id: stored.id,
      register: request.register ?? null,
    }, { dependsOn: trialJobIds });
    return { search_run_id: searchId, trial_job_ids: trialJobIds, select_job_id: select.id, trials: overrides };
  }

  async #trial(
    payload: { search_run_id: string; config_id: string; data_artifact_id: string; index: number; experiment: string },
    context: JobHandlerContext,
  ): Promise<string | null> {
    const deps = this.#ml();
    const stored = await deps.artifacts.get(payload.data_artifact_id);
    const train = trainJob(deps, {
      configId: payload.config_id,
      modelArtifactId: newUlid(),
      data: (stored.data as { data: unknown }).data,
      geo: null,
      run: {
        experiment: payload.experiment,
        name: `trial ${payload.index + 1}`,
        parentRunId: payload.search_run_id,
        tags: { trial: String(payload.index + 1) },
      },
    });
    try {
      return await train(context) as string;
    } catch (error) {
      // A canceled trial stays canceled; a failed training is the trial's outcome, recorded in its run.
      if (context.signal.aborted) throw error;
      this.#logger?.warn("search.trial.failed", { search_run_id: payload.search_run_id, trial: payload.index + 1, error: describeJobError(error).error });
      return null;
    }
  }

  async #select(
    payload: { search_run_id: string; metric: string; goal: "minimize" | "maximize"; data_artifact_id: string; register: RegistryTarget | null },
  ): Promise<string> {
    const trials = await this.#tracker.children(payload.search_run_id);
    const best = bestRun(trials, payload.metric, payload.goal);
    const failed = trials.filter((trial) => trial.status === "failed").length;
    if (!best || !best.model_artifact_id) {
      const error = `No trial of ${trials.length} reported a finite ${payload.metric} (${failed} failed)`;
      await this.#tracker.endRun(payload.search_run_id, { status: "failed", error });
      throw new Error(error);
    }
    let registered: { name: string; version: string } | null = null;
    const deps = this.#ml();
    if (payload.register && deps.registry) {
      const target = payload.register;
      const config = best.config_id ? await deps.configs.repository.findById(best.config_id) : null;
      const stored = await deps.artifacts.get(payload.data_artifact_id);
      registered = await deps.registry.register(target.name, {
        ...(target.version ? { version: target.version } : {}),
        description: target.description ?? `Best of ${trials.length} trials by ${payload.metric} (search ${payload.search_run_id})`,
        tags: target.tags ?? [],
        params: best.params,
        metrics: best.metrics,
        config: (config?.data ?? null) as Record<string, unknown> | null,
        config_id: best.config_id,
        data_hash: await dataHash((stored.data as { data: unknown }).data),
        artifact_id: best.model_artifact_id,
      });
      await this.#tracker.markRegistered(best.id, registered.name, registered.version);
    }
    await this.#tracker.endRun(payload.search_run_id, {
      status: "completed",
      metrics: { [payload.metric]: best.metrics[payload.metric]!, failed_trials: failed, trials: trials.length },
      tags: { best_run_id: best.id },
      modelArtifactId: best.model_artifact_id,
      artifacts: [{ name: "model", artifact_id: best.model_artifact_id }],
      modelName: registered?.name ?? null,
      modelVersion: registered?.version ?? null,
    });
    return best.model_artifact_id;
  }
}
