import { type TObject, type TOptional, type TSchema, type TString, Type } from "@sinclair/typebox";
import { type EntityRecord, defineTable, type TableDefinition } from "../../core/entity.ts";
import { type EntityBaseProperties, entityInputSchema, entityOutputSchema } from "../../core/schema.ts";

/** A stored config row. */
export interface ConfigRecord extends EntityRecord {
  /** Unique name. */
  name: string;
  /** The config data, declared fields first (with defaults), then extras. */
  data: Record<string, unknown>;
  /** Tags (chap profile); null when written without tags. */
  tags?: string[] | null;
}

/** A config as the API answers it: `id`, `created_at`, `updated_at`, `name`, `data`. */
export interface ConfigOut {
  /** ULID. */
  id: string;
  /** ISO 8601 UTC creation time. */
  created_at: string;
  /** ISO 8601 UTC time of the last change. */
  updated_at: string;
  /** Tags (chap profile only, between `updated_at` and `name`). */
  tags?: string[];
  /** Unique name. */
  name: string;
  /** Validated data: declared fields first (with defaults), then extras. */
  data: Record<string, unknown>;
}

/**
 * The `configs` table: an indexed `name`, a JSON `data` column and JSON
 * `tags` (null for rows written without tags). Names are not unique in the
 * table: the seed path refuses duplicates in its own transaction, the chap
 * profile's `/api/v1/configs` accepts them.
 */
export const configsTable: TableDefinition = defineTable({
  name: "configs",
  columns: {
    name: { type: "text", indexed: true },
    data: { type: "json" },
    tags: { type: "json", nullable: true },
  },
  searchable: ["name", "data"],
});

/** The table as version 1 of the `config` migrations created it (kept for that migration's checksum). */
export const configsTableV1: TableDefinition = defineTable({
  name: "configs",
  columns: {
    name: { type: "text", unique: true },
    data: { type: "json" },
  },
});

/** The title a config data schema goes by in `$defs` (its `title`, or `Config`). */
export function configSchemaTitle(schema: TSchema): string {
  return typeof schema.title === "string" && schema.title.length > 0 ? schema.title : "Config";
}

/**
 * The user's config data schema as the module uses it: an object schema that
 * keeps undeclared keys (`additionalProperties: true` unless the schema says
 * otherwise) and carries a title.
 *
 * @throws {TypeError} when the schema does not describe an object.
 */
export function normalizeConfigSchema(schema: TSchema): TObject {
  if (schema.type !== "object") throw new TypeError("A config schema must be a TypeBox object schema (Type.Object)");
  const object = schema as TObject;
  if (object.additionalProperties !== undefined && object.title !== undefined) return object;
  return Type.Object(object.properties ?? {}, {
    ...withoutSymbols(object),
    title: configSchemaTitle(object),
    additionalProperties: object.additionalProperties ?? true,
  });
}

function withoutSymbols(schema: TObject): Record<string, unknown> {
  const { properties: _p, required: _r, type: _t, ...rest } = schema as unknown as Record<string, unknown>;
  return rest;
}

/** The TypeBox type of `ConfigIn`. */
export type ConfigInSchema = TObject<{ id: TOptional<TString>; name: TString; data: TObject }>;

/** The TypeBox type of `ConfigOut`. */
export type ConfigOutSchema = TObject<EntityBaseProperties & { name: TString; data: TObject }>;

/** The input schema of a config (`ConfigIn`): optional `id`, `name`, `data`. */
export function configInputSchema(data: TObject): ConfigInSchema {
  return entityInputSchema("ConfigIn", { name: Type.String(), data });
}

/** The output schema of a config (`ConfigOut`). */
export function configOutputSchema(data: TObject): ConfigOutSchema {
  return entityOutputSchema("ConfigOut", { name: Type.String(), data });
}
