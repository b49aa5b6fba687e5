/**
 * The pydantic models chap-core validates a chapkit service's answers with
 * (chapkit 1.1.0 / servicekit 1.0.1, as pinned by chap-core), as TypeBox
 * schemas. `additionalProperties: false` exactly where chap-core forbids
 * extra keys: the service info and the prediction artifact's `data`.
 */
import { type TObject, type TSchema, Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const ULID = "^[0-9A-HJKMNP-TV-Z]{26}$";
const HTTP_URL = "^https?://[^\\s/]+";

/** servicekit `HealthStatus`. */
export const HealthStatus: TObject = Type.Object({
  status: Type.Union([Type.Literal("healthy"), Type.Literal("degraded"), Type.Literal("unhealthy")]),
  checks: Type.Optional(Nullable(Type.Record(Type.String(), Type.Object({
    state: Type.Union([Type.Literal("healthy"), Type.Literal("degraded"), Type.Literal("unhealthy")]),
    message: Type.Optional(Nullable(Type.String())),
  })))),
});

/** chapkit `ModelMetadata` (extra keys ignored by pydantic, so allowed here). */
export const ModelMetadata: TObject = Type.Object({
  author: Type.Optional(Nullable(Type.String())),
  author_note: Type.Optional(Nullable(Type.String())),
  author_assessed_status: Type.Optional(Nullable(Type.Union(["gray", "red", "orange", "yellow", "green"].map((s) => Type.Literal(s))))),
  contact_email: Type.Optional(Nullable(Type.String({ pattern: "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$" }))),
  organization: Type.Optional(Nullable(Type.String())),
  organization_logo_url: Type.Optional(Nullable(Type.String({ pattern: HTTP_URL }))),
  citation_info: Type.Optional(Nullable(Type.String())),
  repository_url: Type.Optional(Nullable(Type.String({ pattern: HTTP_URL }))),
  documentation_url: Type.Optional(Nullable(Type.String({ pattern: HTTP_URL }))),
});

/** chapkit `MLServiceInfo` on servicekit `ServiceInfo`: `extra="forbid"`. */
export const MLServiceInfo: TObject = Type.Object({
  id: Type.String({ pattern: "^[a-z][a-z0-9]*(-[a-z0-9]+)*$" }),
  display_name: Type.String(),
  version: Type.Optional(Type.String()),
  description: Type.Optional(Nullable(Type.String())),
  model_metadata: ModelMetadata,
  period_type: Type.Union([Type.Literal("weekly"), Type.Literal("monthly")]),
  min_prediction_periods: Type.Optional(Type.Integer()),
  max_prediction_periods: Type.Optional(Type.Integer()),
  allow_free_additional_continuous_covariates: Type.Optional(Type.Boolean()),
  required_covariates: Type.Optional(Type.Array(Type.String())),
  requires_geo: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });

/** chapkit `ConfigOut` with `data` as `BaseConfig` (an integer `prediction_periods` is required). */
export const ConfigOut: TObject = Type.Object({
  id: Type.String({ pattern: ULID }),
  created_at: Type.String(),
  updated_at: Type.String(),
  tags: Type.Optional(Type.Array(Type.String())),
  name: Type.String(),
  data: Type.Object({
    prediction_periods: Type.Integer(),
    additional_continuous_covariates: Type.Optional(Type.Array(Type.String())),
  }, { additionalProperties: true }),
});

/** chapkit `TrainResponse` / `PredictResponse`. */
export const JobSubmitted: TObject = Type.Object({
  job_id: Type.String(),
  artifact_id: Type.String(),
  message: Type.String(),
});

/** chapkit `ChapkitJobRecord`. */
export const ChapkitJobRecord: TObject = Type.Object({
  id: Type.String({ pattern: ULID }),
  status: Type.Optional(Type.Union(["pending", "running", "completed", "failed", "canceled"].map((s) => Type.Literal(s)))),
  submitted_at: Type.Optional(Nullable(Type.String())),
  started_at: Type.Optional(Nullable(Type.String())),
  finished_at: Type.Optional(Nullable(Type.String())),
  error: Type.Optional(Nullable(Type.String())),
  error_traceback: Type.Optional(Nullable(Type.String())),
  artifact_id: Type.Optional(Nullable(Type.String({ pattern: ULID }))),
});

/** chapkit `ArtifactOut`. */
export const ArtifactOut: TObject = Type.Object({
  id: Type.String({ pattern: ULID }),
  created_at: Type.String(),
  updated_at: Type.String(),
  tags: Type.Optional(Type.Array(Type.String())),
  data: Type.Unknown(),
  parent_id: Type.Optional(Nullable(Type.String({ pattern: ULID }))),
  level: Type.Integer(),
});

/** chapkit `MLMetadata`. */
export const MLMetadata: TObject = Type.Object({
  status: Type.Union([Type.Literal("success"), Type.Literal("failed")]),
  config_id: Type.String(),
  started_at: Type.String(),
  completed_at: Type.String(),
  duration_seconds: Type.Number(),
  exit_code: Type.Optional(Nullable(Type.Integer())),
  stdout: Type.Optional(Nullable(Type.String())),
  stderr: Type.Optional(Nullable(Type.String())),
});

/** chapkit `MLPredictionArtifactData`: `extra="forbid"`, a DataFrame `content`. */
export const MLPredictionArtifactData: TObject = Type.Object({
  type: Type.Literal("ml_prediction"),
  metadata: MLMetadata,
  content: Type.Object({ columns: Type.Array(Type.String()), data: Type.Array(Type.Array(Type.Unknown())) }),
  content_type: Nullable(Type.String()),
  content_size: Nullable(Type.Integer()),
}, { additionalProperties: false });

/** The first few reasons `value` fails `schema` (empty when it passes). */
export function violations(schema: TSchema, value: unknown, limit = 5): string[] {
  const out: string[] = [];
  for (const error of Value.Errors(schema, value)) {
    out.push(`${error.path || "/"}: ${error.message}`);
    if (out.length >= limit) break;
  }
  return out;
}
