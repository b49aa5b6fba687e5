/** Builds a value that satisfies a (simple) JSON Schema, for checks that must create data. */

type Schema = Record<string, unknown>;

function resolve(schema: Schema, root: Schema): Schema {
  const ref = schema.$ref;
  if (typeof ref !== "string" || !ref.startsWith("#/")) return schema;
  let node: unknown = root;
  for (const part of ref.slice(2).split("/")) node = (node as Schema | undefined)?.[part];
  return (node as Schema | undefined) ?? {};
}

/**
 * A value for `schema`: its default or first enum/example value when it has one,
 * otherwise the smallest value of its type that meets its bounds; objects carry
 * their required properties only.
 */
export function sampleValue(schema: Schema, root: Schema = schema): unknown {
  const node = resolve(schema, root);
  if ("default" in node) return node.default;
  if ("const" in node) return node.const;
  if (Array.isArray(node.enum) && node.enum.length > 0) return node.enum[0];
  if (Array.isArray(node.examples) && node.examples.length > 0) return node.examples[0];
  const variants = (node.anyOf ?? node.oneOf) as Schema[] | undefined;
  if (Array.isArray(variants) && variants.length > 0) return sampleValue(variants[0]!, root);
  const type = Array.isArray(node.type) ? node.type.find((t) => t !== "null") : node.type;
  switch (type) {
    case "string": {
      const min = Number(node.minLength ?? 0);
      return "x".repeat(Math.max(min, 1));
    }
    case "integer":
    case "number": {
      const min = node.minimum ?? node.exclusiveMinimum;
      return typeof min === "number" ? (node.exclusiveMinimum !== undefined ? min + 1 : min) : 1;
    }
    case "boolean":
      return false;
    case "array": {
      const min = Number(node.minItems ?? 0);
      const items = (node.items ?? {}) as Schema;
      return Array.from({ length: min }, () => sampleValue(items, root));
    }
    case "null":
      return null;
    default: {
      const properties = (node.properties ?? {}) as Record<string, Schema>;
      const required = Array.isArray(node.required) ? node.required as string[] : [];
      const value: Record<string, unknown> = {};
      for (const key of required) value[key] = sampleValue(properties[key] ?? {}, root);
      return value;
    }
  }
}
