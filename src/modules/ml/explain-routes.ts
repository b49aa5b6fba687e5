import { type TObject, Type } from "@sinclair/typebox";
import { type AnyElysia, Elysia } from "elysia";
import { BadRequestError, type FieldError, ValidationError } from "../../core/errors.ts";
import { mountOperation } from "../../http/crud/operation.ts";
import { DataFrame } from "./engine/dataframe.ts";
import { ValueError } from "./engine/errors.ts";
import {
  type ErrorMetric,
  kernelShap,
  linearShap,
  type PermutationImportance,
  permutationImportance,
  type Predictor,
  type RowAttribution,
} from "./engine/explain.ts";
import type { LinearModel } from "./engine/linear-regression.ts";
import { isEnsembleData } from "../models/ensemble.ts";
import type { ModelVersion } from "../models/schema.ts";
import { checkModelArtifact, loadTrainedModel, type LoadedModel, type MlJobDeps, predictLoaded, withFeatures } from "./ml-jobs.ts";
import { checkPredictInput, contractOf, requiredInputs } from "./model-io.ts";
import { isLoadedEnsemble } from "./model-server.ts";
import { DataFrameSchema } from "./schema.ts";

const MAX_ROWS = 100;
// One prediction call per feature holds data rows × repeats rows.
const MAX_SHUFFLED_ROWS = 1_000_000;

/** Body of `POST /api/v1/ml/$explain`. */
export const ExplainRequestSchema: TObject = Type.Object({
  model_artifact_id: Type.Optional(Type.String({ minLength: 26, maxLength: 26 })),
  model: Type.Optional(Type.String({
    pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}(@[A-Za-z0-9][A-Za-z0-9_.+-]{0,99})?$",
    description: "A registered model: `name` (its production alias, else its latest active version), `name@alias` or `name@1.2.0`",
  })),
  rows: Type.Optional(Type.Union([DataFrameSchema], { description: `The rows whose predictions are explained (at most ${MAX_ROWS})` })),
  background: Type.Optional(Type.Union([DataFrameSchema], { description: "What an absent feature's values are drawn from (default: data, else rows)" })),
  data: Type.Optional(Type.Union([DataFrameSchema], { description: "Labelled rows for permutation importance (with target)" })),
  target: Type.Optional(Type.String({ minLength: 1 })),
  method: Type.Optional(Type.Union([Type.Literal("auto"), Type.Literal("kernel_shap"), Type.Literal("linear")], {
    description: "Attribution method: `linear` (exact, for models whose runner gives their coefficients), `kernel_shap` (any model), `auto` (default: linear when it can)",
  })),
  features: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 200 })),
  output: Type.Optional(Type.String({ minLength: 1, description: "The prediction column explained (default: the first declared output, else sample_0)" })),
  samples: Type.Optional(Type.Integer({ minimum: 16, maximum: 100_000, description: "Most coalitions per row (KernelSHAP; default 2048)" })),
  max_background: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: "Background rows used (a seeded sample beyond; default 100)" })),
  repeats: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: "Shuffles per feature (permutation importance; default 5)" })),
  metric: Type.Optional(Type.Union([Type.Literal("rmse"), Type.Literal("mse"), Type.Literal("mae")])),
  seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 4_294_967_295 })),
}, { title: "ExplainRequest", additionalProperties: false });

interface Frame {
  columns: string[];
  data: unknown[][];
}

interface ExplainRequest {
  model_artifact_id?: string;
  model?: string;
  rows?: Frame;
  background?: Frame;
  data?: Frame;
  target?: string;
  method?: "auto" | "kernel_shap" | "linear";
  features?: string[];
  output?: string;
  samples?: number;
  max_background?: number;
  repeats?: number;
  metric?: ErrorMetric;
  seed?: number;
}

function checkRequest(body: Record<string, unknown>): FieldError[] {
  const request = body as unknown as ExplainRequest;
  const errors: FieldError[] = [];
  if ((request.model === undefined) === (request.model_artifact_id === undefined)) {
    errors.push({ loc: ["body", "model"], msg: "Give exactly one of model and model_artifact_id", type: "value_error" });
  }
  if (request.rows === undefined && request.data === undefined) {
    errors.push({ loc: ["body", "rows"], msg: "Give rows to explain, or data with a target for permutation importance", type: "missing" });
  }
  if (request.data !== undefined && request.target === undefined) {
    errors.push({ loc: ["body", "target"], msg: "Permutation importance needs the target column of data", type: "missing" });
  }
  if ((request.data?.data.length ?? 0) * (request.repeats ?? 5) > MAX_SHUFFLED_ROWS) {
    errors.push({ loc: ["body", "repeats"], msg: `data rows × repeats must stay within ${MAX_SHUFFLED_ROWS}`, type: "value_error" });
  }
  if ((request.rows?.data.length ?? 0) > MAX_ROWS) {
    errors.push({ loc: ["body", "rows", "data"], msg: `At most ${MAX_ROWS} rows are explained per request`, type: "too_long" });
  }
  return errors;
}

/** What is explained: a predictor of the output column, what the model declares, and its coefficients when linear. */
interface Explained {
  predict(frame: DataFrame): Promise<DataFrame>;
  inputs: string[];
  check(frame: DataFrame, loc: (string | number)[]): Promise<void>;
  linear: { model: LinearModel; loaded: LoadedModel } | null;
  outputs: readonly string[] | undefined;
  version: ModelVersion | null;
  artifactId: string;
}

async function explained(deps: MlJobDeps, request: ExplainRequest): Promise<Explained> {
  let version: ModelVersion | null = null;
  let artifactId = request.model_artifact_id;
  if (request.model !== undefined) {
    if (!deps.server) throw new BadRequestError("This service has no model registry: explain with model_artifact_id");
    version = await deps.server.registry.resolve(request.model);
    if (!version.artifact_id) throw new BadRequestError(`Model ${request.model} has no trained artifact`);
    artifactId = version.artifact_id;
  }
  const data = await checkModelArtifact(deps, artifactId!);
  const server = deps.server;
  const signal = new AbortController().signal;
  if (server && isEnsembleData(data)) {
    const loaded = await server.loadArtifact(artifactId!);
    const spec = isLoadedEnsemble(loaded) ? loaded.ensemble : undefined;
    return {
      predict: (frame) => server.predictArtifact(artifactId!, frame, { signal }),
      inputs: (isLoadedEnsemble(loaded) ? loaded.signature?.inputs ?? [] : []).map((c) => c.name),
      check: (frame, loc) => server.checkArtifactInput(artifactId!, frame, loc),
      linear: null,
      outputs: spec?.outputs,
      version,
      artifactId: artifactId!,
    };
  }
  const loaded = await loadTrainedModel(deps, artifactId!);
  const coefficients = deps.runner.linearModel?.(loaded.model) ?? null;
  return {
    predict: (frame) => predictLoaded(deps, loaded, { future: frame, historic: null, geo: null, signal }),
    inputs: requiredInputs(loaded).map((c) => c.name),
    check: async (frame, loc) => checkPredictInput(frame, contractOf(data, deps.runner), loc),
    linear: coefficients ? { model: coefficients, loaded } : null,
    outputs: loaded.signature?.outputs?.map((c) => c.name) ?? deps.runner.outputColumns,
    version,
    artifactId: artifactId!,
  };
}

/** A predictor of one output column. */
function predictorOf(target: Explained, output: string): Predictor {
  return async (frame) => {
    const predictions = await target.predict(frame);
    if (!predictions.has(output)) throw new BadRequestError(`The model's predictions have no column ${output}: give output`);
    return predictions.column(output);
  };
}

function sampleRows(frame: DataFrame, max: number, seed: number): DataFrame {
  if (frame.rowCount <= max) return frame;
  let state = seed >>> 0;
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  const order = Array.from({ length: frame.rowCount }, (_, i) => i);
  for (let i = 0; i < max; i++) {
    const j = i + Math.floor(next() * (order.length - i));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const rows = frame.rows();
  return new DataFrame(frame.columns, order.slice(0, max).sort((a, b) => a - b).map((i) => rows[i]!));
}

/**
 * `POST {prefix}/$explain`: per-feature attributions of predictions
 * (`rows`: KernelSHAP for any model, exact for linear ones) and the
 * permutation importance of the model (`data` with `target`), answered
 * synchronously. Inputs are checked against the model's signature first.
 */
export function explainRoutes(deps: MlJobDeps, options: { prefix?: string; tags?: string[] } = {}): AnyElysia {
  const app = new Elysia({ name: `chapkit:ml-explain:${options.prefix ?? "/api/v1/ml"}` });
  mountOperation(app, options.prefix ?? "/api/v1/ml", {
    name: "$explain",
    method: "POST",
    summary: "Explain predictions and the model",
    description:
      "Per-feature attributions of the predictions of `rows` (Shapley values against `background`: exact for linear models, " +
      "KernelSHAP for any model) and, with `data` and `target`, permutation importance of each feature. The model is " +
      "`model` (a registry reference) or `model_artifact_id`.",
    body: ExplainRequestSchema,
    coerceBody: false,
    checkBody: checkRequest,
    permission: "ml:predict",
    async handler({ body }) {
      const request = body as ExplainRequest;
      const target = await explained(deps, request);
      const rows = request.rows ? DataFrame.fromJSON(request.rows, { loc: ["body", "rows"] }) : null;
      const data = request.data ? DataFrame.fromJSON(request.data, { loc: ["body", "data"] }) : null;
      const seed = request.seed ?? 0;
      const background = sampleRows(
        request.background ? DataFrame.fromJSON(request.background, { loc: ["body", "background"] }) : (data ?? rows!),
        request.max_background ?? 100,
        seed,
      );
      if (rows) await target.check(rows, ["body", "rows"]);
      if (data) await target.check(data, ["body", "data"]);
      const output = request.output ?? target.outputs?.[0] ?? "sample_0";
      const method = request.method === "linear" || (request.method !== "kernel_shap" && target.linear) ? "linear" : "kernel_shap";
      if (method === "linear" && !target.linear) {
        throw new BadRequestError("The model gives no linear coefficients (its runner has no linearModel): use method kernel_shap");
      }
      const features = request.features ?? (method === "linear" ? target.linear!.model.features : target.inputs);
      if (features.length === 0) {
        throw new ValidationError([{ loc: ["body", "features"], msg: "The model declares no input columns: give features", type: "missing" }]);
      }
      const frames = [["rows", rows], ["background", background], ["data", data]] as const;
      const missing: FieldError[] = frames.flatMap(([name, frame]) =>
        frame ? features.filter((f) => !frame.has(f)).map((f) => ({ loc: ["body", name, "columns"], msg: `No column ${f}`, type: "missing" })) : []
      );
      if (missing.length > 0) throw new ValidationError(missing);
      const predict = predictorOf(target, output);
      let explanations: RowAttribution[] | undefined;
      try {
        if (rows && method === "linear") {
          const { model, loaded } = target.linear!;
          // Coefficients apply to the columns the runner sees: the feature set's, when the model has one.
          explanations = linearShap(model, withFeatures(deps, loaded, rows), withFeatures(deps, loaded, background));
        } else if (rows) {
          explanations = await kernelShap(predict, rows, background, features, {
            ...(request.samples !== undefined ? { samples: request.samples } : {}),
            seed,
          });
        }
        let importance: PermutationImportance | undefined;
        if (data) {
          importance = await permutationImportance(predict, data, {
            features,
            target: request.target!,
            ...(request.metric ? { metric: request.metric } : {}),
            ...(request.repeats ? { repeats: request.repeats } : {}),
            seed,
          });
        }
        return {
          model_artifact_id: target.artifactId,
          model: target.version ? { name: target.version.name, version: target.version.version } : null,
          output,
          method: rows ? method : null,
          features: method === "linear" && rows ? target.linear!.model.features : features,
          background_rows: background.rowCount,
          ...(explanations ? { explanations } : {}),
          ...(importance ? { importance } : {}),
        };
      } catch (error) {
        if (error instanceof ValueError) throw new BadRequestError(error.message, { cause: error });
        throw error;
      }
    },
  }, { entity: false, tags: options.tags ?? ["ml"] });
  return app as unknown as AnyElysia;
}
