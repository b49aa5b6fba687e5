import type { ArtifactsModuleOptions } from "../modules/artifact/mod.ts";
import type { ConfigModuleOptions } from "../modules/config/mod.ts";
import type { JobsModuleOptions } from "../modules/jobs/mod.ts";
import { type DeferredModule, deferredModule } from "./deferred-module.ts";

/** The config module, imported at build: a service without configs never loads its code. */
export function deferredConfigModule(options: ConfigModuleOptions): DeferredModule {
  return deferredModule({ name: "config" }, async () => (await import("../modules/config/mod.ts")).configModule(options));
}

/** The artifacts module, imported at build; with `enableConfigLinking` it needs configs and provides the config links. */
export function deferredArtifactsModule(options: ArtifactsModuleOptions): DeferredModule {
  const linking = options.enableConfigLinking === true;
  const shape = { name: "artifacts", requires: linking ? ["config"] : [], provides: linking ? ["config-links"] : [] };
  return deferredModule(shape, async () => (await import("../modules/artifact/mod.ts")).artifactsModule(options));
}

/** The jobs module, imported at build like the config module. */
export function deferredJobsModule(options: JobsModuleOptions = {}): DeferredModule {
  return deferredModule({ name: "jobs" }, async () => (await import("../modules/jobs/mod.ts")).jobsModule(options));
}
