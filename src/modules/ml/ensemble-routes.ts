import { type TObject, Type } from "@sinclair/typebox";
import { type AnyElysia, Elysia } from "elysia";
import { BadRequestError, type FieldError, ValidationError } from "../../core/errors.ts";
import { mountOperation } from "../../http/crud/operation.ts";
import { DataFrame } from "./engine/dataframe.ts";
import { type ColumnSpec, mergeSpecs, type ModelSignature } from "./engine/io-schema.ts";
import { fitLinearRegression } from "./engine/linear-regression.ts";
import { combinePredictions, ENSEMBLE_METHODS, type EnsembleMember, type EnsembleMethod, type EnsembleSpec } from "../models/ensemble.ts";
import type { ModelVersion } from "../models/schema.ts";
import { DataFrameSchema } from "./schema.ts";
import { requiredInputs } from "./model-io.ts";
import { isLoadedEnsemble, type ModelServer } from "./model-server.ts";

const NAME = "^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$";

/** Body of `POST /api/v1/ml/$ensemble`. */
export const EnsembleRequestSchema: TObject = Type.Object({
  model: Type.Union([
    Type.String({ pattern: NAME }),
    Type.Object({
      name: Type.String({ pattern: NAME }),
      version: Type.Optional(Type.String({ description: "Semantic version (default: minor bump of the latest)" })),
      description: Type.Optional(Type.String({ maxLength: 10_000 })),
      tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 100 })),
    }, { additionalProperties: false }),
  ], { description: "The registry name (and version details) the ensemble is registered under" }),
  method: Type.Union(ENSEMBLE_METHODS.map((m) => Type.Literal(m))),
  members: Type.Array(Type.Object({
    model: Type.String({ pattern: `${NAME.slice(0, -1)}(@[A-Za-z0-9][A-Za-z0-9_.+-]{0,99})?$`, description: "`name`, `name@alias` or `name@1.2.0`; pinned to the version it names now" }),
    weight: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: "Weight in a weighted mean" })),
  }, { additionalProperties: false }), { minItems: 2, maxItems: 50 }),
  outputs: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 1000, description: "Prediction columns combined (default: the runner's output columns, else sample_0)" })),
  data: Type.Optional(DataFrameSchema),
  target: Type.Optional(Type.String({ minLength: 1, description: "The column of `data` the ensemble is fitted (stacking) and scored against" })),
}, { title: "EnsembleRequest", additionalProperties: false });

interface EnsembleRequest {
  model: string | { name: string; version?: string; description?: string; tags?: string[] };
  method: EnsembleMethod;
  members: { model: string; weight?: number }[];
  outputs?: string[];
  data?: { columns: string[]; data: unknown[][] };
  target?: string;
}

function checkRequest(body: Record<string, unknown>): FieldError[] {
  const request = body as unknown as EnsembleRequest;
  const errors: FieldError[] = [];
  (request.members ?? []).forEach((member, i) => {
    if (request.method === "weighted_mean" && member.weight === undefined) {
      errors.push({ loc: ["body", "members", i, "weight"], msg: "A weighted mean needs every member's weight", type: "missing" });
    }
    if (request.method !== "weighted_mean" && member.weight !== undefined) {
      errors.push({ loc: ["body", "members", i, "weight"], msg: `Weights are only used by weighted_mean, not ${request.method}`, type: "value_error" });
    }
  });
  if ((request.data === undefined) !== (request.target === undefined)) {
    errors.push({ loc: ["body", request.data === undefined ? "data" : "target"], msg: "Give data and target together", type: "missing" });
  } else if (request.method === "stacking" && request.data === undefined) {
    errors.push({ loc: ["body", "data"], msg: "A stacking ensemble is fitted on data with a target column", type: "missing" });
  }
  return errors;
}

function rmse(predicted: Float64Array, actual: Float64Array): number {
  let sum = 0;
  let n = 0;
  predicted.forEach((p, i) => {
    const a = actual[i]!;
    if (Number.isNaN(p) || Number.isNaN(a)) return;
    sum += (p - a) ** 2;
    n += 1;
  });
  return n === 0 ? NaN : Math.sqrt(sum / n);
}

/** The inputs a version's prediction needs (an ensemble's: its members', stored at creation). */
async function inputsOf(server: ModelServer, version: ModelVersion): Promise<ColumnSpec[]> {
  const loaded = await server.load(version);
  if (isLoadedEnsemble(loaded)) return [...(loaded.signature?.inputs ?? [])];
  return requiredInputs(loaded);
}

/** Fits the stacker (stacking) and scores the ensemble on `data`; returns the fitted spec and its metrics. */
async function fitted(
  server: ModelServer,
  spec: EnsembleSpec,
  versions: ModelVersion[],
  data: DataFrame,
  target: string,
): Promise<{ spec: EnsembleSpec; metrics: Record<string, number> }> {
  if (!data.has(target)) {
    throw new ValidationError([{ loc: ["body", "target"], msg: `data has no column ${JSON.stringify(target)}`, type: "value_error" }]);
  }
  const actual = data.column(target);
  const output = spec.outputs[0]!;
  const predictions = await Promise.all(versions.map(async (version) => {
    const frame = await server.predict(version, data);
    if (!frame.has(output)) throw new BadRequestError(`Ensemble member ${version.name}@${version.version} predicted no ${output} column`);
    return frame.column(output);
  }));
  let out = spec;
  if (spec.method === "stacking") {
    const columns = Object.fromEntries(predictions.map((p, i) => [`m${i}`, p]));
    const frame = DataFrame.fromColumns({ ...columns, [target]: actual });
    const model = fitLinearRegression(frame, { features: Object.keys(columns), target, minSamples: versions.length + 1 });
    out = { ...spec, stacker: { weights: model.weights, bias: model.bias } };
  }
  const metrics: Record<string, number> = {};
  const score = rmse(combinePredictions(out, predictions), actual);
  if (Number.isFinite(score)) metrics.rmse = score;
  return { spec: out, metrics };
}

/**
 * `POST {prefix}/$ensemble`: registers a model version that is an ensemble
 * of registered versions (mean, weighted mean, median, or a stacking model
 * fitted on `data`). Members are pinned to the versions their references
 * name now; the ensemble is served like any version (`$predict`,
 * `$predict-stream`, KServe V2), each member predicting with its own
 * feature set and signature.
 */
export function ensembleRoutes(server: ModelServer, options: { prefix?: string; tags?: string[]; outputs?: readonly string[] } = {}): AnyElysia {
  const app = new Elysia({ name: `chapkit:ml-ensemble:${options.prefix ?? "/api/v1/ml"}` });
  mountOperation(app, options.prefix ?? "/api/v1/ml", {
    name: "$ensemble",
    method: "POST",
    summary: "Register an ensemble of model versions",
    description:
      "Registers a new version whose predictions combine those of registered versions, column by column: `mean`, " +
      "`weighted_mean` (each member's `weight`), `median`, or `stacking` (a linear model fitted on the members' predictions " +
      "of `data` against its `target` column). With `data` and `target` the version's metrics hold the ensemble's RMSE on them.",
    body: EnsembleRequestSchema,
    coerceBody: false,
    checkBody: checkRequest,
    status: 201,
    permission: "ml:train",
    async handler({ body }) {
      const request = body as EnsembleRequest;
      const versions = await Promise.all(request.members.map((member) => server.registry.resolve(member.model)));
      versions.forEach((version, i) => {
        if (!version.artifact_id) throw new BadRequestError(`Member ${request.members[i]!.model} has no trained artifact`);
      });
      const members: EnsembleMember[] = versions.map((version, i) => ({
        name: version.name,
        version: version.version,
        ...(request.members[i]!.weight !== undefined ? { weight: request.members[i]!.weight } : {}),
      }));
      let spec: EnsembleSpec = {
        method: request.method,
        members,
        outputs: request.outputs ?? [...(options.outputs ?? server.outputColumns ?? ["sample_0"])],
      };
      let metrics: Record<string, number> = {};
      if (request.data && request.target) {
        ({ spec, metrics } = await fitted(server, spec, versions, DataFrame.fromJSON(request.data, { loc: ["body", "data"] }), request.target));
      }
      let inputs: ColumnSpec[] = [];
      for (const version of versions) inputs = mergeSpecs(inputs, await inputsOf(server, version));
      const signature: ModelSignature | undefined = inputs.length > 0 ? { inputs } : undefined;
      const artifact = await server.deps.artifacts.create({
        data: { ml_type: "ensemble", ensemble: spec, ...(signature ? { signature } : {}) },
      });
      const target = typeof request.model === "string" ? { name: request.model } : request.model;
      const artifactId = String(artifact.id);
      return await server.registry.register(target.name, {
        ...(target.version !== undefined ? { version: target.version } : {}),
        ...(target.description !== undefined ? { description: target.description } : {}),
        tags: [...new Set(["ensemble", ...(target.tags ?? [])])],
        params: { ensemble: spec.method, members: members.map((m) => `${m.name}@${m.version}`), ...(spec.stacker ? { stacker: spec.stacker } : {}) },
        metrics,
        artifact_id: artifactId,
      }).catch(async (error: unknown) => {
        await server.deps.artifacts.delete(artifactId).catch(() => {});
        throw error;
      });
    },
  }, { entity: false, tags: options.tags ?? ["ml"] });
  return app as unknown as AnyElysia;
}
