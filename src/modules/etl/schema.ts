import { type TObject, Type } from "@sinclair/typebox";
import type { FieldError } from "../../core/errors.ts";

/** The file formats a pipeline reads; `json` is an array of objects (or one under `json_path`). */
export type EtlFormat = "csv" | "ndjson" | "json" | "xlsx";

/** Where a pipeline reads: a URL, a file on this machine, or every new object under an S3 prefix. */
export type EtlSource =
  | {
    kind: "http";
    /** An http(s) URL, fetched with `GET` (conditionally, with the last run's `ETag` / `Last-Modified`). */
    url: string;
    /** Extra request headers (e.g. `authorization`). */
    headers?: Record<string, string>;
  }
  | {
    kind: "file";
    /** An absolute path, read when its size or modification time changed. */
    path: string;
  }
  | {
    kind: "s3";
    /**
     * `s3://bucket/prefix/?endpoint=…&region=…&style=path`: objects under
     * the prefix that no earlier completed run loaded; the keys come from
     * the `storage.accessKeyId` / `storage.secretAccessKey` settings.
     */
    url: string;
  };

/** What a run does with rows that fail the collection's validation. */
export type EtlOnInvalid = "skip" | "fail-all";

/** Where rows go. */
export interface EtlLoad {
  /** A collection installed with `withEntity` (its table name). */
  collection: string;
  /** `insert` adds every row; `upsert` updates the row with the same `key` and inserts the others (default insert). */
  mode?: "insert" | "upsert";
  /** The field rows are matched on in `upsert` mode (default `id`). */
  key?: string;
  /** `fail-all` (default): one invalid row fails the run and writes nothing; `skip`: load the valid rows, report the others. */
  on_invalid?: EtlOnInvalid;
}

/** A declarative import, as code or `POST /api/v1/etl` gives it. */
export interface EtlPipelineSpec {
  /** Unique name: letters, digits, `_ . -`. */
  name: string;
  /** Cron expression (five fields, or six with seconds first), or null to run only on `$run`. */
  schedule?: string | null;
  /** IANA time zone the schedule is read in (default UTC). */
  timezone?: string | null;
  /** Where rows come from. */
  source: EtlSource;
  /** The file format (default: from the path's extension). */
  format?: EtlFormat | null;
  /** With `json`: the dotted path of the array in the document (default: the document itself). */
  json_path?: string | null;
  /** A registered transform's name, or null to load rows as read. */
  transform?: string | null;
  /** Where rows go and how. */
  load: EtlLoad;
  /** Off: scheduled ticks do nothing (`$run` still runs). Default true. */
  enabled?: boolean;
  /** What the pipeline is for. */
  description?: string | null;
}

/**
 * What a transform receives besides the row: its 1-based number in its file
 * and the object key (S3) or path/URL it came from.
 */
export interface EtlRowContext {
  readonly pipeline: string;
  readonly row: number;
  readonly object: string;
  /** Aborted when the run's job is canceled. */
  readonly signal: AbortSignal;
}

/**
 * A registered transform: the row as read → the row to load, or null (or
 * undefined) to drop it. May be async; a throw refuses the row like a
 * validation error.
 */
export type EtlTransform = (
  row: Record<string, unknown>,
  context: EtlRowContext,
) => Record<string, unknown> | null | undefined | Promise<Record<string, unknown> | null | undefined>;

/** Where a run is: `pending → running → completed | failed | skipped` (skipped: the source had not changed). */
export type EtlRunStatus = "pending" | "running" | "completed" | "failed" | "skipped";

/** One refused row: its number in its file, the file, and why. */
export interface EtlRowError {
  row: number;
  object: string;
  errors: FieldError[];
}

/** One run of a pipeline (its id is the job's). */
export interface EtlRunRecord {
  id: string;
  pipeline: string;
  /** `schedule` (a cron tick) or `manual` (`$run`). */
  trigger: "schedule" | "manual";
  status: EtlRunStatus;
  /** Attempts of its job so far (a failed attempt is retried per the job policy). */
  attempts: number;
  started_at: string | null;
  finished_at: string | null;
  /** Rows read from the source. */
  rows_read: number;
  /** Rows the transform dropped (returned null). */
  rows_dropped: number;
  /** Rows refused (invalid, or the transform threw); skipped with `skip`, fatal with `fail-all`. */
  rows_invalid: number;
  /** Rows written (inserted plus updated); 0 when the run failed. */
  rows_loaded: number;
  rows_inserted: number;
  rows_updated: number;
  /** What identified the source's content: an ETag, size and mtime, a hash, or the object keys read. */
  fingerprint: string | null;
  /** The first refused rows (at most 100). */
  errors: EtlRowError[];
  /** Why the run failed or was skipped, or null. */
  error: string | null;
}

const NAME_PATTERN = "^[A-Za-z0-9_.-]{1,100}$";
const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

const SourceSchema = Type.Union([
  Type.Object({
    kind: Type.Literal("http"),
    url: Type.String({ minLength: 1, description: "An http(s) URL" }),
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
  }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal("file"), path: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal("s3"), url: Type.String({ minLength: 1, description: "s3://bucket/prefix/?endpoint=…" }) }, { additionalProperties: false }),
], { title: "EtlSource" });

const FormatSchema = Type.Union([Type.Literal("csv"), Type.Literal("ndjson"), Type.Literal("json"), Type.Literal("xlsx")]);

const LoadSchema = Type.Object({
  collection: Type.String({ minLength: 1 }),
  mode: Type.Optional(Type.Union([Type.Literal("insert"), Type.Literal("upsert")], { default: "insert" })),
  key: Type.Optional(Type.String({ minLength: 1, default: "id" })),
  on_invalid: Type.Optional(Type.Union([Type.Literal("skip"), Type.Literal("fail-all")], { default: "fail-all" })),
}, { additionalProperties: false, title: "EtlLoad" });

const pipelineFields = {
  schedule: Type.Optional(Nullable(Type.String({ minLength: 1, description: "Cron: five fields, or six with seconds first" }))),
  timezone: Type.Optional(Nullable(Type.String({ minLength: 1, description: "IANA zone (default UTC)" }))),
  source: SourceSchema,
  format: Type.Optional(Type.Union([FormatSchema, Type.Null()])),
  json_path: Type.Optional(Nullable(Type.String({ minLength: 1 }))),
  transform: Type.Optional(Nullable(Type.String({ minLength: 1, description: "A registered transform's name" }))),
  load: LoadSchema,
  enabled: Type.Optional(Type.Boolean({ default: true })),
  description: Type.Optional(Nullable(Type.String())),
};

/** TypeBox schema of a pipeline's body (`PUT` takes it without `name`). */
export const EtlPipelineInSchema: TObject = Type.Object({
  name: Type.String({ pattern: NAME_PATTERN, description: "Unique name: letters, digits, _ . -" }),
  ...pipelineFields,
}, { additionalProperties: false, title: "EtlPipelineIn" });

/** TypeBox schema of a `PUT` body. */
export const EtlPipelineReplaceSchema: TObject = Type.Object(pipelineFields, { additionalProperties: false, title: "EtlPipelineReplace" });

/** Whether `name` is a valid pipeline name. */
export function isPipelineName(name: string): boolean {
  return new RegExp(NAME_PATTERN).test(name);
}

/** TypeBox schema of a stored pipeline. */
export const EtlPipelineSchema: TObject = Type.Object({
  name: Type.String(),
  ...pipelineFields,
  origin: Type.Union([Type.Literal("code"), Type.Literal("api")]),
  next_run_at: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  created_at: Type.String({ format: "date-time" }),
  updated_at: Type.String({ format: "date-time" }),
}, { title: "EtlPipeline" });

const RowErrorSchema = Type.Object({
  row: Type.Integer(),
  object: Type.String(),
  errors: Type.Array(Type.Object({ loc: Type.Array(Type.Union([Type.String(), Type.Integer()])), msg: Type.String(), type: Type.String() })),
});

/** TypeBox schema of a run. */
export const EtlRunSchema: TObject = Type.Object({
  id: Type.String(),
  pipeline: Type.String(),
  trigger: Type.Union([Type.Literal("schedule"), Type.Literal("manual")]),
  status: Type.Union([Type.Literal("pending"), Type.Literal("running"), Type.Literal("completed"), Type.Literal("failed"), Type.Literal("skipped")]),
  attempts: Type.Integer(),
  started_at: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  finished_at: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  rows_read: Type.Integer(),
  rows_dropped: Type.Integer(),
  rows_invalid: Type.Integer(),
  rows_loaded: Type.Integer(),
  rows_inserted: Type.Integer(),
  rows_updated: Type.Integer(),
  fingerprint: Type.Union([Type.String(), Type.Null()]),
  errors: Type.Array(RowErrorSchema),
  error: Type.Union([Type.String(), Type.Null()]),
}, { title: "EtlRun" });
