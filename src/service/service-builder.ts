import type { TSchema } from "@sinclair/typebox";
import { artifactsModule, type ArtifactsModuleOptions } from "../modules/artifact/mod.ts";
import { configModule, type ConfigModuleOptions } from "../modules/config/mod.ts";
import { jobsModule, type JobsModuleOptions } from "../modules/jobs/mod.ts";
import { mlModule, type MlModuleOptions } from "../modules/ml/mod.ts";
import type { ModelRunner } from "../ml/runner.ts";
import { tasksModule, type TasksModuleOptions } from "../modules/task/mod.ts";
import { BaseServiceBuilder } from "./base-service-builder.ts";

/**
 * The full service builder: everything {@link BaseServiceBuilder} offers,
 * plus the domain modules (configs, artifacts, jobs, tasks, ML) as one-line
 * methods over `module(...)`.
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
  withConfig(schema: TSchema, options: Omit<ConfigModuleOptions, "schema"> = {}): this {
    return this.module(configModule({ ...options, schema }));
  }

  /** Hierarchical artifacts under `/api/v1/artifacts` (with config links when `enableConfigLinking`). */
  withArtifacts(options: ArtifactsModuleOptions): this {
    return this.module(artifactsModule(options));
  }

  /** The persistent job runner and `/api/v1/jobs`. */
  withJobs(options: JobsModuleOptions = {}): this {
    return this.module(jobsModule(options));
  }

  /** Task CRUD and `$execute` under `/api/v1/tasks`; needs artifacts (and jobs to execute). */
  withTasks(options: TasksModuleOptions = {}): this {
    return this.module(tasksModule(options));
  }

  /** `$train` and `$predict` under `/api/v1/ml` over `runner`; needs config, linked artifacts and jobs. */
  withMl(runner: ModelRunner, options: MlModuleOptions = {}): this {
    return this.module(mlModule(runner, options));
  }
}
