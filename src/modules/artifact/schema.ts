import {
  type Static,
  type TArray,
  type TInteger,
  type TNull,
  type TOptional,
  type TString,
  type TUnion,
  type TUnknown,
  Type,
} from "@sinclair/typebox";
import { defineTable, type TableDefinition } from "../../core/entity.ts";
import {
  defineEntity,
  type EntityDefinition,
  type EntityRecordOf,
  type EntityView,
  field,
  type ServerSetField,
} from "../../core/entity-definition.ts";
import { UlidSchema } from "../../core/schema.ts";
import { TagsSchema } from "../../core/tags.ts";

type ArtifactFields = {
  parent_id: TOptional<TUnion<[TString, TNull]>>;
  level: ServerSetField<TInteger>;
  data: TUnknown;
  tags: TOptional<typeof TagsSchema>;
};

/** The views of an artifact: the seed profile's and the chap profile's (with `tags`, before `data`). */
export type ArtifactViews = {
  seed: EntityView<Pick<ArtifactFields, "data" | "parent_id" | "level">>;
  chap: EntityView<Pick<ArtifactFields, "tags" | "data" | "parent_id" | "level">, { tags: TArray<TString> }>;
};

/**
 * The artifact entity, defined once: the `artifacts` table (binary payloads
 * live in `artifact_payloads`) and the `ArtifactIn`/`ArtifactOut` schemas of
 * each profile. `level` is computed by the server (root 0, child 1 …), so no
 * input lists it; `tags` are null for rows written without tags and only the
 * chap profile accepts and answers them.
 */
export const Artifact: EntityDefinition<ArtifactFields, "artifacts", ArtifactViews> = defineEntity({
  table: "artifacts",
  name: "Artifact",
  fields: {
    parent_id: field(Type.Optional(Type.Union([UlidSchema, Type.Null()])), {
      references: { table: "artifacts", onDelete: "set null" },
    }),
    level: field(Type.Integer({ minimum: 0 }), { indexed: true, input: false }),
    data: Type.Unknown({ description: "Any JSON value but null" }),
    tags: Type.Optional(TagsSchema),
  },
  views: {
    seed: { fields: ["data", "parent_id", "level"] },
    chap: { fields: ["tags", "data", "parent_id", "level"], output: { tags: Type.Array(Type.String()) } },
  },
});

/** A stored artifact row: `data` (any JSON value but null), `parent_id` (null for a root), `level` (root 0), `tags` (null when written without tags). */
export type ArtifactRecord = EntityRecordOf<typeof Artifact>;

/** An artifact as the API answers it: `id`, `created_at`, `updated_at`, `data`, `parent_id`, `level`; `tags` (before `data`) in the chap profile only. */
export type ArtifactOut = Static<ArtifactOutSchema> & { tags?: string[] };

/** What a client sends to create or update an artifact (`level` is ignored; `tags` only in the chap profile, absent keeps them on update). */
export type ArtifactIn = Static<ArtifactViews["chap"]["input"]>;

/** A config as embedded in tree nodes (stored data, as is). */
export interface LinkedConfig {
  /** ULID. */
  id: string;
  /** ISO 8601 UTC creation time. */
  created_at: string;
  /** ISO 8601 UTC time of the last change. */
  updated_at: string;
  /** The config's name. */
  name: string;
  /** The config data as stored. */
  data: unknown;
}

/** An artifact with its place in the hierarchy (`$expand`, `$tree`). */
export interface ArtifactTreeNode extends ArtifactOut {
  /** The label of the node's level, or `level_{n}`. */
  level_label: string;
  /** The hierarchy's name. */
  hierarchy: string;
  /** Child nodes in ascending id order (`$tree`), or null when not loaded (`$expand`). */
  children: ArtifactTreeNode[] | null;
  /** The linked config of the top node, when it is a root linked to one. */
  config: LinkedConfig | null;
}

/** The names of an artifact hierarchy's levels. */
export interface ArtifactHierarchy {
  /** The hierarchy's name, e.g. `ml_pipeline`. */
  name: string;
  /** Labels by level, e.g. `{ 0: "trained_model", 1: "predictions" }`. */
  level_labels?: Record<number, string>;
}

/** The `artifacts` table as version 1 of its migrations created it (kept for that migration's checksum). */
export const artifactsTableV1: TableDefinition = defineTable({
  name: "artifacts",
  columns: {
    parent_id: { type: "ulid", nullable: true, references: { table: "artifacts", onDelete: "set null" } },
    level: { type: "integer", indexed: true },
    data: { type: "json" },
  },
});

/** The `artifacts` table (see {@link Artifact}). */
export const artifactsTable: TableDefinition = Artifact.table;

/** The `artifacts` table of a service that opts in to full-text search over `data` (`withArtifacts({ searchable: true })`). */
export const searchableArtifactsTable: TableDefinition = defineTable({ ...artifactsTable, searchable: ["data"] });

/** The TypeBox type of `ArtifactIn` (seed profile). */
export type ArtifactInSchema = ArtifactViews["seed"]["input"];

/** The TypeBox type of `ArtifactOut` (seed profile). */
export type ArtifactOutSchema = ArtifactViews["seed"]["output"];

/** The input schema of an artifact (`ArtifactIn`, seed profile). */
export const ArtifactInSchema: ArtifactInSchema = Artifact.views.seed.input;

/** The output schema of an artifact (`ArtifactOut`, seed profile). */
export const ArtifactOutSchema: ArtifactOutSchema = Artifact.views.seed.output;
