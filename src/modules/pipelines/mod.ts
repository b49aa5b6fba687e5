/**
 * Pipelines and schedules (module `pipelines`): retraining pipelines
 * declared in code (train → evaluate on a holdout → register → promote the
 * alias when the candidate beats the champion) run as dependent jobs of the
 * queue, started by `POST /api/v1/pipelines/{name}/$run` or by a cron
 * schedule (`job_schedules`, listed under `/api/v1/schedules`); each run's
 * steps are visible under `/api/v1/pipelines/{name}/runs`. Training goes
 * through the ML module and is recorded by the experiments module; a
 * pipeline with a `search` trains by hyperparameter search.
 *
 * @module
 */
import type { ServiceContext, ServiceModule } from "../../http/module.ts";
import { EXPERIMENTS_KEY, SEARCH_KEY } from "../experiments/mod.ts";
import type { HyperparameterSearch } from "../experiments/search.ts";
import type { ExperimentTracker } from "../experiments/tracker.ts";
import { JOBS_KEY, SCHEDULES_KEY } from "../jobs/mod.ts";
import type { JobScheduler } from "../jobs/scheduler.ts";
import type { JobRunner } from "../jobs/types.ts";
import { ML_JOBS_KEY, type MlJobDeps } from "../ml/ml-jobs.ts";
import { MODELS_KEY } from "../models/mod.ts";
import type { ModelRegistry } from "../models/registry.ts";
import type { PipelineDefinition } from "./pipeline.ts";
import { pipelineScheduleName, pipelinesRoutes, type PipelinesRoutesOptions } from "./routes.ts";
import { PIPELINE_JOBS, PipelineRunner } from "./runner.ts";
import { createPipelineRunRepository, PIPELINES_MIGRATIONS } from "./store.ts";

/** The key under which the pipelines module provides its {@link PipelineRunner}. */
export const PIPELINES_KEY = "pipelines";

/** Options of {@link pipelinesModule}. */
export interface PipelinesModuleOptions extends PipelinesRoutesOptions {
  /** The pipelines (see `definePipeline`). */
  pipelines: readonly PipelineDefinition[];
}

/**
 * The pipelines module: the `pipeline_runs` and `pipeline_steps` tables,
 * the step job handlers (`pipelines.start`, `.train`, `.evaluate`,
 * `.register`, `.promote`), a cron schedule per scheduled pipeline
 * (`pipeline:<name>`), a {@link PipelineRunner} under {@link PIPELINES_KEY}
 * and the routes under `/api/v1/pipelines`. Needs the jobs, models and
 * experiments modules (and the ML module, looked up when a step runs).
 *
 * @example
 * ```ts ignore
 * builder.module(experimentsModule()).module(pipelinesModule({ pipelines: [retrain] }));
 * ```
 */
export function pipelinesModule(options: PipelinesModuleOptions): ServiceModule {
  let runner: PipelineRunner | undefined;
  return {
    name: "pipelines",
    requires: ["jobs", "models", "experiments"],
    provides: [PIPELINES_KEY],
    migrations: PIPELINES_MIGRATIONS,
    async setup(context: ServiceContext): Promise<void> {
      const jobs = context.get<JobRunner>(JOBS_KEY);
      runner = new PipelineRunner({
        definitions: options.pipelines,
        db: context.db,
        repository: createPipelineRunRepository(context.db),
        jobs,
        context,
        // Looked up when a step runs: the ML module is set up after this one in an ML service.
        mlDeps: () => context.get<MlJobDeps>(ML_JOBS_KEY),
        registry: () => context.get<ModelRegistry>(MODELS_KEY),
        tracker: () => context.get<ExperimentTracker>(EXPERIMENTS_KEY),
        search: () => context.get<HyperparameterSearch>(SEARCH_KEY),
        logger: context.logger.child({ module: "pipelines" }),
      });
      for (const [name, handler] of Object.entries(runner.handlers())) jobs.register(name, handler);
      const scheduler = context.get<JobScheduler>(SCHEDULES_KEY);
      for (const definition of options.pipelines) {
        const schedule = definition.schedule;
        if (!schedule) continue;
        const spec = typeof schedule === "string" ? { cron: schedule } : schedule;
        await scheduler.schedule(pipelineScheduleName(definition.name), {
          cron: spec.cron,
          job: PIPELINE_JOBS.start,
          payload: { pipeline: definition.name },
          ...(spec.timezone ? { timezone: spec.timezone } : {}),
          ...(spec.missed ? { missed: spec.missed } : {}),
        });
      }
      context.provide<PipelineRunner>(PIPELINES_KEY, runner);
    },
    routes(context: ServiceContext) {
      if (!runner) throw new Error("The pipelines module was not set up");
      return pipelinesRoutes(runner, context.get<JobScheduler>(SCHEDULES_KEY), options);
    },
  };
}

export { beats, definePipeline, metricOf, type PipelineDataContext, type PipelineDefinition, type PipelineMetric, score } from "./pipeline.ts";
export { pipelineScheduleName, pipelinesRoutes, type PipelinesRoutesOptions, type PipelineView } from "./routes.ts";
export { PIPELINE_JOBS, PipelineRunner, type PipelineRunnerOptions, type PipelineRunView, type PipelineStepView } from "./runner.ts";
export { PIPELINE_STEPS, type PipelineRunRecord, type PipelineStepName, PIPELINES_MIGRATIONS, type StoredStep } from "./store.ts";
