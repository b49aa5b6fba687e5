import { type AnyElysia, Elysia } from "elysia";
import { NotFoundError } from "../../core/errors.ts";
import type { JobFunction, JobRunner } from "../jobs/types.ts";
import { newUlid } from "../../core/ulid.ts";
import { mountOperation } from "../../http/crud/operation.ts";
import { validateFeatureCollection, type FeatureCollection } from "../../ml/geojson.ts";
import { checkModelArtifact, type MlJobDeps, predictJob, trainJob } from "./ml-jobs.ts";
import {
  type PredictRequest,
  PredictRequestSchema,
  PredictResponseSchema,
  type TrainRequest,
  TrainRequestSchema,
  TrainResponseSchema,
} from "./schema.ts";

/** Options of {@link mlRoutes}. */
export interface MlRoutesOptions {
  /** Path prefix (default `/api/v1/ml`). */
  prefix?: string;
  /** OpenAPI tags (default `["ml"]`). */
  tags?: string[];
}

/** The job, timed by kind when monitoring is on. */
function monitored(deps: MlJobDeps, kind: string, job: JobFunction): JobFunction {
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
      if (!(await deps.configs.repository.exists(request.config_id))) {
        throw new NotFoundError(`Config ${request.config_id} not found`);
      }
      const modelArtifactId = newUlid();
      const jobId = await jobs.submit(monitored(deps, "ml.train", trainJob(deps, {
        configId: request.config_id,
        modelArtifactId,
        data: request.data,
        geo,
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
    response: PredictResponseSchema,
    status: 202,
    async handler({ body }) {
      const request = body as PredictRequest;
      const geo = geoOf(request.geo, ["body", "geo"]);
      await checkModelArtifact(deps, request.model_artifact_id);
      const predictionArtifactId = newUlid();
      const jobId = await jobs.submit(monitored(deps, "ml.predict", predictJob(deps, {
        modelArtifactId: request.model_artifact_id,
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
