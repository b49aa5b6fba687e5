/** The operations of an OpenAPI document, named and shaped for client generators. */

/** A JSON Schema node as OpenAPI 3.1 carries it. */
export type JsonSchema = Record<string, unknown>;

/** The parts of an OpenAPI document the generators read. */
export interface OpenApiDocument {
  info?: { title?: string; version?: string };
  paths?: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

interface OpenApiOperation {
  summary?: string;
  parameters?: { name: string; in: string; required?: boolean; schema?: JsonSchema }[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: JsonSchema }> };
  responses?: Record<string, { content?: Record<string, { schema?: JsonSchema }> }>;
}

/** One operation: its generated name, path parameters in order, query parameters, body and answer schemas. */
export interface Operation {
  /** camelCase, e.g. `createConfig`, `getConfig`, `listConfig`, `postMlTrain`. */
  name: string;
  method: string;
  path: string;
  summary?: string;
  pathParams: string[];
  queryParams: { name: string; schema: JsonSchema }[];
  /** The JSON body's schema; undefined when the operation takes none. */
  body?: JsonSchema;
  /** The content type of a non-JSON body (e.g. `$upload`), sent as raw bytes. */
  rawBody?: boolean;
  /** The 2xx JSON answer's schema; undefined for no content. */
  response?: JsonSchema;
}

const METHODS = ["get", "post", "put", "patch", "delete"];

function words(text: string): string[] {
  return text.split(/[^A-Za-z0-9]+/).filter(Boolean);
}

function pascal(parts: string[]): string {
  return parts.map((w) => w[0]!.toUpperCase() + w.slice(1)).join("");
}

/** `createConfig` → `create_config`. */
export function snakeCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
}

function nameOf(method: string, path: string, collections: Set<string>): string {
  const segments = path.replace(/^\/api\/v\d+/, "").split("/").filter(Boolean);
  const last = segments.at(-1) ?? "";
  const nouns = segments.filter((s) => !s.startsWith("{")).flatMap((s) => words(s.replace(/^\$/, "")));
  let verb = method;
  if (!last.startsWith("$")) {
    if (last.startsWith("{")) verb = ({ get: "get", put: "update", patch: "patch", delete: "delete" } as Record<string, string>)[method] ?? method;
    else if (collections.has(path)) verb = ({ get: "list", post: "create" } as Record<string, string>)[method] ?? method;
  }
  return verb + pascal(nouns.length ? nouns : ["root"]);
}

function jsonSchemaOf(content: Record<string, { schema?: JsonSchema }> | undefined): JsonSchema | undefined {
  if (!content) return undefined;
  const json = Object.entries(content).find(([type]) => type.includes("json"));
  return json ? json[1].schema ?? {} : undefined;
}

/** Every operation of `document`, in path order, with unique names. */
export function operationsOf(document: OpenApiDocument): Operation[] {
  const paths = document.paths ?? {};
  const collections = new Set(
    Object.keys(paths).flatMap((path) => (/\/\{[^}]+\}$/.test(path) ? [path.replace(/\/\{[^}]+\}$/, "")] : [])),
  );
  const seen = new Map<string, number>();
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      let name = nameOf(method, path, collections);
      const count = (seen.get(name) ?? 0) + 1;
      seen.set(name, count);
      if (count > 1) name += count;
      const parameters = op.parameters ?? [];
      const pathParams = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
      const content = op.requestBody?.content;
      const body = jsonSchemaOf(content);
      const success = Object.entries(op.responses ?? {}).find(([status]) => /^2\d\d$/.test(status));
      const operation: Operation = {
        name,
        method: method.toUpperCase(),
        path,
        pathParams,
        queryParams: parameters.filter((p) => p.in === "query").map((p) => ({ name: p.name, schema: p.schema ?? {} })),
      };
      if (op.summary) operation.summary = op.summary;
      if (body) operation.body = body;
      else if (content && Object.keys(content).length > 0) operation.rawBody = true;
      else if (path.endsWith("/$upload")) operation.rawBody = true;
      const response = jsonSchemaOf(success?.[1].content);
      if (response && success?.[0] !== "204") operation.response = response;
      operations.push(operation);
    }
  }
  return operations;
}

/**
 * Collects the named object types of the operations' schemas: every object
 * schema with a `title` (or a `$ref` to `components.schemas`) becomes one
 * named type; a title used for different shapes gets a numbered name.
 */
export class NamedTypes {
  readonly types = new Map<string, JsonSchema>();
  readonly #byJson = new Map<string, string>();
  readonly #document: OpenApiDocument;

  constructor(document: OpenApiDocument) {
    this.#document = document;
  }

  /** Follows a `#/components/schemas/X` reference. */
  resolve(schema: JsonSchema): JsonSchema {
    const ref = schema.$ref;
    if (typeof ref === "string" && ref.startsWith("#/components/schemas/")) {
      return this.#document.components?.schemas?.[ref.slice("#/components/schemas/".length)] ?? {};
    }
    return schema;
  }

  /** The type name for an object schema worth naming, registering it; undefined for others. */
  nameFor(schema: JsonSchema): string | undefined {
    const ref = schema.$ref;
    const resolved = this.resolve(schema);
    const title = typeof ref === "string" ? ref.split("/").pop() : resolved.title;
    if (typeof title !== "string" || resolved.type !== "object" || !resolved.properties) return undefined;
    const key = JSON.stringify(resolved);
    const known = this.#byJson.get(key);
    if (known) return known;
    const base = pascal(words(title)) || "Model";
    let name = base;
    for (let i = 2; this.types.has(name); i++) name = `${base}${i}`;
    this.types.set(name, resolved);
    this.#byJson.set(key, name);
    return name;
  }
}

/** Whether a property name is a plain identifier in TypeScript, Python and Go alike. */
export function isIdentifier(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}
