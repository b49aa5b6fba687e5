import { type TObject, Type } from "@sinclair/typebox";
import { UlidSchema } from "../../core/schema.ts";
import { DataFrameSchema } from "./schema.ts";

const Geo = Type.Optional(Type.Unknown({ description: "GeoJSON FeatureCollection or null" }));
const RunInfo = Type.Optional(Type.Unknown({
  description: "chap-core's run information (`prediction_length`, `additional_continuous_covariates`, `future_covariate_origin`); accepted and ignored",
}));

/** Body of `$train` in the chap profile: the seed body plus chap-core's `run_info`. */
export const ChapTrainRequestSchema: TObject = Type.Object({
  config_id: UlidSchema,
  data: DataFrameSchema,
  geo: Geo,
  run_info: RunInfo,
}, { title: "TrainRequest" });

/** Body of `$predict` in the chap profile: `artifact_id` (or the seed's `model_artifact_id`), `historic`, `future`. */
export const ChapPredictRequestSchema: TObject = Type.Object({
  artifact_id: Type.Optional(UlidSchema),
  model_artifact_id: Type.Optional(UlidSchema),
  historic: Type.Optional(Type.Union([DataFrameSchema, Type.Null()])),
  future: DataFrameSchema,
  geo: Geo,
  run_info: RunInfo,
}, { title: "PredictRequest" });

/** 202 answer of `$train` and `$predict` in the chap profile. */
export const ChapJobResponseSchema: TObject = Type.Object({
  job_id: UlidSchema,
  artifact_id: UlidSchema,
  message: Type.String(),
}, { title: "JobSubmitted" });

/** Body of `$validate`: a union tagged by `type`. */
export const ValidateRequestSchema: TObject = Type.Object({
  type: Type.Union([Type.Literal("train"), Type.Literal("predict")]),
  config_id: Type.Optional(UlidSchema),
  data: Type.Optional(DataFrameSchema),
  artifact_id: Type.Optional(UlidSchema),
  historic: Type.Optional(DataFrameSchema),
  future: Type.Optional(DataFrameSchema),
  geo: Geo,
  run_info: RunInfo,
}, { title: "ValidateRequest" });

/** One finding of `$validate`. */
export const DiagnosticSchema: TObject = Type.Object({
  severity: Type.Union([Type.Literal("error"), Type.Literal("warning"), Type.Literal("info")]),
  code: Type.String(),
  message: Type.String(),
  field: Type.Union([Type.String(), Type.Null()]),
}, { title: "ValidationDiagnostic" });

/** Answer of `$validate`. */
export const ValidationResponseSchema: TObject = Type.Object({
  valid: Type.Boolean(),
  diagnostics: Type.Array(DiagnosticSchema),
}, { title: "ValidationResponse" });

/** A validated chap `$train` body. */
export interface ChapTrainRequest {
  config_id: string;
  data: { columns: string[]; data: unknown[][] };
  geo?: unknown;
  run_info?: unknown;
}

/** A validated chap `$predict` body. */
export interface ChapPredictRequest {
  artifact_id?: string;
  model_artifact_id?: string;
  historic?: { columns: string[]; data: unknown[][] } | null;
  future: { columns: string[]; data: unknown[][] };
  geo?: unknown;
  run_info?: unknown;
}

/** A validated `$validate` body. */
export interface ValidateRequest {
  type: "train" | "predict";
  config_id?: string;
  data?: { columns: string[]; data: unknown[][] };
  artifact_id?: string;
  historic?: { columns: string[]; data: unknown[][] };
  future?: { columns: string[]; data: unknown[][] };
  geo?: unknown;
}

/** A `$validate` finding. */
export interface Diagnostic {
  severity: "error" | "warning" | "info";
  code: string;
  message: string;
  field: string | null;
}
