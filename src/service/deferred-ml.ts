import type { ModelRunner } from "../modules/ml/engine/runner.ts";
import type { MlModuleOptions } from "../modules/ml/mod.ts";
import { type DeferredModule, deferredModule } from "./deferred-module.ts";

/** The ML module, imported at build: a service without `withMl()` never loads the ML code. */
export function deferredMlModule(runner: ModelRunner, options: MlModuleOptions = {}): DeferredModule {
  return deferredModule(
    { name: "ml", requires: ["config", "artifacts", "config-links", "jobs"] },
    async () => (await import("../modules/ml/mod.ts")).mlModule(runner, options),
  );
}

/** The models module (registry, route policies), imported at build like the ML module. */
export function deferredModelsModule(): DeferredModule {
  return deferredModule(
    { name: "models", provides: ["models", "models.router"] },
    async () => (await import("../modules/models/mod.ts")).modelsModule(),
  );
}
