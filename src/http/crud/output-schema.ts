import type { TObject, TSchema } from "@sinclair/typebox";
import { toJsonSchema } from "../route-doc.ts";

/**
 * The JSON Schema served at `GET {prefix}/$schema`: the output model, with
 * the schemas of nested data properties moved under `$defs` and referenced
 * (e.g. a config's `data` → `{"$ref": "#/$defs/DiseaseConfig"}`).
 *
 * @param nested property name → its schema; the `$defs` key is the schema's
 *   `title`, or the property name when it has none.
 */
export function outputSchemaDocument(
  output: TObject,
  nested: Record<string, TSchema> = {},
): Record<string, unknown> {
  const document = toJsonSchema(output);
  const properties = (document.properties ?? {}) as Record<string, unknown>;
  const defs: Record<string, unknown> = {};
  for (const [property, schema] of Object.entries(nested)) {
    const name = typeof schema.title === "string" && schema.title !== "" ? schema.title : property;
    defs[name] = toJsonSchema(schema);
    properties[property] = { $ref: `#/$defs/${name}` };
  }
  if (Object.keys(defs).length === 0) return document;
  return { $defs: defs, ...document, properties };
}
