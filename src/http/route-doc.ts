import { type TObject, type TSchema, Type } from "@sinclair/typebox";

/** TypeBox schema of an RFC 9457 problem body as chapkit writes it. */
export const ProblemSchema: TObject = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
  instance: Type.Optional(Type.String()),
  errors: Type.Optional(Type.Array(Type.Object({
    loc: Type.Array(Type.Union([Type.String(), Type.Integer()])),
    msg: Type.String(),
    type: Type.String(),
  }))),
}, { title: "Problem" });

/** What the OpenAPI document says about one route. */
export interface RouteDoc {
  /** One-line summary. */
  summary: string;
  /** Tags grouping the route. */
  tags: string[];
  /** Longer description. */
  description?: string;
  /** JSON request body. */
  body?: TSchema;
  /** Query parameters (an object schema, one property per parameter). */
  query?: TObject;
  /** Success response body; omit for an empty response. */
  response?: TSchema;
  /** Success status (default 200). */
  status?: number;
  /** Media type of the success response (default `application/json`). */
  responseType?: string;
}

/** A plain JSON Schema copy of a TypeBox schema (symbol keys dropped). */
export function toJsonSchema(schema: TSchema): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}

/**
 * The OpenAPI `detail` of a route: summary, tags, request body, query
 * parameters and responses (success plus the problem body for errors).
 * Schemas are documented, not enforced: handlers validate with chapkit's
 * own validator so errors carry the contract's `{loc, msg, type}` entries.
 */
export function routeDetail(doc: RouteDoc): Record<string, unknown> {
  const status = String(doc.status ?? 200);
  const success: Record<string, unknown> = { description: status === "204" ? "No Content" : "Successful Response" };
  if (doc.response) {
    success.content = { [doc.responseType ?? "application/json"]: { schema: toJsonSchema(doc.response) } };
  }
  const detail: Record<string, unknown> = {
    summary: doc.summary,
    tags: doc.tags,
    responses: {
      [status]: success,
      default: {
        description: "Problem (RFC 9457)",
        content: { "application/problem+json": { schema: toJsonSchema(ProblemSchema) } },
      },
    },
  };
  if (doc.description) detail.description = doc.description;
  if (doc.body) {
    detail.requestBody = { required: true, content: { "application/json": { schema: toJsonSchema(doc.body) } } };
  }
  if (doc.query) {
    const required = new Set(doc.query.required ?? []);
    detail.parameters = Object.entries(doc.query.properties).map(([name, schema]) => ({
      name,
      in: "query",
      required: required.has(name),
      schema: toJsonSchema(schema),
    }));
  }
  return detail;
}
