import { type TObject, type TSchema, Type } from "@sinclair/typebox";
import { UlidSchema } from "../../core/schema.ts";
import type { ModelSignature } from "./engine/io-schema.ts";
import { ModelSignatureSchema } from "./model-io.ts";

/** DataFrame-JSON on the wire: column names and row-major rows. */
export const DataFrameSchema: TObject = Type.Object({
  columns: Type.Array(Type.String()),
  data: Type.Array(Type.Array(Type.Unknown())),
}, { title: "DataFrame", additionalProperties: true });

/** A GeoJSON FeatureCollection (validated in full by the ML module). */
export const GeoSchema = Type.Union([
  Type.Object({ type: Type.Literal("FeatureCollection"), features: Type.Array(Type.Unknown()) }, {
    additionalProperties: true,
  }),
  Type.Null(),
]);

const ModelName = Type.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$" });

/** Where a trained model goes in the registry: a name, or a name with version details. */
export const TrainModelSchema: TSchema = Type.Union([
  ModelName,
  Type.Object({
    name: Type.Optional(ModelName),
    version: Type.Optional(Type.String({ description: "Semantic version (default: minor bump of the latest)" })),
    description: Type.Optional(Type.String({ maxLength: 10_000 })),
    tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 100 })),
    params: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  }, { additionalProperties: false }),
], { description: "Registry name (default: the config's name) and version details of the trained model" });

/** Body of `POST /api/v1/ml/$train`. */
export const TrainRequestSchema: TObject = Type.Object({
  config_id: UlidSchema,
  data: DataFrameSchema,
  geo: Type.Optional(Type.Unknown({ description: "GeoJSON FeatureCollection or null" })),
  model: Type.Optional(TrainModelSchema),
  run: Type.Optional(Type.Object({
    experiment: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: "Experiment name (created on first use)" })),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    tags: Type.Optional(Type.Record(Type.String({ minLength: 1, maxLength: 250 }), Type.String({ maxLength: 5000 }))),
  }, { additionalProperties: false, description: "How the training is recorded as a run (with the experiments module)" })),
  feature_set: Type.Optional(Type.String({
    pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}(@[0-9]{1,9})?$",
    description: "A feature set of the service (`name` for its latest version, or `name@2`), applied to `data` and stored with the model",
  })),
  signature: Type.Optional(ModelSignatureSchema),
}, { title: "TrainRequest" });

/** Body of `POST /api/v1/ml/$predict`: `model_artifact_id`, or `model` (`name`, `name@alias`, `name@1.2.0`). */
export const PredictRequestSchema: TObject = Type.Object({
  model_artifact_id: Type.Optional(UlidSchema),
  model: Type.Optional(Type.String({
    pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}(@[A-Za-z0-9][A-Za-z0-9_.+-]{0,99})?$",
    description: "A registered model: `name` (its route policy), `name@alias` or `name@1.2.0`",
  })),
  routing_key: Type.Optional(Type.String({ maxLength: 200, description: "Sticky key of A/B routing (policy `sticky_by: field:routing_key`)" })),
  future: DataFrameSchema,
  historic: Type.Optional(Type.Union([DataFrameSchema, Type.Null()])),
  geo: Type.Optional(Type.Unknown({ description: "GeoJSON FeatureCollection or null" })),
}, { title: "PredictRequest" });

/** 202 answer of `$train`. */
export const TrainResponseSchema: TObject = Type.Object({
  job_id: UlidSchema,
  model_artifact_id: UlidSchema,
  message: Type.String(),
}, { title: "TrainResponse" });

/** 202 answer of `$predict`. */
export const PredictResponseSchema: TObject = Type.Object({
  job_id: UlidSchema,
  prediction_artifact_id: UlidSchema,
  message: Type.String(),
}, { title: "PredictResponse" });

/** A validated `$train` body. */
export interface TrainRequest {
  config_id: string;
  data: { columns: string[]; data: unknown[][] };
  geo?: unknown;
  model?: string | { name?: string; version?: string; description?: string; tags?: string[]; params?: Record<string, unknown> };
  run?: { experiment?: string; name?: string; tags?: Record<string, string> };
  feature_set?: string;
  signature?: ModelSignature;
}

/** A validated `$predict` body. */
export interface PredictRequest {
  model_artifact_id?: string;
  model?: string;
  routing_key?: string;
  future: { columns: string[]; data: unknown[][] };
  historic?: { columns: string[]; data: unknown[][] } | null;
  geo?: unknown;
}
