import type { AnyElysia } from "elysia";
import type { ServiceContext, ServiceModule } from "../../http/module.ts";
import type { JobRunner } from "../jobs/types.ts";
import type { ModelRunner } from "../../ml/runner.ts";
import type { ArtifactManager } from "../artifact/manager.ts";
import { ARTIFACTS_KEY, CONFIG_LINKS_KEY } from "../artifact/mod.ts";
import type { ConfigLinkManager } from "../config-link/manager.ts";
import type { ConfigManager } from "../config/manager.ts";
import { CONFIG_KEY } from "../config/mod.ts";
import { JOBS_KEY } from "../jobs/mod.ts";
import type { MlJobDeps } from "./ml-jobs.ts";
import { mlRoutes } from "./routes.ts";

/** Options of {@link mlModule}. */
export interface MlModuleOptions {
  /** Path prefix (default `/api/v1/ml`). */
  prefix?: string;
  /** OpenAPI tags (default `["ml"]`). */
  tags?: string[];
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
  return {
    name: "ml",
    requires: ["config", "artifacts", "config-links", "jobs"],
    setup(context: ServiceContext): void {
      deps = {
        configs: context.get<ConfigManager>(CONFIG_KEY),
        artifacts: context.get<ArtifactManager>(ARTIFACTS_KEY),
        links: context.get<ConfigLinkManager>(CONFIG_LINKS_KEY),
        runner,
        ...(context.monitoring ? { monitoring: context.monitoring } : {}),
      };
    },
    routes(context: ServiceContext): AnyElysia {
      if (!deps) throw new Error("The ml module was not set up");
      return mlRoutes(deps, context.get<JobRunner>(JOBS_KEY), options);
    },
    async stop(): Promise<void> {
      await runner.close?.();
    },
  };
}
