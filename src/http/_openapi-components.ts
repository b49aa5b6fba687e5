/**
 * Makes an OpenAPI document fit for client generators: every titled schema
 * (`NoteIn`, `NoteOut`, `Problem`, `PaginatedResponse`…) moves to
 * `components.schemas` under its title and is referenced with `$ref`, and
 * every JSON request body and success answer gets an example (its schema's
 * own, else one built from the schema), as do other success answers with a
 * schema (an event stream gets an example event) and every parameter.
 */

type Json = Record<string, unknown>;

const METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);
const REF = "#/components/schemas/";
/** The id used in examples. */
const EXAMPLE_ID = "01K79YAHJ7BR4E87VVTG8FNBMA";

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Moves titled schemas into `schemas`, returning the schema with `$ref`s in their place. */
function extract(schema: unknown, schemas: Record<string, Json>, texts: Map<string, string>): unknown {
  if (Array.isArray(schema)) return schema.map((item) => extract(item, schemas, texts));
  if (!isObject(schema)) return schema;
  const out: Json = {};
  // `default`, `example`… are values in a schema but a response or a map entry elsewhere (`responses.default`).
  const literal = "type" in schema || "anyOf" in schema || "oneOf" in schema || "allOf" in schema || "$ref" in schema;
  for (const [key, value] of Object.entries(schema)) {
    // Keys under `properties` (and `$defs`) name fields, not schema keywords: their values are schemas.
    out[key] = key === "properties" || key === "$defs" || key === "patternProperties"
      ? Object.fromEntries(Object.entries(isObject(value) ? value : {}).map(([name, item]) => [name, extract(item, schemas, texts)]))
      : key === "example" || (literal && (key === "examples" || key === "default" || key === "const" || key === "enum"))
      ? value
      : extract(value, schemas, texts);
  }
  const title = out.title;
  if (typeof title !== "string" || !/^[A-Za-z0-9._-]+$/.test(title) || "$ref" in out) return out;
  const text = JSON.stringify(out);
  let name = title;
  for (let n = 2; texts.has(name) && texts.get(name) !== text; n++) name = `${title}${n}`;
  texts.set(name, text);
  schemas[name] = out;
  return { $ref: `${REF}${name}` };
}

/** A value that fits a schema, for documentation: its example or default, else one built from its type. */
export function exampleOf(schema: unknown, schemas: Record<string, Json> = {}, depth = 0): unknown {
  if (!isObject(schema) || depth > 8) return null;
  if (typeof schema.$ref === "string" && schema.$ref.startsWith(REF)) return exampleOf(schemas[schema.$ref.slice(REF.length)], schemas, depth + 1);
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  if ("example" in schema) return schema.example;
  if ("default" in schema) return schema.default;
  if ("const" in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  const variants = (schema.anyOf ?? schema.oneOf) as unknown[] | undefined;
  if (Array.isArray(variants)) {
    const first = variants.find((variant) => !(isObject(variant) && variant.type === "null")) ?? variants[0];
    return exampleOf(first, schemas, depth + 1);
  }
  if (Array.isArray(schema.allOf)) return Object.assign({}, ...schema.allOf.map((part) => exampleOf(part, schemas, depth + 1) as object));
  switch (schema.type) {
    case "string":
      return schema.format === "date-time" ? "2026-01-01T00:00:00.000Z" : /ulid|^id$/i.test(String(schema.title ?? schema.description ?? ""))
        ? EXAMPLE_ID
        : "string";
    case "integer":
      return typeof schema.minimum === "number" ? schema.minimum : 0;
    case "number":
      return typeof schema.minimum === "number" ? schema.minimum : 0;
    case "boolean":
      return true;
    case "null":
      return null;
    case "array":
      return [exampleOf(schema.items, schemas, depth + 1)];
    case "object": {
      const properties = isObject(schema.properties) ? schema.properties : {};
      const required = new Set(Array.isArray(schema.required) ? schema.required : Object.keys(properties));
      const example: Json = {};
      for (const [name, property] of Object.entries(properties)) {
        if (required.has(name)) example[name] = name === "id" ? EXAMPLE_ID : exampleOf(property, schemas, depth + 1);
      }
      return example;
    }
    default:
      return {};
  }
}

function addExamples(content: unknown, schemas: Record<string, Json>, all = false): void {
  if (!isObject(content)) return;
  for (const [type, media] of Object.entries(content)) {
    if (!isObject(media) || "example" in media || "examples" in media) continue;
    if (type.includes("json")) media.example = exampleOf(media.schema, schemas);
    else if (!all || !("schema" in media)) continue;
    else if (type === "text/event-stream" && !hinted(media.schema)) media.example = `id: ${EXAMPLE_ID}\ndata: {}\n\n`;
    else media.example = exampleOf(media.schema, schemas);
  }
}

/** Whether a schema names its own example values. */
function hinted(schema: unknown): boolean {
  return isObject(schema) && (Array.isArray(schema.examples) || "example" in schema || "default" in schema || "const" in schema || "enum" in schema);
}

/**
 * An example for a parameter: its schema's example or default, an id for an
 * id, else (path parameters only: an optional query parameter is better left
 * empty than filled with a placeholder) one built from its type.
 */
function addParameterExample(parameter: unknown, schemas: Record<string, Json>): void {
  if (!isObject(parameter) || "example" in parameter || "examples" in parameter || "content" in parameter) return;
  const schema = isObject(parameter.schema) ? parameter.schema : {};
  const named = typeof parameter.name === "string" ? parameter.name : "";
  if (hinted(schema)) parameter.example = exampleOf(schema, schemas);
  else if (schema.type === "string" && /(^|_)id$/.test(named)) parameter.example = EXAMPLE_ID;
  else if (parameter.in === "path") parameter.example = exampleOf(schema, schemas);
}

/** The document with named component schemas and examples (the input is left unchanged). */
export function forClientGenerators(document: Json): Json {
  const components = isObject(document.components) ? { ...document.components } : {};
  const schemas: Record<string, Json> = isObject(components.schemas) ? { ...components.schemas as Record<string, Json> } : {};
  const texts = new Map<string, string>(Object.entries(schemas).map(([name, schema]) => [name, JSON.stringify(schema)]));
  const paths = extract(document.paths ?? {}, schemas, texts) as Record<string, Json>;
  for (const item of Object.values(paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (!METHODS.has(method) || !isObject(operation)) continue;
      if (isObject(operation.requestBody)) addExamples(operation.requestBody.content, schemas);
      const responses = isObject(operation.responses) ? operation.responses : {};
      for (const [status, response] of Object.entries(responses)) {
        if (status.startsWith("2") && isObject(response)) addExamples(response.content, schemas, true);
      }
      if (Array.isArray(operation.parameters)) for (const parameter of operation.parameters) addParameterExample(parameter, schemas);
    }
  }
  return { ...document, paths, components: { ...components, schemas } };
}
