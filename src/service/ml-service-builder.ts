import type { TSchema } from "@sinclair/typebox";
import type { MLServiceInfo, ServiceInfo } from "../core/info.ts";
import type { ModelRunner } from "../ml/runner.ts";
import type { ArtifactHierarchy } from "../modules/artifact/schema.ts";
import type { ServiceBuilderOptions } from "./base-service-builder.ts";
import { ServiceBuilder } from "./service-builder.ts";

/** Options of {@link MLServiceBuilder}. */
export interface MLServiceBuilderOptions extends Omit<ServiceBuilderOptions, "info"> {
  /** What `/api/v1/info` answers (`MLServiceInfo` adds author, status, organisation…). */
  info: ServiceInfo | MLServiceInfo;
  /** TypeBox object schema of config `data`. */
  configSchema: TSchema;
  /** Levels of the artifact tree (`0` = trained models, `1` = predictions by default). */
  hierarchy?: ArtifactHierarchy;
  /** What trains and predicts. */
  runner: ModelRunner;
  /** Request logging (default on, as in Python Chapkit's ML builder). */
  logging?: boolean;
}

/** The hierarchy ML services use unless told otherwise. */
export const DEFAULT_ML_HIERARCHY: ArtifactHierarchy = {
  name: "ml_pipeline",
  level_labels: { 0: "trained_model", 1: "predictions" },
};

/**
 * A service that wraps a model (contract §1.3): health (with the database
 * check), system, config, artifacts with config linking, jobs (unlimited
 * concurrency), `$train`/`$predict`, and request logging, all set up by the
 * constructor. Further `with…` calls add to it.
 *
 * @example
 * ```ts ignore
 * import { Type } from "@sinclair/typebox";
 * const service = await new MLServiceBuilder({
 *   info: { display_name: "Disease model", author_assessed_status: "yellow" },
 *   configSchema: Type.Object({}, { title: "DiseaseConfig", additionalProperties: true }),
 *   runner: functionalRunner({ onTrain, onPredict }),
 * }).listen(8000);
 * ```
 */
export class MLServiceBuilder extends ServiceBuilder {
  /** Creates a builder with health, system, logging (unless `logging: false`), configs, config-linked artifacts, jobs and the ML module. */
  constructor(options: MLServiceBuilderOptions) {
    const { configSchema, hierarchy, runner, logging, ...rest } = options;
    super(rest);
    this.withHealth().withSystem();
    if (logging !== false) this.withLogging();
    this.withConfig(configSchema)
      .withArtifacts({ hierarchy: hierarchy ?? DEFAULT_ML_HIERARCHY, enableConfigLinking: true })
      .withJobs()
      .withMl(runner);
  }
}
