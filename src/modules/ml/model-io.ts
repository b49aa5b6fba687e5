/**
 * What a trained model declares about its inputs and outputs (its
 * signature and its feature set, stored in the trained-model artifact), and
 * the checks `$train`, `$predict`, KServe inference and the jobs make with
 * it.
 *
 * @module
 */
import { type TSchema, Type } from "@sinclair/typebox";
import type { DataFrame } from "./engine/dataframe.ts";
import type { FeatureCatalog, StoredFeatureSet } from "./engine/features.ts";
import { assertColumns, type ColumnSpec, mergeSpecs, type ModelSignature } from "./engine/io-schema.ts";
import type { ModelRunner } from "./engine/runner.ts";
import { ValidationError } from "../../core/errors.ts";

const ColumnSpecSchema = Type.Object({
  name: Type.String({ minLength: 1 }),
  type: Type.Optional(Type.Union(["number", "integer", "boolean", "string", "any"].map((t) => Type.Literal(t)))),
  nullable: Type.Optional(Type.Boolean()),
  minimum: Type.Optional(Type.Number()),
  maximum: Type.Optional(Type.Number()),
  enum: Type.Optional(Type.Array(Type.Union([Type.String(), Type.Number(), Type.Boolean()]), { minItems: 1 })),
}, { additionalProperties: false });

/** A model signature on the wire (`$train`'s `signature`). */
export const ModelSignatureSchema: TSchema = Type.Object({
  inputs: Type.Array(ColumnSpecSchema, { maxItems: 10_000 }),
  targets: Type.Optional(Type.Array(ColumnSpecSchema, { maxItems: 1000 })),
  outputs: Type.Optional(Type.Array(ColumnSpecSchema, { maxItems: 10_000 })),
  extra_inputs: Type.Optional(Type.Union([Type.Literal("allow"), Type.Literal("forbid")])),
}, {
  title: "ModelSignature",
  additionalProperties: false,
  description: "Input columns (with types), target columns of training data, and output columns of predictions",
});

/** What a trained model declares: its signature and the feature set its inputs go through. */
export interface ModelContract {
  signature?: ModelSignature;
  features?: StoredFeatureSet;
}

/** The contract a trained-model artifact's data stores, falling back to the runner's signature. */
export function contractOf(data: Record<string, unknown>, runner: ModelRunner): ModelContract {
  const signature = (data.signature as ModelSignature | undefined) ?? runner.signature;
  const features = data.feature_set as StoredFeatureSet | undefined;
  return { ...(signature ? { signature } : {}), ...(features ? { features } : {}) };
}

/** The raw columns a prediction input must have: the signature's inputs and the feature set's inputs. */
export function requiredInputs(contract: ModelContract): ColumnSpec[] {
  const declared = contract.signature?.inputs ?? [];
  const forFeatures = (contract.features?.inputs ?? []).map((name): ColumnSpec => ({ name, type: "any", nullable: true }));
  return mergeSpecs(declared, forFeatures);
}

/**
 * Checks a prediction input frame against a model's contract.
 *
 * @throws {ModelInputError} (422) listing every offending column.
 */
export function checkPredictInput(frame: DataFrame, contract: ModelContract, loc: readonly (string | number)[]): void {
  const specs = requiredInputs(contract);
  const extra = contract.signature?.extra_inputs;
  if (specs.length === 0 && extra !== "forbid") return;
  assertColumns(frame, specs, { loc, ...(extra ? { extra } : {}) });
}

/**
 * Checks training data against a signature's inputs and targets and the feature set's inputs.
 *
 * @throws {ModelInputError} (422) listing every offending column.
 */
export function checkTrainInput(frame: DataFrame, contract: ModelContract, loc: readonly (string | number)[]): void {
  const specs = mergeSpecs(requiredInputs(contract), contract.signature?.targets ?? []);
  if (specs.length === 0) return;
  // Training data carries targets beside the inputs, so undeclared columns are not judged here.
  assertColumns(frame, specs, { loc });
}

/**
 * The stored form of the feature set a `$train` names.
 *
 * @throws {ValidationError} (422) when the service has no such feature set.
 */
export function featureSetFor(catalog: FeatureCatalog | undefined, reference: string): StoredFeatureSet {
  const fail = (msg: string): never => {
    throw new ValidationError([{ loc: ["body", "feature_set"], msg, type: "value_error" }]);
  };
  if (!catalog) return fail("This service declares no feature sets");
  if (!catalog.find(reference)) {
    const known = catalog.list().map((s) => `${s.name}@${s.version}`);
    return fail(`Unknown feature set ${JSON.stringify(reference)}${known.length > 0 ? ` (known: ${known.join(", ")})` : ""}`);
  }
  return catalog.freeze(reference);
}
