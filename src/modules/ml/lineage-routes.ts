import { Type } from "@sinclair/typebox";
import { type AnyElysia, Elysia } from "elysia";
import { NotFoundError } from "../../core/errors.ts";
import { mountOperation } from "../../http/crud/operation.ts";
import type { Lineage } from "./lineage.ts";

const LineageQuery = Type.Object({
  depth: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10, description: "Hops walked each way" })),
});

const LineageGraphSchema = Type.Object({
  artifact: Type.Object({}, { additionalProperties: true }),
  upstream: Type.Array(Type.Object({}, { additionalProperties: true })),
  downstream: Type.Array(Type.Object({}, { additionalProperties: true })),
  edges: Type.Array(Type.Object({ from: Type.String(), to: Type.String(), role: Type.String() })),
  truncated: Type.Boolean(),
}, { title: "LineageGraph" });

/**
 * `GET {artifactsPrefix}/{id}/$lineage`: what an artifact was produced from
 * (data and config snapshots by SHA-256, code version, model) and what was
 * produced from it, both ways transitively.
 */
export function lineageRoutes(lineage: Lineage, options: { artifactsPrefix?: string; tags?: string[] } = {}): AnyElysia {
  const prefix = options.artifactsPrefix ?? "/api/v1/artifacts";
  const app = new Elysia({ name: `chapkit:ml-lineage:${prefix}` });
  mountOperation(app, prefix, {
    name: "$lineage",
    method: "GET",
    summary: "Artifact lineage",
    description:
      "Walks the artifact's lineage both ways: `upstream` holds the training data, inputs and config snapshots " +
      "(content-addressed, `sha256:`), the code version and the model it was produced from; `downstream` what was " +
      "produced from it (predictions of a model, batch results of an input). `edges` connect them, `from` read by the run that produced `to`.",
    query: LineageQuery,
    response: LineageGraphSchema,
    async handler({ id, query, instance }) {
      try {
        return await lineage.graph(id, { depth: (query as { depth?: number }).depth ?? 10 });
      } catch (error) {
        if (error instanceof NotFoundError) throw new NotFoundError(error.message, { instance });
        throw error;
      }
    },
  }, { entity: true, tags: options.tags ?? ["artifacts"] });
  return app as unknown as AnyElysia;
}
