import { type TObject, Type } from "@sinclair/typebox";
import { UlidSchema } from "../../core/schema.ts";

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

/** Body of `POST /api/v1/ml/$train`. */
export const TrainRequestSchema: TObject = Type.Object({
  config_id: UlidSchema,
  data: DataFrameSchema,
  geo: Type.Optional(Type.Unknown({ description: "GeoJSON FeatureCollection or null" })),
}, { title: "TrainRequest" });

/** Body of `POST /api/v1/ml/$predict`. */
export const PredictRequestSchema: TObject = Type.Object({
  model_artifact_id: UlidSchema,
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
}

/** A validated `$predict` body. */
export interface PredictRequest {
  model_artifact_id: string;
  future: { columns: string[]; data: unknown[][] };
  historic?: { columns: string[]; data: unknown[][] } | null;
  geo?: unknown;
}
