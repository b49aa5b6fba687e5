import { type TObject, Type } from "@sinclair/typebox";
import { type AnyElysia, Elysia } from "elysia";
import { BadRequestError, NotFoundError, ValidationError } from "../../core/errors.ts";
import { UlidSchema } from "../../core/schema.ts";
import { mountOperation } from "../../http/crud/operation.ts";
import type { Monitoring } from "../../observability/monitoring.ts";
import type { ArtifactManager } from "../artifact/manager.ts";

/** Body of `POST /api/v1/ml/$feedback`. */
export const FeedbackRequestSchema: TObject = Type.Object({
  prediction_artifact_id: UlidSchema,
  actual: Type.Array(Type.Number(), { minItems: 1, description: "Observed values, one per prediction row, in row order" }),
  column: Type.Optional(Type.String({ minLength: 1, description: "Prediction column compared (default sample_0, else the last column)" })),
}, { title: "FeedbackRequest" });

const FeedbackResponseSchema = Type.Object({
  model_artifact_id: Type.String(),
  n: Type.Integer({ description: "Feedback pairs in the window" }),
  mae: Type.Number(),
  rmse: Type.Number(),
}, { title: "FeedbackResponse" });

const MonitoringResponseSchema = Type.Object({
  sample_rate: Type.Number(),
  models: Type.Array(Type.Object({}, { additionalProperties: true })),
}, { title: "MlMonitoring" });

interface PredictionData {
  ml_type?: unknown;
  model_artifact_id?: unknown;
  predictions?: { columns?: unknown; data?: unknown };
}

/** The predicted values of one column of a prediction artifact's frame. */
function predictedValues(data: PredictionData, column: string | undefined, id: string): number[] {
  const frame = data.predictions;
  const columns = Array.isArray(frame?.columns) ? frame.columns as string[] : [];
  const rows = Array.isArray(frame?.data) ? frame.data as unknown[][] : [];
  const name = column ?? (columns.includes("sample_0") ? "sample_0" : columns[columns.length - 1]);
  const index = name === undefined ? -1 : columns.indexOf(name);
  if (index < 0) {
    throw new ValidationError([{ loc: ["body", "column"], msg: `Prediction ${id} has no column ${name ?? "to compare"}`, type: "value_error" }]);
  }
  return rows.map((row) => Number(row[index]));
}

/**
 * `GET /api/v1/ml/$monitoring` (per-model latency, throughput, errors, input
 * drift and accuracy) and `POST /api/v1/ml/$feedback` (ground truth for a
 * stored prediction → MAE/RMSE over a window), mounted when monitoring is on.
 */
export function mlMonitoringRoutes(monitoring: Monitoring, artifacts: ArtifactManager, prefix = "/api/v1/ml"): AnyElysia {
  const app = new Elysia({ name: `chapkit:ml-monitoring:${prefix}` });
  const tags = ["ml"];
  mountOperation(app, prefix, {
    name: "$monitoring",
    method: "GET",
    summary: "Model monitoring",
    description: "Per model: prediction runs, errors, rows, run-time quantiles, input drift (PSI, KS) against the " +
      "training data, and accuracy from feedback.",
    response: MonitoringResponseSchema,
    permission: "metrics:read",
    handler: () => ({ sample_rate: monitoring.ml.sampleRate, models: monitoring.ml.report() }),
  }, { entity: false, tags });
  mountOperation(app, prefix, {
    name: "$feedback",
    method: "POST",
    summary: "Report observed values for a prediction",
    description: "Compares the observed values with a stored prediction's column and answers the model's MAE and " +
      "RMSE over the feedback window.",
    body: FeedbackRequestSchema,
    response: FeedbackResponseSchema,
    permission: "ml:predict",
    async handler({ body }) {
      const request = body as { prediction_artifact_id: string; actual: number[]; column?: string };
      const artifact = await artifacts.repository.findById(request.prediction_artifact_id);
      if (!artifact) throw new NotFoundError(`Prediction artifact ${request.prediction_artifact_id} not found`);
      const data = (artifact.data ?? {}) as PredictionData;
      if (data.ml_type !== "prediction" || typeof data.model_artifact_id !== "string") {
        throw new BadRequestError(`Artifact ${request.prediction_artifact_id} is not a prediction`);
      }
      const predicted = predictedValues(data, request.column, request.prediction_artifact_id);
      if (predicted.length !== request.actual.length) {
        throw new ValidationError([{
          loc: ["body", "actual"],
          msg: `The prediction has ${predicted.length} rows; ${request.actual.length} values were sent`,
          type: "value_error",
        }]);
      }
      if (predicted.some((value) => !Number.isFinite(value))) {
        throw new BadRequestError(`Prediction ${request.prediction_artifact_id} has non-numeric values in that column`);
      }
      const result = monitoring.ml.recordFeedback(data.model_artifact_id, predicted, request.actual);
      return { model_artifact_id: data.model_artifact_id, ...result };
    },
  }, { entity: false, tags });
  return app as unknown as AnyElysia;
}
