import { Type } from "@sinclair/typebox";
import { type AnyElysia, Elysia } from "elysia";
import { BadRequestError, type FieldError, NotFoundError, ValidationError } from "../../core/errors.ts";
import type { JobRunner } from "../jobs/types.ts";
import { UlidSchema } from "../../core/schema.ts";
import { newUlid } from "../../core/ulid.ts";
import { mountOperation } from "../../http/crud/operation.ts";
import { type FeatureCollection, validateFeatureCollection } from "./engine/geojson.ts";
import { sampleFrame, sampleGeo } from "./engine/sample-data.ts";
import { type ChapMlDeps, chapPredictJob, chapTrainJob, TRAINING_TYPE } from "./chap-jobs.ts";
import {
  type ChapPredictRequest,
  ChapPredictRequestSchema,
  ChapJobResponseSchema,
  type ChapTrainRequest,
  ChapTrainRequestSchema,
  type ValidateRequest,
  ValidateRequestSchema,
  ValidationResponseSchema,
} from "./chap-schema.ts";
import { validateRequest } from "./chap-validate.ts";

/** Options of {@link chapMlRoutes}. */
export interface ChapMlRoutesOptions {
  /** Path prefix (default `/api/v1/ml`). */
  prefix?: string;
  /** OpenAPI tags (default `["ml"]`). */
  tags?: string[];
  /** The service's period type (default of `$generate-sample-data`). */
  periodType?: "monthly" | "weekly";
  /** Whether the model needs GeoJSON (default of `include_geo`). */
  requiresGeo?: boolean;
  /** Covariates the model needs (added to generated frames). */
  requiredCovariates?: readonly string[];
}

function geoOf(value: unknown, loc: (string | number)[]): FeatureCollection | null {
  return value === undefined || value === null ? null : validateFeatureCollection(value, loc);
}

const SampleQuery = Type.Object({
  kind: Type.Optional(Type.Union([Type.Literal("train"), Type.Literal("predict")], { default: "train" })),
  config_id: Type.Optional(UlidSchema),
  num_locations: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 5 })),
  num_periods: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, default: 50 })),
  num_features: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, default: 3 })),
  period_type: Type.Optional(Type.Union([Type.Literal("monthly"), Type.Literal("weekly")])),
  geo_type: Type.Optional(Type.Union([Type.Literal("polygon"), Type.Literal("point")], { default: "polygon" })),
  include_geo: Type.Optional(Type.Boolean()),
  seed: Type.Optional(Type.Integer({ default: -1 })),
});

interface SampleQueryValues {
  kind?: "train" | "predict";
  config_id?: string;
  num_locations?: number;
  num_periods?: number;
  num_features?: number;
  period_type?: "monthly" | "weekly";
  geo_type?: "polygon" | "point";
  include_geo?: boolean;
  seed?: number;
}

function requireFields(request: Record<string, unknown>, names: string[]): void {
  const errors: FieldError[] = names
    .filter((name) => request[name] === undefined || request[name] === null)
    .map((name) => ({ loc: ["body", name], msg: "Field required", type: "missing" }));
  if (errors.length > 0) throw new ValidationError(errors);
}

/** Checks at submission that `id` names a training artifact (404 unknown, 400 another kind). */
async function checkTrainingArtifact(deps: ChapMlDeps, id: string): Promise<void> {
  const artifact = await deps.artifacts.repository.findById(id);
  if (!artifact) throw new NotFoundError(`Training artifact ${id} not found`);
  const data = artifact.data as { type?: unknown } | null;
  if (typeof data !== "object" || data === null || data.type !== TRAINING_TYPE) {
    throw new BadRequestError(`Artifact ${id} is not a training artifact`);
  }
}

/**
 * The ML routes of the chap profile (contract-chapcore §8): `$train` and
 * `$predict` answering `{job_id, artifact_id, message}`, `$validate` and
 * `$generate-sample-data`. `$predict` takes `artifact_id` or the seed's
 * `model_artifact_id`; `run_info` is accepted and ignored.
 */
export function chapMlRoutes(deps: ChapMlDeps, jobs: JobRunner, options: ChapMlRoutesOptions = {}): AnyElysia {
  const prefix = options.prefix ?? "/api/v1/ml";
  const tags = options.tags ?? ["ml"];
  const app = new Elysia({ name: `chapkit:ml-chap:${prefix}` });
  mountOperation(app, prefix, {
    name: "$train",
    method: "POST",
    summary: "Train a model",
    description: "Submits a training job; the training artifact (`artifact_id`, allocated now) is stored at level 0, linked to the config.",
    body: ChapTrainRequestSchema,
    coerceBody: false,
    response: ChapJobResponseSchema,
    status: 202,
    async handler({ body }) {
      const request = body as ChapTrainRequest;
      const geo = geoOf(request.geo, ["body", "geo"]);
      if (!(await deps.configs.repository.exists(request.config_id))) {
        throw new NotFoundError(`Config ${request.config_id} not found`);
      }
      const artifactId = newUlid();
      const jobId = await jobs.submit(chapTrainJob(deps, { configId: request.config_id, artifactId, data: request.data, geo }));
      return { job_id: jobId, artifact_id: artifactId, message: `Training job submitted. Job ID: ${jobId}` };
    },
  }, { entity: false, tags });
  mountOperation(app, prefix, {
    name: "$predict",
    method: "POST",
    summary: "Predict with a trained model",
    description: "Submits a prediction job; the prediction artifact (`artifact_id`, allocated now) is stored under the training artifact.",
    body: ChapPredictRequestSchema,
    coerceBody: false,
    response: ChapJobResponseSchema,
    status: 202,
    async handler({ body }) {
      const request = body as ChapPredictRequest;
      const trainingId = request.artifact_id ?? request.model_artifact_id;
      if (trainingId === undefined) requireFields(request as unknown as Record<string, unknown>, ["artifact_id"]);
      const geo = geoOf(request.geo, ["body", "geo"]);
      await checkTrainingArtifact(deps, trainingId!);
      const predictionId = newUlid();
      const jobId = await jobs.submit(chapPredictJob(deps, {
        trainingId: trainingId!,
        predictionId,
        historic: request.historic ?? null,
        future: request.future,
        geo,
      }));
      return { job_id: jobId, artifact_id: predictionId, message: `Prediction job submitted. Job ID: ${jobId}` };
    },
  }, { entity: false, tags });
  mountOperation(app, prefix, {
    name: "$validate",
    method: "POST",
    summary: "Validate a train or predict request",
    description: "Dry run: answers `{valid, diagnostics}` with chapkit's diagnostic codes; nothing is stored or run.",
    body: ValidateRequestSchema,
    coerceBody: false,
    response: ValidationResponseSchema,
    handler({ body }) {
      const request = body as ValidateRequest;
      requireFields(request as unknown as Record<string, unknown>, request.type === "train" ? ["config_id", "data"] : ["artifact_id", "historic", "future"]);
      geoOf(request.geo, ["body", "geo"]);
      return validateRequest(deps, request);
    },
  }, { entity: false, tags });
  mountOperation(app, prefix, {
    name: "$generate-sample-data",
    method: "GET",
    summary: "Generate sample data",
    description: "A synthetic training body (`kind=train`) or `historic`/`future` pair (`kind=predict`) for trying the model out.",
    query: SampleQuery,
    response: Type.Object({}, { additionalProperties: true }),
    handler({ query }) {
      const q = query as SampleQueryValues;
      const locations = q.num_locations ?? 5;
      const periods = q.num_periods ?? 50;
      const base = {
        locations,
        features: q.num_features ?? 3,
        periodType: q.period_type ?? options.periodType ?? "monthly",
        covariates: options.requiredCovariates ?? [],
        ...(q.seed !== undefined && q.seed >= 0 ? { seed: q.seed } : {}),
      };
      const geo = (q.include_geo ?? options.requiresGeo ?? false) ? { geo: sampleGeo(locations, q.geo_type ?? "polygon") } : {};
      if ((q.kind ?? "train") === "train") {
        return { data: sampleFrame({ ...base, periods }), ...(q.config_id ? { config_id: q.config_id } : {}), ...geo };
      }
      const historic = sampleFrame({ ...base, periods });
      const future = sampleFrame({ ...base, periods, startPeriod: periods });
      const cases = future.columns.indexOf("disease_cases");
      for (const row of future.data) row[cases] = null;
      return { historic, future, ...geo };
    },
  }, { entity: false, tags });
  return app as unknown as AnyElysia;
}
