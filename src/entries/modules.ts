/**
 * The service modules and their managers (`chapkit/modules`,
 * `@chapkit/core/modules`): the config, artifact, job, task, entity and flag
 * modules that `ServiceBuilder`'s `withConfig()`, `withArtifacts()`,
 * `withJobs()`, `withTasks()`, `withEntity()` and `withFlags()` install, the
 * managers they provide, the in-process job runner and `crudRouter`. A service
 * built with the builder needs none of this; import this entry to install a
 * module by hand, drive a manager directly or mount CRUD routes of your own.
 * The root entry leaves them out so importing `chapkit` stays as light as the
 * builder.
 *
 * @example
 * ```ts ignore
 * import { ServiceBuilder } from "chapkit";
 * import { configModule } from "chapkit/modules";
 * import { Type } from "@sinclair/typebox";
 *
 * const app = await new ServiceBuilder({ info: { display_name: "Configs" }, databaseUrl: "sqlite::memory:" })
 *   .module(configModule({ schema: Type.Object({ min_samples: Type.Integer() }, { title: "Config" }) }))
 *   .build();
 * ```
 *
 * @module
 */

export { crudRouter } from "../http/crud/crud-router.ts";
export { configModule } from "../modules/config/mod.ts";
export { ConfigManager } from "../modules/config/manager.ts";
export { artifactsModule } from "../modules/artifact/mod.ts";
export { ArtifactManager } from "../modules/artifact/manager.ts";
export { jobsModule } from "../modules/jobs/mod.ts";
export { InProcessJobRunner } from "../modules/jobs/runner.ts";
export { tasksModule } from "../modules/task/mod.ts";
export { entityModule } from "../modules/entity/mod.ts";
export { createEntityManager } from "../modules/entity/manager.ts";
export { FlagManager, flagsModule } from "../modules/flags/mod.ts";
