import { type TObject, type TSchema, Type } from "@sinclair/typebox";
import { entityView } from "../../core/entity-definition.ts";
import { Config, type ConfigViews } from "./schema.ts";

/** `prediction_periods` when the config schema does not declare it: chapkit scaffolds default it to 3. */
export const DEFAULT_PREDICTION_PERIODS = 3;

/**
 * The config data schema of the chap profile (chapkit 1.x `BaseConfig`): the
 * reserved `prediction_periods` (integer, default 3 unless the schema declares
 * it) and `additional_continuous_covariates` (strings, default `[]`) first,
 * then the schema's own fields; undeclared keys are kept.
 */
export function chapConfigDataSchema(schema: TObject): TObject {
  const { properties: _p, required: _r, type: _t, ...rest } = schema as unknown as Record<string, unknown>;
  return Type.Object({
    prediction_periods: Type.Integer({ default: DEFAULT_PREDICTION_PERIODS, title: "Prediction Periods" }),
    additional_continuous_covariates: Type.Array(Type.String(), { default: [], title: "Additional Continuous Covariates" }),
    ...schema.properties,
  }, { ...rest, additionalProperties: schema.additionalProperties ?? true });
}

/** `ConfigIn` of the chap profile: optional `id`, `name`, `data`, optional `tags`. */
export function chapConfigInputSchema(data: TObject): ConfigViews["chap"]["input"] {
  return entityView(Config, "chap", { data }).input;
}

/** `ConfigOut` of the chap profile: `id, created_at, updated_at, tags, name, data`. */
export function chapConfigOutputSchema(data: TObject): ConfigViews["chap"]["output"] {
  return entityView(Config, "chap", { data }).output;
}

function plain(schema: TSchema): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}

/**
 * The bare config-class schema `GET /api/v1/configs/$schema` answers
 * (chapkit 1.x): the data schema itself, not the `ConfigOut` wrapper, with
 * fields that have a default left out of `required`. chap-core reads its
 * top-level `properties` as the model's user options.
 */
export function bareConfigSchema(data: TObject): Record<string, unknown> {
  const document = plain(data);
  const properties = (document.properties ?? {}) as Record<string, { default?: unknown }>;
  const required = (document.required as string[] | undefined)?.filter((key) => properties[key]?.default === undefined);
  if (required && required.length > 0) document.required = required;
  else delete document.required;
  return document;
}
