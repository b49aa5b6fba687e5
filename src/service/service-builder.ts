import type { TSchema } from "@sinclair/typebox";
import type { ArtifactsModuleOptions } from "../modules/artifact/mod.ts";
import type { ConfigModuleOptions } from "../modules/config/mod.ts";
import type { JobsModuleOptions } from "../modules/jobs/mod.ts";
import type { MlModuleOptions } from "../modules/ml/mod.ts";
import type { ModelRunner } from "../modules/ml/engine/runner.ts";
import type { TasksModuleOptions } from "../modules/task/mod.ts";
import { BaseServiceBuilder } from "./base-service-builder.ts";
import { deferredMlModule } from "./deferred-ml.ts";
import { deferredModule } from "./deferred-module.ts";
import { deferredArtifactsModule, deferredConfigModule, deferredJobsModule } from "./deferred-domain.ts";
import type { ArtifactRouteTypes, ConfigRouteTypes, JobRouteTypes, WithRoutes } from "./route-types.ts";

/**
 * The full service builder: everything {@link BaseServiceBuilder} offers,
 * plus the domain modules (configs, artifacts, jobs, tasks, ML) as one-line
 * methods over `module(...)`. Each module's code is imported by `build()`,
 * so a service loads only the modules it installs.
 *
 * @example
 * ```ts ignore
 * import { Type } from "@sinclair/typebox";
 * const app = await new ServiceBuilder({ info: { display_name: "Demo" } })
 *   .withHealth()
 *   .withSystem()
 *   .withConfig(Type.Object({ min_samples: Type.Integer({ default: 5 }) }, { title: "DemoConfig" }))
 *   .withJobs()
 *   .withLandingPage()
 *   .build();
 * ```
 */
export class ServiceBuilder extends BaseServiceBuilder {
  /** Config CRUD under `/api/v1/config`; `schema` types each config's `data`. */
  withConfig<S extends TSchema, const Prefix extends string = "/api/v1/config">(
    schema: S,
    options: Omit<ConfigModuleOptions, "schema"> & { prefix?: Prefix } = {},
  ): this & WithRoutes<ConfigRouteTypes<S, Prefix>> {
    return this.module(deferredConfigModule({ ...options, schema })).withRouteTypes<ConfigRouteTypes<S, Prefix>>();
  }

  /** Hierarchical artifacts under `/api/v1/artifacts` (with config links when `enableConfigLinking`). */
  withArtifacts<const Prefix extends string = "/api/v1/artifacts">(
    options: ArtifactsModuleOptions & { prefix?: Prefix },
  ): this & WithRoutes<ArtifactRouteTypes<Prefix>> {
    return this.module(deferredArtifactsModule(options)).withRouteTypes<ArtifactRouteTypes<Prefix>>();
  }

  /** The persistent job runner and `/api/v1/jobs`. */
  withJobs<const Prefix extends string = "/api/v1/jobs">(
    options: JobsModuleOptions & { prefix?: Prefix } = {},
  ): this & WithRoutes<JobRouteTypes<Prefix>> {
    return this.module(deferredJobsModule(options)).withRouteTypes<JobRouteTypes<Prefix>>();
  }

  /** Task CRUD and `$execute` under `/api/v1/tasks`; needs artifacts (and jobs to execute). */
  withTasks(options: TasksModuleOptions = {}): this {
    const module = deferredModule({ name: "tasks", requires: ["artifacts", "jobs"] }, async () => (await import("../modules/task/mod.ts")).tasksModule(options));
    return this.module(module);
  }

  /** `$train` and `$predict` under `/api/v1/ml` over `runner`; needs config, linked artifacts and jobs. */
  withMl(runner: ModelRunner, options: MlModuleOptions = {}): this {
    return this.module(deferredMlModule(runner, options));
  }
}
