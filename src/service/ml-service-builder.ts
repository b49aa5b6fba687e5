import type { TSchema } from "@sinclair/typebox";
import type { ChapServiceInfo, MLServiceInfo, ServiceInfo } from "../core/info.ts";
import { outboundOptions } from "../core/resilient-fetch.ts";
import { chapInfoDocument, infoDocument } from "../http/info.ts";
import type { ModelRunner } from "../modules/ml/engine/runner.ts";
import type { FeatureCatalog } from "../modules/ml/engine/features.ts";
import type { ArtifactHierarchy } from "../modules/artifact/schema.ts";
import { deferredMlModule, deferredModelsModule } from "./deferred-ml.ts";
import { deferredArtifactsModule, deferredConfigModule, deferredJobsModule } from "./deferred-domain.ts";
import type { ServiceBuilderOptions } from "./base-service-builder.ts";
import { ConfigurationError } from "./configuration-error.ts";
import type { ArtifactRouteTypes, ConfigRouteTypes, HealthRouteTypes, InfoRouteTypes, JobRouteTypes } from "./route-types.ts";
import type { ListenOptions, RunningService } from "./listen.ts";
import type { Registration } from "./registration.ts";
import { ServiceBuilder } from "./service-builder.ts";

/** Which wire contract an ML service speaks where the seed contract and chapkit 1.x conflict. */
export type WireProfile = "seed" | "chap";

/** Options of {@link MLServiceBuilder}. */
export interface MLServiceBuilderOptions extends Omit<ServiceBuilderOptions, "info"> {
  /**
   * What `/api/v1/info` answers: `MLServiceInfo` in the seed profile,
   * `ChapServiceInfo` (`id`, `model_metadata`, `period_type`, bounds…) in
   * the chap profile.
   */
  info: ServiceInfo | MLServiceInfo | ChapServiceInfo;
  /** TypeBox object schema of config `data`. */
  configSchema: TSchema;
  /** Levels of the artifact tree (`0` = trained models, `1` = predictions by default). */
  hierarchy?: ArtifactHierarchy;
  /** What trains and predicts. */
  runner: ModelRunner;
  /** Feature functions and sets a `$train` may name (seed profile), replayed on every prediction. */
  features?: FeatureCatalog;
  /** Request logging (default on, as in Python Chapkit's ML builder). */
  logging?: boolean;
  /**
   * The wire contract where the two conflict (docs/chap-core.md):
   * `seed` (Chapkit 0.1) or `chap` (chapkit 1.x, what chap-core drives).
   * Default: `chap` when `withRegistration()` is called, else `seed`; an
   * explicit value always wins.
   */
  profile?: WireProfile;
}

/** The hierarchy ML services use unless told otherwise. */
export const DEFAULT_ML_HIERARCHY: ArtifactHierarchy = {
  name: "ml_pipeline",
  level_labels: { 0: "trained_model", 1: "predictions" },
};

/** The hierarchy of the chap profile (chapkit 1.x level names). */
export const CHAP_ML_HIERARCHY: ArtifactHierarchy = {
  name: "ml_pipeline",
  level_labels: { 0: "ml_training_workspace", 1: "ml_prediction", 2: "ml_prediction_workspace" },
};

/**
 * A service that wraps a model (contract §1.3): health (with the database
 * check), system, config, artifacts with config linking, jobs (unlimited
 * concurrency), `$train`/`$predict`, and request logging. Further `with…`
 * calls add to it. In the chap profile it speaks chapkit 1.x beside the
 * seed paths: `/api/v1/configs`, `/health`, the strict MLServiceInfo, ML
 * artifact envelopes, `$validate` and `$generate-sample-data`.
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
  /** The routes the constructor installs, for a typed client (`$train`/`$predict` are not typed). */
  declare readonly "~routes"?:
    & InfoRouteTypes
    & HealthRouteTypes
    & ConfigRouteTypes<TSchema>
    & ArtifactRouteTypes
    & JobRouteTypes;

  readonly #ml: MLServiceBuilderOptions;
  #registration = false;
  #installed = false;
  #registered: Registration | undefined;

  /** Creates a builder with health, system and logging (unless `logging: false`); the ML modules are installed at build time, in the chosen profile. */
  constructor(options: MLServiceBuilderOptions) {
    const { configSchema: _c, hierarchy: _h, runner: _r, logging, profile: _p, features: _f, ...rest } = options;
    super(rest as ServiceBuilderOptions);
    this.#ml = options;
    this.withHealth().withSystem();
    if (logging !== false) this.withLogging();
  }

  /** The profile the service speaks: the explicit option, else `chap` when registration is on, else `seed`. */
  get profile(): WireProfile {
    return this.#ml.profile ?? (this.#registration ? "chap" : "seed");
  }

  /**
   * Self-registration with chap-core (contract-chapcore §10). When
   * `SERVICEKIT_ORCHESTRATOR_URL` is set, `listen()` waits for the service's
   * own health, registers `{id, url, info}` (5 attempts, 2 s apart), pings
   * the returned `ping_url` every 10 s, registers again after a 404 ping, and
   * deregisters on shutdown; `SERVICEKIT_HOST`, `SERVICEKIT_PORT` (else the
   * port listened on) and `SERVICEKIT_REGISTRATION_KEY` (`X-Service-Key`)
   * shape the calls, the `registration.*` settings tune them. Without that
   * variable it does nothing. Without an explicit `profile`, it selects the
   * chap profile.
   */
  withRegistration(): this {
    if (!this.#registration) {
      this.#registration = true;
      this.onShutdown(async () => {
        await this.#registered?.stop();
        this.#registered = undefined;
      });
    }
    return this;
  }

  /** Serves the service (see `BaseServiceBuilder.listen`), then starts self-registration when it is on. */
  override async listen(port?: number, options: ListenOptions = {}): Promise<RunningService> {
    const running = await super.listen(port, options);
    if (this.#registration) {
      const context = running.app.chapkit.context;
      const chap = this.profile === "chap";
      // Registration's code loads only for a service that registers.
      const { startRegistration } = await import("./registration.ts");
      this.#registered = startRegistration({
        settings: context.settings.registration,
        info: chap ? chapInfoDocument(this.#ml.info as ChapServiceInfo) : infoDocument(this.#ml.info),
        listenPort: running.port,
        healthPath: chap ? "/health" : "/api/v1/health",
        logger: context.logger,
        outbound: outboundOptions(context.settings.outbound),
      });
    }
    return running;
  }

  /** The chosen profile, for the base builder's health, info and problem types. */
  protected override wireProfile(): WireProfile {
    return this.profile;
  }

  /** `GET /` is the model card in the seed profile (the chap profile's routes stay chapkit 1.x's). */
  protected override modelCard(): boolean {
    return this.profile === "seed";
  }

  /** Installs the ML modules in the chosen profile (once), before the service is built. */
  protected override prepare(): void {
    if (this.#installed) return;
    this.#installed = true;
    const chap = this.profile === "chap";
    const { configSchema, hierarchy, runner } = this.#ml;
    let info: ChapServiceInfo = this.#ml.info as ChapServiceInfo;
    if (chap) {
      try {
        chapInfoDocument(info);
      } catch (error) {
        throw new ConfigurationError((error as Error).message);
      }
    } else {
      info = {} as ChapServiceInfo;
    }
    // As ServiceBuilder's withConfig/withArtifacts/withJobs: the modules' code loads at build, not at import.
    this.module(deferredConfigModule({ schema: configSchema, profile: this.profile }))
      .module(deferredArtifactsModule({
        hierarchy: hierarchy ?? (chap ? CHAP_ML_HIERARCHY : DEFAULT_ML_HIERARCHY),
        enableConfigLinking: true,
        profile: this.profile,
      }))
      .module(deferredJobsModule());
    // The registry is the seed profile's: the chap profile's wire stays chapkit 1.x's.
    if (!chap) this.module(deferredModelsModule());
    this.module(deferredMlModule(runner, chap
        ? {
          profile: "chap",
          bounds: { min: info.min_prediction_periods ?? 0, max: info.max_prediction_periods ?? 100 },
          periodType: info.period_type ?? "monthly",
          requiresGeo: info.requires_geo ?? false,
          requiredCovariates: info.required_covariates ?? [],
        }
        : { ...(this.#ml.features ? { features: this.#ml.features } : {}) }));
  }
}
