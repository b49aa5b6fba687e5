import { type TInteger, type TNull, type TObject, type TOptional, type TString, type TUnion, type TUnknown, Type } from "@sinclair/typebox";
import { defineTable, type EntityRecord, type TableDefinition } from "../../core/entity.ts";
import { type EntityBaseProperties, entityInputSchema, entityOutputSchema, UlidSchema } from "../../core/schema.ts";

/** A stored artifact row. */
export interface ArtifactRecord extends EntityRecord {
  /** Any JSON value but null. */
  data: unknown;
  /** The parent artifact, or null for a root. */
  parent_id: string | null;
  /** Depth in its tree, computed by the server: root 0, child 1 … */
  level: number;
  /** Tags (chap profile); null when written without tags. */
  tags?: string[] | null;
}

/** An artifact as the API answers it: `id`, `created_at`, `updated_at`, `data`, `parent_id`, `level`. */
export interface ArtifactOut {
  /** ULID. */
  id: string;
  /** ISO 8601 UTC creation time. */
  created_at: string;
  /** ISO 8601 UTC time of the last change. */
  updated_at: string;
  /** Tags (chap profile only, between `updated_at` and `data`). */
  tags?: string[];
  /** Any JSON value; payload references render as placeholders. */
  data: unknown;
  /** The parent artifact, or null for a root. */
  parent_id: string | null;
  /** Depth in its tree (root 0). */
  level: number;
}

/** What a client sends to create or update an artifact (`level` is ignored). */
export interface ArtifactIn {
  /** A client-chosen ULID; an existing one makes a create an update. */
  id?: string;
  /** Any JSON value but null. */
  data: unknown;
  /** The parent; null makes (or keeps) it a root, absent keeps the current parent on update. */
  parent_id?: string | null;
  /** Tags (chap profile only; absent keeps them on update). */
  tags?: string[];
}

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

/** The `artifacts` table (with `tags`, null when written without tags); binary payloads live in `artifact_payloads`. */
export const artifactsTable: TableDefinition = defineTable({
  name: "artifacts",
  columns: {
    parent_id: { type: "ulid", nullable: true, references: { table: "artifacts", onDelete: "set null" } },
    level: { type: "integer", indexed: true },
    data: { type: "json" },
    tags: { type: "json", nullable: true },
  },
});

/** The `artifacts` table of a service that opts in to full-text search over `data` (`withArtifacts({ searchable: true })`). */
export const searchableArtifactsTable: TableDefinition = defineTable({ ...artifactsTable, searchable: ["data"] });

/** The TypeBox type of `ArtifactIn`. */
export type ArtifactInSchema = TObject<{
  id: TOptional<TString>;
  data: TUnknown;
  parent_id: TOptional<TUnion<[TString, TNull]>>;
}>;

/** The TypeBox type of `ArtifactOut`. */
export type ArtifactOutSchema = TObject<
  EntityBaseProperties & { data: TUnknown; parent_id: TUnion<[TString, TNull]>; level: TInteger }
>;

/** The input schema of an artifact (`ArtifactIn`). */
export const ArtifactInSchema: ArtifactInSchema = entityInputSchema("ArtifactIn", {
  data: Type.Unknown({ description: "Any JSON value but null" }),
  parent_id: Type.Optional(Type.Union([UlidSchema, Type.Null()])),
});

/** The output schema of an artifact (`ArtifactOut`). */
export const ArtifactOutSchema: ArtifactOutSchema = entityOutputSchema("ArtifactOut", {
  data: Type.Unknown(),
  parent_id: Type.Union([UlidSchema, Type.Null()]),
  level: Type.Integer({ minimum: 0 }),
});
