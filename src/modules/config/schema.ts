import {
  type Static,
  type TArray,
  type TObject,
  type TOptional,
  type TRecord,
  type TSchema,
  type TString,
  type TUnknown,
  Type,
} from "@sinclair/typebox";
import { defineTable, type TableDefinition } from "../../core/entity.ts";
import { defineEntity, type EntityDefinition, type EntityRecordOf, type EntityView, entityView, field } from "../../core/entity-definition.ts";
import type { EntityBaseProperties } from "../../core/schema.ts";
import { TagsSchema } from "../../core/tags.ts";

type ConfigFields = {
  name: TString;
  data: TRecord<TString, TUnknown>;
  tags: TOptional<typeof TagsSchema>;
};

/** The views of a config: the seed profile's and the chap profile's (with `tags`, before `name`). */
export type ConfigViews = {
  seed: EntityView<Pick<ConfigFields, "name" | "data">>;
  chap: EntityView<ConfigFields, { tags: TArray<TString> }>;
};

/**
 * The config entity, defined once: the `configs` table (an indexed `name`,
 * JSON `data`, JSON `tags` null for rows written without tags) and the
 * `ConfigIn`/`ConfigOut` schemas of each profile. Names are not unique in
 * the table: the seed path refuses duplicates in its own transaction, the
 * chap profile's `/api/v1/configs` accepts them. `data` is any JSON object
 * here; each service puts its own config schema in its place
 * ({@link configInputSchema}).
 */
export const Config: EntityDefinition<ConfigFields, "configs", ConfigViews> = defineEntity({
  table: "configs",
  name: "Config",
  fields: {
    name: field(Type.String(), { indexed: true }),
    data: Type.Record(Type.String(), Type.Unknown()),
    tags: Type.Optional(TagsSchema),
  },
  views: {
    seed: { fields: ["name", "data"] },
    chap: { fields: ["tags", "name", "data"], output: { tags: Type.Array(Type.String()) } },
  },
  searchable: ["name", "data"],
});

/** A stored config row: `name`, `data` (declared fields first, with defaults, then extras), `tags` (null when written without tags). */
export type ConfigRecord = EntityRecordOf<typeof Config>;

/**
 * A config as the API answers it: `id`, `created_at`, `updated_at`, `name`,
 * `data`; `tags` (between `updated_at` and `name`) in the chap profile only.
 * `Data` is the type of the service's config schema (`Static<typeof schema>`).
 */
export type ConfigOut<Data = Record<string, unknown>> = Omit<Static<ConfigOutSchema>, "data"> & { data: Data; tags?: string[] };

/** The `configs` table (see {@link Config}). */
export const configsTable: TableDefinition = Config.table;

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
export type ConfigInSchema = ConfigViews["seed"]["input"];

/** The TypeBox type of `ConfigOut`, its `data` of the schema `D` (default: any JSON object). */
export type ConfigOutSchema<D extends TSchema = ConfigFields["data"]> = TObject<EntityBaseProperties & { name: TString; data: D }>;

/** The input schema of a config (`ConfigIn`): optional `id`, `name`, `data` of the service's schema. */
export function configInputSchema(data: TObject): ConfigInSchema {
  return entityView(Config, "seed", { data }).input;
}

/** The output schema of a config (`ConfigOut`), its `data` the service's schema. */
export function configOutputSchema<D extends TObject>(data: D): ConfigOutSchema<D> {
  return entityView(Config, "seed", { data }).output as unknown as ConfigOutSchema<D>;
}
