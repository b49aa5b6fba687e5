/** Renders an entity (one `defineEntity` definition) and its test from field specs or a JSON Schema. */
import { CliExit } from "../context.ts";

/** A field of a generated entity. */
export interface FieldSpec {
  name: string;
  /** One of {@link FIELD_TYPES}. */
  type: string;
  optional: boolean;
  unique: boolean;
}

const TYPEBOX: Record<string, string> = {
  string: "Type.String()",
  text: "Type.String()",
  integer: "Type.Integer()",
  number: "Type.Number()",
  boolean: "Type.Boolean()",
  datetime: 'Type.String({ format: "date-time" })',
  date: 'Type.String({ format: "date" })',
  json: "Type.Object({}, { additionalProperties: true })",
  array: "Type.Array(Type.String())",
};

const ALIASES: Record<string, string> = { int: "integer", float: "number", bool: "boolean", object: "json", timestamp: "datetime" };

/** The field types `field:type` accepts (and their aliases int, float, bool, object, timestamp). */
export const FIELD_TYPES: readonly string[] = Object.keys(TYPEBOX);

const IDENT = /^[a-z_][a-z0-9_]*$/;

/**
 * Parses `name:type[?][:unique]` (`?` makes it optional), e.g. `title:string:unique`, `stars:int?`.
 *
 * @throws {CliExit} (2) on an unknown type or a name that is not snake_case.
 */
export function parseFieldSpec(spec: string): FieldSpec {
  const [name = "", rawType = "string", ...flags] = spec.split(":");
  const optional = rawType.endsWith("?");
  const base = rawType.replace(/\?$/, "").toLowerCase();
  const type = ALIASES[base] ?? base;
  if (!IDENT.test(name)) throw new CliExit(2, `field "${spec}": the name must be snake_case letters, digits and _`);
  if (!(type in TYPEBOX)) throw new CliExit(2, `field "${spec}": unknown type "${base}" (known: ${FIELD_TYPES.join(", ")})`);
  const unknown = flags.filter((flag) => flag !== "unique");
  if (unknown.length) throw new CliExit(2, `field "${spec}": unknown flag "${unknown[0]}" (known: unique)`);
  return { name, type, optional, unique: flags.includes("unique") };
}

/** The fields of a JSON Schema object: types from `type`/`format`, required ones not optional. */
export function fieldsFromJsonSchema(schema: Record<string, unknown>): FieldSpec[] {
  const properties = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).filter(([name]) => !["id", "created_at", "updated_at"].includes(name)).map(([name, prop]) => {
    const raw = Array.isArray(prop.type) ? prop.type.find((t) => t !== "null") : prop.type;
    const type = raw === "string" && prop.format === "date-time"
      ? "datetime"
      : raw === "string" && prop.format === "date"
      ? "date"
      : raw === "object"
      ? "json"
      : typeof raw === "string" && raw in TYPEBOX
      ? raw
      : "json";
    return parseFieldSpec(`${name}:${type}${required.has(name) ? "" : "?"}`);
  });
}

/** `note` → `Note`, `lab_result` → `LabResult`. */
export function pascalName(name: string): string {
  return name.split(/[^A-Za-z0-9]+/).filter(Boolean).map((w) => w[0]!.toUpperCase() + w.slice(1)).join("");
}

/** A naive English plural in snake_case: `note` → `notes`, `box` → `boxes`, `study` → `studies`. */
export function tableName(name: string): string {
  const snake = name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").replace(/[^A-Za-z0-9]+/g, "_").toLowerCase();
  if (/[^aeiou]y$/.test(snake)) return `${snake.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/.test(snake)) return `${snake}es`;
  return `${snake}s`;
}

function sample(field: FieldSpec): string {
  switch (field.type) {
    case "integer":
      return "n";
    case "number":
      return "n + 0.5";
    case "boolean":
      return "n % 2 === 0";
    case "datetime":
      return "new Date(Date.UTC(2026, 0, n)).toISOString()";
    case "date":
      return "`2026-01-${String(n).padStart(2, \"0\")}`";
    case "json":
      return "{ n }";
    case "array":
      return "[`item-${n}`]";
    default:
      return `\`${field.name}-\${n}\``;
  }
}

/** `entities/<table>.ts`: the definition. */
export function entitySource(name: string, table: string, fields: FieldSpec[]): string {
  const type = pascalName(name);
  const usesField = fields.some((f) => f.unique);
  const lines = fields.map((f) => {
    let schema = TYPEBOX[f.type]!;
    if (f.unique) schema = `field(${schema}, { unique: true })`;
    if (f.optional) schema = `Type.Optional(${schema})`;
    return `    ${f.name}: ${schema},`;
  });
  return `import { Type } from "@sinclair/typebox";
import { defineEntity${usesField ? ", field" : ""} } from "chapkit";

/**
 * ${type}: one definition gives the table, its migration, the input and output
 * schemas, the manager and the routes. Serve it with \`builder.withEntity(${type})\`
 * (CRUD, filters, sort, search and bulk operations under /api/v1/${table}).
 */
export const ${type} = defineEntity({
  table: "${table}",
  name: "${type}",
  fields: {
${lines.join("\n")}
  },
});
`;
}

/** `entities/<table>.test.ts`: CRUD and validation through the in-process test client. */
export function entityTestSource(name: string, table: string, fields: FieldSpec[]): string {
  const type = pascalName(name);
  const required = fields.filter((f) => !f.optional);
  const defaults = fields.map((f) => `${f.name}: ${sample(f)}`).join(", ");
  const first = fields[0];
  const validation = required.length
    ? `
test("refuses a ${name} without its required fields with 422", async () => {
  const { status } = await client.post("/api/v1/${table}", {});
  assert.equal(status, 422);
});
`
    : "";
  return `import assert from "node:assert/strict";
import { after, test } from "node:test";
import { ServiceBuilder } from "chapkit";
import { factory, testClient } from "chapkit/testing";
import { ${type} } from "./${table}.ts";

const client = await testClient(
  new ServiceBuilder({ info: { display_name: "${type} test" }, databaseUrl: "sqlite::memory:" }).withEntity(${type}),
);
after(() => client.close());

const ${table} = factory((n) => ({ ${defaults} }));

test("creates, reads, lists and deletes a ${name}", async () => {
  const input = ${table}.build();
  const created = await client.post("/api/v1/${table}", input);
  assert.equal(created.status, 201);
  ${first ? `assert.deepEqual(created.body.${first.name}, input.${first.name});` : ""}
  const read = await client.get(\`/api/v1/${table}/\${created.body.id}\`);
  assert.equal(read.body.id, created.body.id);
  const listed = await client.get("/api/v1/${table}");
  assert.ok(listed.body.some((row: { id: string }) => row.id === created.body.id));
  assert.equal((await client.delete(\`/api/v1/${table}/\${created.body.id}\`)).status, 204);
  assert.equal((await client.get(\`/api/v1/${table}/\${created.body.id}\`)).status, 404);
});
${validation}`;
}
