import { type TObject, Type } from "@sinclair/typebox";
import { defineTable, type EntityRecord, type TableDefinition } from "../../core/entity.ts";
import { entityInputSchema, entityOutputSchema } from "../../core/schema.ts";

/** Where a run is in its life. */
export type RunStatus = "running" | "completed" | "failed";

/** What a run is: one training, a hyperparameter search (whose trials are its child runs). */
export type RunKind = "train" | "search";

/** A named group of runs (one model, one question). */
export interface ExperimentRecord extends EntityRecord {
  /** Unique. */
  name: string;
  description: string | null;
  /** Key/value tags. */
  tags: Record<string, string>;
}

/** An artifact a run produced. */
export interface RunArtifact {
  /** What it is to the run (`model`). */
  name: string;
  artifact_id: string;
}

/** One recorded training (or search). */
export interface RunRecord extends EntityRecord {
  experiment_id: string;
  name: string | null;
  kind: RunKind;
  status: RunStatus;
  /** The run this one belongs to (a search's trial), or null. */
  parent_run_id: string | null;
  /** The config's data (nested keys joined by `.`), the registry target's params and the params the runner logged. */
  params: Record<string, unknown>;
  /** The last value of each metric. */
  metrics: Record<string, number>;
  tags: Record<string, string>;
  artifacts: RunArtifact[];
  config_id: string | null;
  model_artifact_id: string | null;
  model_name: string | null;
  model_version: string | null;
  /** The job that ran it. */
  job_id: string | null;
  started_at: string;
  finished_at: string | null;
  /** Milliseconds from start to end, null while running. */
  duration_ms: number | null;
  /** Why it failed, or null. */
  error: string | null;
}

/** One logged value of a metric. */
export interface MetricPoint {
  key: string;
  value: number;
  step: number;
  /** ISO 8601 UTC. */
  timestamp: string;
}

/** The `experiments` table. */
export const experimentsTable: TableDefinition = defineTable({
  name: "experiments",
  columns: {
    name: { type: "text", unique: true },
    description: { type: "text", nullable: true },
    tags: { type: "json" },
  },
});

/** The `runs` table. */
export const runsTable: TableDefinition = defineTable({
  name: "runs",
  columns: {
    experiment_id: { type: "ulid", indexed: true },
    name: { type: "text", nullable: true },
    kind: { type: "text" },
    status: { type: "text", indexed: true },
    parent_run_id: { type: "ulid", nullable: true, indexed: true },
    params: { type: "json" },
    metrics: { type: "json" },
    tags: { type: "json" },
    artifacts: { type: "json" },
    config_id: { type: "text", nullable: true },
    model_artifact_id: { type: "text", nullable: true },
    model_name: { type: "text", nullable: true },
    model_version: { type: "text", nullable: true },
    job_id: { type: "text", nullable: true },
    started_at: { type: "timestamp" },
    finished_at: { type: "timestamp", nullable: true },
    duration_ms: { type: "real", nullable: true },
    error: { type: "text", nullable: true },
  },
});

const Tags = Type.Record(Type.String({ minLength: 1, maxLength: 250 }), Type.String({ maxLength: 5000 }));
const NullableText = Type.Union([Type.String(), Type.Null()]);

/** Create and update body of an experiment. */
export const ExperimentInSchema: TObject = entityInputSchema("ExperimentIn", {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.Optional(Type.Union([Type.String({ maxLength: 10_000 }), Type.Null()])),
  tags: Type.Optional(Tags),
});

/** An experiment as answered. */
export const ExperimentOutSchema: TObject = entityOutputSchema("ExperimentOut", {
  name: Type.String(),
  description: NullableText,
  tags: Tags,
});

/** Update body of a run: what a client may change (its name and tags). */
export const RunInSchema: TObject = entityInputSchema("RunIn", {
  name: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Null()])),
  tags: Type.Optional(Tags),
});

/** A run as answered. */
export const RunOutSchema: TObject = entityOutputSchema("RunOut", {
  experiment_id: Type.String(),
  name: NullableText,
  kind: Type.Union([Type.Literal("train"), Type.Literal("search")]),
  status: Type.Union([Type.Literal("running"), Type.Literal("completed"), Type.Literal("failed")]),
  parent_run_id: NullableText,
  params: Type.Record(Type.String(), Type.Unknown()),
  metrics: Type.Record(Type.String(), Type.Number()),
  tags: Tags,
  artifacts: Type.Array(Type.Object({ name: Type.String(), artifact_id: Type.String() })),
  config_id: NullableText,
  model_artifact_id: NullableText,
  model_name: NullableText,
  model_version: NullableText,
  job_id: NullableText,
  started_at: Type.String({ format: "date-time" }),
  finished_at: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  duration_ms: Type.Union([Type.Number(), Type.Null()]),
  error: NullableText,
});

/** One point of a metric's series as answered. */
export const MetricPointSchema: TObject = Type.Object({
  key: Type.String(),
  value: Type.Number(),
  step: Type.Integer({ minimum: 0 }),
  timestamp: Type.String({ format: "date-time" }),
}, { title: "MetricPoint" });

/** Runs side by side: the params that differ, each metric per run, and each metric's series per run. */
export interface RunComparison {
  /** The runs in the order asked. */
  runs: { id: string; name: string | null; experiment_id: string; status: RunStatus; duration_ms: number | null }[];
  /** Param → run id → value (null when the run has no such param), for params that differ. */
  params_diff: Record<string, Record<string, unknown>>;
  /** Params equal in every run. */
  params_same: Record<string, unknown>;
  /** Metric → run id → last value (null when the run has none). */
  metrics: Record<string, Record<string, number | null>>;
  /** Metric → run id → `[step, value]` pairs in step order. */
  curves: Record<string, Record<string, [number, number][]>>;
}

/** Answer schema of `$compare`. */
export const RunComparisonSchema: TObject = Type.Object({
  runs: Type.Array(Type.Object({
    id: Type.String(),
    name: NullableText,
    experiment_id: Type.String(),
    status: Type.String(),
    duration_ms: Type.Union([Type.Number(), Type.Null()]),
  })),
  params_diff: Type.Record(Type.String(), Type.Record(Type.String(), Type.Unknown())),
  params_same: Type.Record(Type.String(), Type.Unknown()),
  metrics: Type.Record(Type.String(), Type.Record(Type.String(), Type.Union([Type.Number(), Type.Null()]))),
  curves: Type.Record(Type.String(), Type.Record(Type.String(), Type.Array(Type.Tuple([Type.Number(), Type.Number()])))),
}, { title: "RunComparison" });
