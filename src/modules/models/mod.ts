/**
 * The model registry and serving policies (module `models`): named models
 * with semver versions, aliases with an audit trail, route policies (A/B,
 * canary, shadow) and the serving log. The registry and the router work
 * from code without HTTP (`service.chapkit.get(MODELS_KEY)`); the routes
 * under `/api/v1/models` are a thin layer over them. Serving itself (loading
 * a version's artifact, inference, KServe V2) lives with the ML module,
 * which owns the runner.
 *
 * @module
 */
import type { ServiceContext, ServiceModule } from "../../http/module.ts";
import { ModelRegistry } from "./registry.ts";
import { ModelRouter } from "./router.ts";
import { modelRegistryRoutes, type ModelRoutesOptions } from "./routes.ts";
import { modelRoutingRoutes } from "./routing-routes.ts";
import { MODELS_MIGRATIONS } from "./store.ts";
import { unrefTimer } from "../../core/timers.ts";

export { type ChangeOptions, ModelRegistry, type ModelRegistryOptions, type RegistryEvent } from "./registry.ts";
export { actorOf, MODELS_READ, MODELS_WRITE, modelRegistryRoutes, type ModelRoutesOptions } from "./routes.ts";
export type { AliasEvent, ModelComparison, ModelSummary, ModelVersion, ModelVersionInput, ModelVersionStatus } from "./schema.ts";
export { MODELS_MIGRATIONS } from "./store.ts";
export type { CanaryPolicy, CanaryState, RoutePolicy, ShadowPolicy, SplitArm, StoredRoutePolicy } from "./policy.ts";
export {
  type ChampionChallengerReport,
  type ModelRouterOptions,
  type RouteDecision,
  ModelRouter,
  type ServedPrediction,
  type ShadowResult,
  type VersionStats,
} from "./router.ts";
export { modelRoutingRoutes } from "./routing-routes.ts";

/** The key under which the models module provides its {@link ModelRegistry}. */
export const MODELS_KEY = "models";

/** The key under which the models module provides its {@link ModelRouter}. */
export const MODEL_ROUTER_KEY = "models.router";

/** Options of {@link modelsModule}. */
export interface ModelsModuleOptions extends ModelRoutesOptions {
  /** How often (ms) canaries are evaluated (default 5000; 0 turns the timer off). */
  canaryIntervalMs?: number;
}

/**
 * The models module: the registry tables, a {@link ModelRegistry} provided
 * under {@link MODELS_KEY} and a {@link ModelRouter} under
 * {@link MODEL_ROUTER_KEY}, the `/api/v1/models` routes, and a timer that
 * evaluates canaries.
 */
export function modelsModule(options: ModelsModuleOptions = {}): ServiceModule {
  let timer: ReturnType<typeof setInterval> | undefined;
  return {
    name: "models",
    provides: [MODELS_KEY, MODEL_ROUTER_KEY],
    migrations: MODELS_MIGRATIONS,
    setup(context: ServiceContext): void {
      const registry = new ModelRegistry(context.db);
      const logger = context.logger.child({ module: "models" });
      // Alias moves reach the service's event bus (webhooks, SSE, queues) as `model.promoted`.
      registry.onEvent((event) => {
        if (event.type !== "model.promoted") return;
        void context.events.publish({ type: "model.promoted", collection: "models", id: event.id, entity: event })
          .catch((error: unknown) => logger.warn("model.event.failed", { error: String(error) }));
      });
      context.provide<ModelRegistry>(MODELS_KEY, registry);
      context.provide<ModelRouter>(MODEL_ROUTER_KEY, new ModelRouter(context.db, registry, {
        onCanary: (name, state) => logger.info("model.canary", { model: name, ...state }),
      }));
    },
    routes(context: ServiceContext) {
      const { prefix, tags } = options;
      const routeOptions = { ...(prefix ? { prefix } : {}), ...(tags ? { tags } : {}) };
      return modelRegistryRoutes(context.get<ModelRegistry>(MODELS_KEY), routeOptions)
        .use(modelRoutingRoutes(context.get<ModelRouter>(MODEL_ROUTER_KEY), routeOptions));
    },
    start(context: ServiceContext): void {
      const every = options.canaryIntervalMs ?? 5000;
      if (every <= 0) return;
      const router = context.get<ModelRouter>(MODEL_ROUTER_KEY);
      timer = setInterval(() => {
        router.evaluate().catch((error: unknown) => context.logger.warn("model.canary.failed", { error: String(error) }));
      }, every);
      unrefTimer(timer);
    },
    stop(): void {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
  };
}
