import { type AnyElysia, Elysia } from "elysia";
import { BadRequestError, ConflictError, type FieldError, NotFoundError, ValidationError } from "../../core/errors.ts";
import type { RouteDecision } from "../models/router.ts";
import { stickyKey } from "../models/sticky-key.ts";
import type { JobFunction, JobRunner } from "../jobs/types.ts";
import { newUlid } from "../../core/ulid.ts";
import { mountOperation } from "../../http/crud/operation.ts";
import { validateFeatureCollection, type FeatureCollection } from "./engine/geojson.ts";
import { DataFrame } from "./engine/dataframe.ts";
import { checkModelArtifact, type MlJobDeps, predictJob, type RegistryTarget, trainJob } from "./ml-jobs.ts";
import { isEnsembleData } from "../models/ensemble.ts";
import { checkPredictInput, checkTrainInput, contractOf, featureSetFor } from "./model-io.ts";
import {
  type PredictRequest,
  PredictRequestSchema,
  PredictResponseSchema,
  type TrainRequest,
  TrainRequestSchema,
  TrainResponseSchema,
} from "./schema.ts";

/** The registry target of a `$train`: the body's `model`, by default the config's name. */
async function registryTarget(deps: MlJobDeps, request: TrainRequest, configName: string): Promise<RegistryTarget> {
  const model = request.model;
  const target: RegistryTarget = typeof model === "string" ? { name: model } : { ...model, name: model?.name ?? configName };
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/.test(target.name)) {
    throw new ValidationError([{
      loc: ["body", "model", "name"],
      msg: `The config name ${JSON.stringify(target.name)} is not a model name: give model.name (letters, digits, _, . and -)`,
      type: "value_error",
    }]);
  }
  if (target.version !== undefined) {
    const taken = await deps.registry!.version(target.name, target.version).then(() => true, () => false);
    if (taken) throw new ConflictError(`Model ${target.name} already has version ${target.version}`);
  }
  return target;
}

/** `$predict` (and its batch and stream forms) names its model once: `model_artifact_id` or `model`. */
export function oneModelOf(body: Record<string, unknown>): FieldError[] {
  if (body.model === undefined && body.model_artifact_id === undefined) {
    return [{ loc: ["body", "model_artifact_id"], msg: "Field required (or give model)", type: "missing" }];
  }
  if (body.model !== undefined && body.model_artifact_id !== undefined) {
    return [{ loc: ["body", "model"], msg: "Give model or model_artifact_id, not both", type: "value_error" }];
  }
  return [];
}

/**
 * The routing decision of a `$predict` naming a `model` (exactly one of
 * `model` and `model_artifact_id`), or undefined for an artifact id.
 */
export async function routedModel(
  deps: MlJobDeps,
  request: PredictRequest,
  req: Request,
): Promise<{ decision: RouteDecision; key: string | null } | undefined> {
  if (request.model === undefined) return undefined;
  const server = deps.server;
  if (!server) throw new BadRequestError("This service has no model registry: predict with model_artifact_id");
  const router = deps.router;
  const name = request.model.split("@")[0]!;
  const policy = router ? await router.policy(name) : null;
  const key = stickyKey(policy?.sticky_by ?? null, req, request as unknown as Record<string, unknown>);
  const decision = router
    ? await router.route(request.model, key)
    : { version: await server.registry.resolve(request.model), arm: "reference", shadow: null };
  if (!decision.version.artifact_id) throw new BadRequestError(`Model ${request.model} has no trained artifact`);
  return { decision, key };
}

/** Checks `$predict`'s `future` against what the model declares (nothing to check: the job judges the frame). */
async function checkFuture(deps: MlJobDeps, artifactId: string, data: Record<string, unknown>, wire: unknown): Promise<void> {
  const loc = ["body", "future"];
  if (isEnsembleData(data)) {
    if (data.signature && deps.server) await deps.server.checkArtifactInput(artifactId, DataFrame.fromJSON(wire, { loc }), loc);
    return;
  }
  const contract = contractOf(data, deps.runner);
  if (contract.signature || contract.features) checkPredictInput(DataFrame.fromJSON(wire, { loc }), contract, loc);
}

/** Options of {@link mlRoutes}. */
export interface MlRoutesOptions {
  /** Path prefix (default `/api/v1/ml`). */
  prefix?: string;
  /** OpenAPI tags (default `["ml"]`). */
  tags?: string[];
}

/** The job, timed by kind when monitoring is on. */
export function monitored(deps: MlJobDeps, kind: string, job: JobFunction): JobFunction {
  return deps.monitoring ? deps.monitoring.timedJob(kind, job) : job;
}

function geoOf(value: unknown, loc: (string | number)[]): FeatureCollection | null {
  return value === undefined || value === null ? null : validateFeatureCollection(value, loc);
}

/**
 * `POST {prefix}/$train` and `POST {prefix}/$predict` (contract §12 with
 * decisions): bodies validated (422), referents checked at submission
 * (404/400 problems), then a job does the work and answers 202.
 */
export function mlRoutes(deps: MlJobDeps, jobs: JobRunner, options: MlRoutesOptions = {}): AnyElysia {
  const prefix = options.prefix ?? "/api/v1/ml";
  const tags = options.tags ?? ["ml"];
  const app = new Elysia({ name: `chapkit:ml:${prefix}` });
  mountOperation(app, prefix, {
    name: "$train",
    method: "POST",
    summary: "Train a model",
    description:
      "Submits a training job for a config and a DataFrame; the trained model is stored as a root artifact " +
      "(`model_artifact_id`, allocated now) linked to the config.",
    body: TrainRequestSchema,
    coerceBody: false,
    response: TrainResponseSchema,
    status: 202,
    async handler({ body }) {
      const request = body as TrainRequest;
      const geo = geoOf(request.geo, ["body", "geo"]);
      const config = await deps.configs.repository.findById(request.config_id);
      if (!config) throw new NotFoundError(`Config ${request.config_id} not found`);
      const register = deps.registry ? await registryTarget(deps, request, String(config.name)) : undefined;
      const featureSet = request.feature_set === undefined ? undefined : featureSetFor(deps.features, request.feature_set);
      const signature = request.signature ?? deps.runner.signature;
      // Without a declaration a malformed frame fails the job, as the contract says; with one it is a 422 now.
      if (signature || featureSet) {
        checkTrainInput(DataFrame.fromJSON(request.data, { loc: ["body", "data"] }), {
          ...(signature ? { signature } : {}),
          ...(featureSet ? { features: featureSet } : {}),
        }, ["body", "data"]);
      }
      const modelArtifactId = newUlid();
      const jobId = await jobs.submit(monitored(deps, "ml.train", trainJob(deps, {
        configId: request.config_id,
        modelArtifactId,
        data: request.data,
        geo,
        ...(register ? { register } : {}),
        ...(request.run ? { run: request.run } : {}),
        ...(featureSet ? { featureSet } : {}),
        ...(signature ? { signature } : {}),
      })));
      return { job_id: jobId, model_artifact_id: modelArtifactId, message: `Training job submitted. Job ID: ${jobId}` };
    },
  }, { entity: false, tags });
  mountOperation(app, prefix, {
    name: "$predict",
    method: "POST",
    summary: "Predict with a trained model",
    description:
      "Submits a prediction job; the predictions are stored as a child artifact of the model " +
      "(`prediction_artifact_id`, allocated now).",
    body: PredictRequestSchema,
    coerceBody: false,
    checkBody: oneModelOf,
    response: PredictResponseSchema,
    status: 202,
    async handler({ body, request: req }) {
      const request = body as PredictRequest;
      const geo = geoOf(request.geo, ["body", "geo"]);
      const routed = await routedModel(deps, request, req);
      const modelArtifactId = routed ? routed.decision.version.artifact_id! : request.model_artifact_id!;
      const modelData = await checkModelArtifact(deps, modelArtifactId);
      await checkFuture(deps, modelArtifactId, modelData, request.future);
      const predictionArtifactId = newUlid();
      const jobId = await jobs.submit(monitored(deps, "ml.predict", predictJob(deps, {
        ...(routed ? { routed } : {}),
        modelArtifactId,
        predictionArtifactId,
        future: request.future,
        historic: request.historic ?? null,
        geo,
      })));
      return {
        job_id: jobId,
        prediction_artifact_id: predictionArtifactId,
        message: `Prediction job submitted. Job ID: ${jobId}`,
      };
    },
  }, { entity: false, tags });
  return app as unknown as AnyElysia;
}
