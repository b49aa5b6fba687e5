import { type TObject, type TSchema, Type } from "@sinclair/typebox";
import { JOB_STATUSES } from "./types.ts";
import { UlidSchema } from "../../core/schema.ts";

/** TypeBox schema of a job status. */
export const JobStatusSchema: TSchema = Type.Union(JOB_STATUSES.map((status) => Type.Literal(status)), {
  title: "JobStatus",
});

const nullableTimestamp = Type.Union([Type.String({ format: "date-time" }), Type.Null()]);

/** TypeBox schema of a job record (contract §10.1), keys in wire order. */
export const JobRecordSchema: TObject = Type.Object({
  id: UlidSchema,
  status: JobStatusSchema,
  submitted_at: Type.String({ format: "date-time" }),
  started_at: nullableTimestamp,
  finished_at: nullableTimestamp,
  error: Type.Union([Type.String(), Type.Null()]),
  error_traceback: Type.Union([Type.String(), Type.Null()]),
  artifact_id: Type.Union([UlidSchema, Type.Null()]),
  progress: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: "Fraction done, once reported" })),
  progress_message: Type.Optional(Type.String({ description: "Message of the last progress report" })),
  name: Type.Optional(Type.String({ description: "Handler name (queue jobs only)" })),
  payload: Type.Optional(Type.Unknown()),
  priority: Type.Optional(Type.Integer()),
  attempts: Type.Optional(Type.Integer({ minimum: 0 })),
  max_attempts: Type.Optional(Type.Integer({ minimum: 1 })),
  last_error: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  next_run_at: Type.Optional(Type.Union([Type.String({ format: "date-time" }), Type.Null()])),
  dead_letter: Type.Optional(Type.Boolean()),
  dedup_key: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  depends_on: Type.Optional(Type.Array(UlidSchema)),
}, { title: "JobRecord" });

/** TypeBox schema of a back-off policy. */
export const JobBackoffSchema: TObject = Type.Object({
  delay_ms: Type.Optional(Type.Integer({ minimum: 0, description: "First retry delay (default 1000)" })),
  factor: Type.Optional(Type.Number({ minimum: 1, maximum: 10, description: "Growth per attempt (default 2)" })),
  max_ms: Type.Optional(Type.Integer({ minimum: 0, description: "Longest delay (default 300000)" })),
  jitter: Type.Optional(Type.Boolean({ description: "Draw each delay from its upper half (default true)" })),
}, { additionalProperties: false, title: "JobBackoff" });

/** TypeBox schema of the body of `POST /api/v1/jobs`. */
export const JobEnqueueSchema: TObject = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100, description: "A registered handler's name" }),
  payload: Type.Optional(Type.Unknown({ description: "Checked against the handler's schema (default {})" })),
  priority: Type.Optional(Type.Integer({ minimum: -1000, maximum: 1000, description: "Higher first (default 0)" })),
  run_at: Type.Optional(Type.String({ format: "date-time", description: "Not before this time" })),
  delay_ms: Type.Optional(Type.Integer({ minimum: 0, description: "Not before this many ms from now" })),
  max_attempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  backoff: Type.Optional(JobBackoffSchema),
  timeout_ms: Type.Optional(Type.Integer({ minimum: 1, description: "Per-attempt timeout" })),
  dedup_key: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  depends_on: Type.Optional(Type.Array(UlidSchema, { maxItems: 100 })),
}, { additionalProperties: false, title: "JobEnqueue" });

/** TypeBox schema of the query of `GET /api/v1/jobs`. */
export const JobListQuerySchema: TObject = Type.Object({
  status_filter: Type.Optional(JobStatusSchema),
  dead_letter: Type.Optional(Type.Boolean({ description: "Only dead letters (true) or only other jobs (false)" })),
});

/** TypeBox schema of the query of `GET /api/v1/jobs/{id}/$stream`. */
export const JobStreamQuerySchema: TObject = Type.Object({
  poll_interval: Type.Optional(Type.Number({
    exclusiveMinimum: 0,
    maximum: 3600,
    default: 0.5,
    description: "Seconds between two events",
  })),
});
