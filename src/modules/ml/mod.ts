/**
 * Machine learning as a service module: `$train`/`$predict` (and the chap
 * profile's routes), ML jobs, KServe V2 and the model card, over the
 * registry of `modules/models`.
 *
 * Everything about ML lives in this folder. Its two subfolders need no HTTP
 * and no store, so scripts and tests use models without a service:
 * `engine/` holds the DataFrame and the functional, class and shell runners,
 * `onnx/` the ONNX runner, its worker pool and batching. They import no other
 * module and no Elysia (test/layers.test.ts checks this). A change to how a
 * model runs belongs in a subfolder; a change to how it is served (routes,
 * ML jobs, KServe V2, lineage) belongs beside this file.
 *
 * @module
 */
import type { AnyElysia } from "elysia";
import type { ServiceContext, ServiceModule } from "../../http/module.ts";
import type { ModelVersion } from "../models/schema.ts";
import { type Readiness, READINESS_KEY } from "../../http/readiness.ts";
import { kserveRoutes } from "./kserve-routes.ts";
import { ensembleRoutes } from "./ensemble-routes.ts";
import { explainRoutes } from "./explain-routes.ts";
import { featureSetRoutes } from "./feature-set-routes.ts";
import type { JobRunner } from "../jobs/types.ts";
import type { ModelRunner } from "./engine/runner.ts";
import type { FeatureCatalog } from "./engine/features.ts";
import type { ArtifactManager } from "../artifact/manager.ts";
import { ARTIFACTS_KEY, CONFIG_LINKS_KEY } from "../artifact/mod.ts";
import type { ConfigLinkManager } from "../config-link/manager.ts";
import type { ConfigManager } from "../config/manager.ts";
import { CHAP_CONFIG_KEY, CONFIG_KEY } from "../config/mod.ts";
import type { ChapMlDeps, PeriodBounds } from "./chap-jobs.ts";
import { chapMlRoutes } from "./chap-routes.ts";
import { JOBS_KEY } from "../jobs/mod.ts";
import { ML_JOBS_KEY, type MlJobDeps, TRAINING_RECORDER_KEY, type TrainingRecorder } from "./ml-jobs.ts";
import { mlMonitoringRoutes } from "./monitoring-routes.ts";
import { mlRoutes } from "./routes.ts";
import { MODEL_ROUTER_KEY, MODELS_KEY } from "../models/mod.ts";
import type { ModelRegistry } from "../models/registry.ts";
import type { ModelRouter } from "../models/router.ts";
import { ModelServer } from "./model-server.ts";
import { Lineage } from "./lineage.ts";
import { lineageRoutes } from "./lineage-routes.ts";
import { predictStreamRoutes } from "./predict-stream-routes.ts";
import { batchPredictRoutes } from "./batch-predict-routes.ts";
import { lineageMigrations, LineageStore } from "./lineage-store.ts";

/** The key under which the ML module provides its {@link ModelServer} (with the models module installed). */
export const MODEL_SERVER_KEY = "ml.server";

/** Options of {@link mlModule}. */
export interface MlModuleOptions {
  /** Path prefix (default `/api/v1/ml`). */
  prefix?: string;
  /** OpenAPI tags (default `["ml"]`). */
  tags?: string[];
  /**
   * `chap`: the chapkit 1.x routes and artifact layouts (see `chapMlRoutes`),
   * with `prediction_periods` bounded by `bounds`; default `seed`.
   */
  profile?: "seed" | "chap";
  /** Bounds of a config's `prediction_periods` (chap profile; default 0–100). */
  bounds?: PeriodBounds;
  /** The service's period type (chap profile: default of `$generate-sample-data`). */
  periodType?: "monthly" | "weekly";
  /** Whether the model needs GeoJSON (chap profile: default of generated `geo`). */
  requiresGeo?: boolean;
  /** Covariates the model needs (chap profile: added to generated frames). */
  requiredCovariates?: readonly string[];
  /** Feature functions and sets a `$train` may name (`feature_set`), replayed on every prediction. */
  features?: FeatureCatalog;
}

/**
 * The ML module (contract §12): `$train` and `$predict` over a model runner.
 * Requires config, artifacts with config linking, and jobs.
 *
 * @example
 * ```ts ignore
 * builder.module(mlModule(functionalRunner({ onTrain, onPredict })));
 * ```
 */
export function mlModule(runner: ModelRunner, options: MlModuleOptions = {}): ServiceModule {
  let deps: MlJobDeps | undefined;
  let unsubscribe: (() => void) | undefined;
  let unsubscribeLineage: (() => void) | undefined;
  const seed = options.profile !== "chap";
  return {
    name: "ml",
    requires: ["config", "artifacts", "config-links", "jobs"],
    ...(seed ? { migrations: lineageMigrations } : {}),
    setup(context: ServiceContext): void {
      deps = {
        configs: context.get<ConfigManager>(CONFIG_KEY),
        artifacts: context.get<ArtifactManager>(ARTIFACTS_KEY),
        links: context.get<ConfigLinkManager>(CONFIG_LINKS_KEY),
        runner,
        events: context.events,
        ...(options.features ? { features: options.features } : {}),
        ...(context.monitoring ? { monitoring: context.monitoring } : {}),
      };
      if (seed) {
        const content = deps.artifacts.content;
        const lineage = new Lineage({
          store: new LineageStore(context.db, content),
          content,
          artifacts: deps.artifacts,
          serviceVersion: context.info.version ?? "1.0.0",
          runnerVersion: runner.codeVersion ?? null,
          ...(seed && context.has(MODELS_KEY) ? { registry: context.get<ModelRegistry>(MODELS_KEY) } : {}),
        });
        deps.lineage = lineage;
        // Deleting an artifact releases the inputs its lineage held; once across instances.
        unsubscribeLineage = context.events.subscribe(
          { types: ["entity.deleted"], collections: ["artifacts"], local: true },
          (event) => void lineage.forget([event.data.id]).catch((error) => context.logger.warn("ml.lineage.forget_failed", { error })),
        );
      }
      context.provide<MlJobDeps>(ML_JOBS_KEY, deps);
      if (options.profile !== "chap" && context.has(MODELS_KEY)) {
        deps.registry = context.get<ModelRegistry>(MODELS_KEY);
        deps.router = context.get<ModelRouter>(MODEL_ROUTER_KEY);
        deps.server = new ModelServer(deps, deps.registry, deps.router, { logger: context.logger.child({ module: "ml" }) });
        context.provide<ModelServer>(MODEL_SERVER_KEY, deps.server);
      }
    },
    routes(context: ServiceContext): AnyElysia {
      if (!deps) throw new Error("The ml module was not set up");
      // Looked up once every module is set up: the experiments module may come after this one.
      if (context.has(TRAINING_RECORDER_KEY)) deps.recorder = context.get<TrainingRecorder>(TRAINING_RECORDER_KEY);
      const jobs = context.get<JobRunner>(JOBS_KEY);
      if (options.profile !== "chap") {
        const routes = mlRoutes(deps, jobs, options);
        if (deps.lineage) routes.use(lineageRoutes(deps.lineage));
        routes.use(predictStreamRoutes(deps, options));
        routes.use(batchPredictRoutes(deps, jobs, options));
        if (deps.server) {
          const server = deps.server;
          routes.use(kserveRoutes({
            server,
            ...(deps.router ? { router: deps.router } : {}),
            info: context.info,
            ...(context.has(READINESS_KEY) ? { readiness: context.get<Readiness>(READINESS_KEY) } : {}),
            warm: () => server.warm,
          }));
          routes.use(ensembleRoutes(server, { ...(options.prefix ? { prefix: options.prefix } : {}), ...(options.tags ? { tags: options.tags } : {}) }));
        }
        if (options.features) {
          routes.use(featureSetRoutes(options.features, { ...(options.prefix ? { prefix: options.prefix } : {}), ...(options.tags ? { tags: options.tags } : {}) }));
        }
        routes.use(explainRoutes(deps, { ...(options.prefix ? { prefix: options.prefix } : {}), ...(options.tags ? { tags: options.tags } : {}) }));
        if (context.monitoring) routes.use(mlMonitoringRoutes(context.monitoring, deps.artifacts, options.prefix));
        return routes;
      }
      const chap: ChapMlDeps = {
        ...deps,
        configs: context.has(CHAP_CONFIG_KEY) ? context.get<ConfigManager>(CHAP_CONFIG_KEY) : deps.configs,
        bounds: options.bounds ?? { min: 0, max: 100 },
      };
      const chapRoutes = chapMlRoutes(chap, jobs, {
        ...(options.prefix ? { prefix: options.prefix } : {}),
        ...(options.tags ? { tags: options.tags } : {}),
        ...(options.periodType ? { periodType: options.periodType } : {}),
        ...(options.requiresGeo !== undefined ? { requiresGeo: options.requiresGeo } : {}),
        ...(options.requiredCovariates ? { requiredCovariates: options.requiredCovariates } : {}),
      });
      if (context.monitoring) chapRoutes.use(mlMonitoringRoutes(context.monitoring, deps.artifacts, options.prefix));
      return chapRoutes;
    },
    start(context: ServiceContext): void {
      const server = deps?.server;
      if (!server) return;
      const readiness = context.has(READINESS_KEY) ? context.get<Readiness>(READINESS_KEY) : undefined;
      // Warm-up runs in the background: the service is live while readiness waits for it.
      const warmUp = (versions?: ModelVersion[]): void => {
        const release = readiness?.hold("models", "warming up the aliased model versions");
        void server.warmUp(versions).finally(() => release?.());
      };
      warmUp();
      unsubscribe = server.registry.onEvent((event) => {
        if (event.type !== "model.promoted" || event.to_version === null) return;
        void server.registry.version(event.name, event.to_version).then((version) => warmUp([version]), () => {});
      });
    },
    async stop(): Promise<void> {
      unsubscribe?.();
      unsubscribeLineage?.();
      await deps?.server?.settled();
      await runner.close?.();
    },
  };
}
