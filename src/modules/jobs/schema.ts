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
}, { title: "JobRecord" });

/** TypeBox schema of the query of `GET /api/v1/jobs`. */
export const JobListQuerySchema: TObject = Type.Object({
  status_filter: Type.Optional(JobStatusSchema),
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
