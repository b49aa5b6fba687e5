import { type TObject, Type } from "@sinclair/typebox";

/** Lifecycle of a model version: only `active` versions are chosen by name alone or by routing. */
export type ModelVersionStatus = "active" | "deprecated" | "archived";

/** One registered version of a named model. */
export interface ModelVersion {
  /** ULID of the version record. */
  id: string;
  /** The model's name. */
  name: string;
  /** Semantic version, unique per name. */
  version: string;
  description: string | null;
  status: ModelVersionStatus;
  /** Evaluation figures (`rmse`, `mae`…), compared side by side by `$compare`. */
  metrics: Record<string, number>;
  /** Training parameters, diffed by `$compare`. */
  params: Record<string, unknown>;
  tags: string[];
  /** The training config's data as it was when the version was trained. */
  config: Record<string, unknown> | null;
  /** The config the version was trained under. */
  config_id: string | null;
  /** `sha256:…` of the training data, so two versions can be told apart by their data. */
  data_hash: string | null;
  /** The trained-model artifact that `$predict` and inference load. */
  artifact_id: string | null;
  /** The aliases pointing at this version now. */
  aliases: string[];
  created_at: string;
  updated_at: string;
}

/** What registering a version takes (everything but the name is optional). */
export interface ModelVersionInput {
  /** Semantic version; default: a minor bump of the latest (`1.0.0` first). */
  version?: string;
  description?: string | null;
  metrics?: Record<string, number>;
  params?: Record<string, unknown>;
  tags?: string[];
  config?: Record<string, unknown> | null;
  config_id?: string | null;
  data_hash?: string | null;
  artifact_id?: string | null;
}

/** A named model: its versions' summary and its aliases. */
export interface ModelSummary {
  name: string;
  /** The highest version by semver precedence. */
  latest_version: string;
  version_count: number;
  /** Alias → version. */
  aliases: Record<string, string>;
  updated_at: string;
}

/** One audited alias move. */
export interface AliasEvent {
  id: string;
  name: string;
  alias: string;
  /** Null when the alias was created by this move. */
  from_version: string | null;
  /** Null when the alias was removed. */
  to_version: string | null;
  action: "move" | "rollback" | "delete";
  /** Who moved it (the principal under auth, else `system`). */
  actor: string;
  reason: string | null;
  at: string;
}

/** Versions side by side: each metric per version, and the params that differ. */
export interface ModelComparison {
  name: string;
  versions: string[];
  /** Metric → version → value (null when the version has no such metric). */
  metrics: Record<string, Record<string, number | null>>;
  /** Params whose values differ between the versions: param → version → value. */
  params_diff: Record<string, Record<string, unknown>>;
  /** Params equal in every version. */
  params_same: Record<string, unknown>;
}

const NAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$";

/** A model or alias name: letters, digits, `_`, `.`, `-`, at most 100. */
export const ModelNameSchema = Type.String({ pattern: NAME_PATTERN, description: "Letters, digits, `_`, `.`, `-` (1–100)" });

/** Body of `POST /api/v1/models/{name}/versions`. */
export const ModelVersionInSchema: TObject = Type.Object({
  version: Type.Optional(Type.String({ description: "Semantic version (default: minor bump of the latest, 1.0.0 first)" })),
  description: Type.Optional(Type.Union([Type.String({ maxLength: 10_000 }), Type.Null()])),
  metrics: Type.Optional(Type.Record(Type.String(), Type.Number())),
  params: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 100 })),
  config: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()])),
  config_id: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  data_hash: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
  artifact_id: Type.Optional(Type.Union([Type.String(), Type.Null()])),
}, { title: "ModelVersionIn", additionalProperties: false });

/** Body of `PUT /api/v1/models/{name}/aliases/{alias}`. */
export const AliasMoveSchema: TObject = Type.Object({
  version: Type.String({ minLength: 1, description: "The version the alias points at from now on" }),
  reason: Type.Optional(Type.String({ maxLength: 1000 })),
}, { title: "AliasMove", additionalProperties: false });

/** Body of `POST …/$rollback` (optional). */
export const AliasRollbackSchema: TObject = Type.Object({
  reason: Type.Optional(Type.String({ maxLength: 1000 })),
}, { title: "AliasRollback", additionalProperties: false });

/** Body of `POST …/versions/{version}/$deprecate` and `$archive` (optional). */
export const StatusChangeSchema: TObject = Type.Object({
  reason: Type.Optional(Type.String({ maxLength: 1000 })),
}, { title: "ModelVersionStatusChange", additionalProperties: false });
