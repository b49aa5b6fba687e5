/**
 * Experiments and runs (module `experiments`): every training the ML module
 * runs is recorded as a run of an experiment (params, metric series logged
 * with `ctx.logMetric`, tags, duration, the model artifact); runs list,
 * filter and sort by metric under `/api/v1/runs`, compare side by side (with
 * SVG curves) and export to MLflow's REST shapes, which `MlflowClient`
 * pushes to a tracking server. `POST /api/v1/runs/$tune` runs a grid or
 * random hyperparameter search as child jobs (`search.ts`). The train job itself stays in `modules/ml`:
 * it reports to the {@link TrainingRecorder} this module provides.
 *
 * @module
 */
import type { ServiceContext, ServiceModule } from "../../http/module.ts";
import { JOBS_KEY } from "../jobs/mod.ts";
import type { JobRunner } from "../jobs/types.ts";
import { ML_JOBS_KEY, type MlJobDeps, TRAINING_RECORDER_KEY, type TrainingRecorder } from "../ml/ml-jobs.ts";
import { HyperparameterSearch } from "./search.ts";
import { tuneOperation } from "./search-routes.ts";
import { ExperimentManager, RunManager } from "./manager.ts";
import { experimentsRoutes, type ExperimentsRoutesOptions } from "./routes.ts";
import { createExperimentRepository, createRunRepository, deleteMetricPoints, EXPERIMENTS_MIGRATIONS } from "./store.ts";
import { ExperimentTracker } from "./tracker.ts";

/** The key under which the experiments module provides its {@link ExperimentTracker}. */
export const EXPERIMENTS_KEY = "experiments";

/** The key under which the experiments module provides its {@link HyperparameterSearch}. */
export const SEARCH_KEY = "experiments.search";

/** Options of {@link experimentsModule}. */
export interface ExperimentsModuleOptions extends ExperimentsRoutesOptions {}

/**
 * The experiments module: the `experiments`, `runs` and `run_metrics`
 * tables, an {@link ExperimentTracker} (under {@link EXPERIMENTS_KEY}, and as
 * the ML module's training recorder), and the routes under
 * `/api/v1/experiments` and `/api/v1/runs`.
 *
 * @example
 * ```ts ignore
 * await new MLServiceBuilder({ info, configSchema, runner }).module(experimentsModule()).listen();
 * ```
 */
export function experimentsModule(options: ExperimentsModuleOptions = {}): ServiceModule {
  let managers: { experiments: ExperimentManager; runs: RunManager } | undefined;
  let tracker: ExperimentTracker | undefined;
  let search: HyperparameterSearch | undefined;
  return {
    name: "experiments",
    provides: [EXPERIMENTS_KEY],
    requires: ["jobs"],
    migrations: EXPERIMENTS_MIGRATIONS,
    setup(context: ServiceContext): void {
      const experiments = createExperimentRepository(context.db);
      const runs = createRunRepository(context.db);
      const db = context.db;
      managers = {
        experiments: new ExperimentManager(experiments, { bus: context.events, collection: "experiments" }),
        runs: new RunManager(runs, { events: { bus: context.events, collection: "runs" }, removed: (run) => deleteMetricPoints(db, run.id) }),
      };
      tracker = new ExperimentTracker(db, { experiments, runs }, { logger: context.logger.child({ module: "experiments" }) });
      context.provide<ExperimentTracker>(EXPERIMENTS_KEY, tracker);
      context.provide<TrainingRecorder>(TRAINING_RECORDER_KEY, tracker);
      const jobs = context.get<JobRunner>(JOBS_KEY);
      search = new HyperparameterSearch({
        tracker,
        jobs: () => jobs,
        // The ML module may be set up after this one: its dependencies are looked up at first use.
        mlDeps: () => context.get<MlJobDeps>(ML_JOBS_KEY),
        logger: context.logger.child({ module: "experiments" }),
      });
      for (const [name, handler] of Object.entries(search.handlers())) jobs.register(name, handler);
      context.provide<HyperparameterSearch>(SEARCH_KEY, search);
    },
    routes() {
      if (!managers || !tracker || !search) throw new Error("The experiments module was not set up");
      return experimentsRoutes(managers, tracker, { ...options, runOperations: [tuneOperation(search), ...options.runOperations ?? []] });
    },
  };
}

export { ExperimentManager, RunManager } from "./manager.ts";
export {
  MLFLOW_PARAM_VALUE_LIMIT,
  MlflowClient,
  type MlflowClientOptions,
  MlflowError,
  type MlflowKeyValue,
  type MlflowMetric,
  type MlflowRun,
  type MlflowRunExport,
  type MlflowRunInfo,
  toMlflowRun,
} from "./mlflow.ts";
export { experimentsRoutes, type ExperimentsRoutesOptions } from "./routes.ts";
export type { ExperimentRecord, MetricPoint, RunArtifact, RunComparison, RunKind, RunRecord, RunStatus } from "./schema.ts";
export { EXPERIMENTS_MIGRATIONS } from "./store.ts";
export { bestRun, HyperparameterSearch, type SearchRequest, type SearchSubmitted, SELECT_JOB, TRIAL_JOB } from "./search.ts";
export { expandSearch, MAX_TRIALS, type ParamRange, type SearchSpace, withOverrides } from "./search-space.ts";
export { TuneRequestSchema } from "./search-routes.ts";
export { DEFAULT_EXPERIMENT, ExperimentTracker, type ExperimentTrackerOptions, flattenParams, type RunEnd, type RunStart } from "./tracker.ts";
