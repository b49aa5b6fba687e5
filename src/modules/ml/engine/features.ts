/**
 * Feature sets: named, versioned lists of computed columns, each made from
 * declared input columns by a TypeScript function registered by name. A
 * trained model keeps the feature set it was trained with (definitions and
 * a SHA-256 of each function's source), and every prediction replays that
 * stored set, so training and serving compute features the same way; a
 * function whose source changed since training is refused rather than
 * silently applied.
 *
 * @example
 * ```ts
 * import { FeatureCatalog } from "./features.ts";
 * const features = new FeatureCatalog()
 *   .function("log1p", ({ number, inputs }) => number(inputs[0]!).map(Math.log1p))
 *   .define({ name: "weather", version: 1, features: [{ name: "log_rain", fn: "log1p", inputs: ["rainfall"] }] });
 * const stored = features.freeze("weather@1");
 * ```
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { Cell, ColumnValues, DataFrame } from "./dataframe.ts";
import { ValueError } from "./errors.ts";

/** What a feature function receives: only its declared input columns, and its params. */
export interface FeatureInput {
  /** The declared input columns, in order. */
  inputs: readonly string[];
  /** A frame holding only the declared input columns. */
  frame: DataFrame;
  /** An input column as numbers (null → NaN). */
  number(name: string): Float64Array;
  /** An input column's cells. */
  values(name: string): Cell[];
  /** The definition's params (JSON). */
  params: Readonly<Record<string, unknown>>;
}

/** A registered feature function: returns one value per row. */
export type FeatureFunction = (input: FeatureInput) => ColumnValues;

/** One computed column of a feature set. */
export interface FeatureDefinition {
  /** The column it adds (or replaces). */
  name: string;
  /** The registered function that computes it. */
  fn: string;
  /** The columns the function reads: raw input columns or earlier features of the set. */
  inputs: readonly string[];
  /** JSON params handed to the function. */
  params?: Record<string, unknown>;
}

/** A named, versioned feature set as declared in code. */
export interface FeatureSetDefinition {
  /** The set's name (letters, digits, `_`, `.`, `-`). */
  name: string;
  /** A positive integer; `name` alone means the highest. */
  version: number;
  description?: string;
  /** Applied in order; later features may read earlier ones. */
  features: readonly FeatureDefinition[];
}

/**
 * A feature set as stored with a trained model: the definitions, the raw
 * input columns it needs, and `sha256:` of each function's source.
 */
export interface StoredFeatureSet {
  name: string;
  version: number;
  description?: string;
  features: (FeatureDefinition & { code: string })[];
  /** Raw columns the set reads (inputs not computed by an earlier feature). */
  inputs: string[];
}

/** Options of {@link FeatureCatalog}. */
export interface FeatureCatalogOptions {
  /**
   * Whether a function whose source differs from the one a model was
   * trained with is refused (default true). The source is what the runtime
   * reports, so a model trained on Bun and served on Deno may need `false`.
   */
  checkCode?: boolean;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

function codeHash(fn: FeatureFunction): string {
  return "sha256:" + createHash("sha256").update(fn.toString()).digest("hex");
}

function rawInputs(features: readonly FeatureDefinition[]): string[] {
  const computed = new Set<string>();
  const raw: string[] = [];
  for (const feature of features) {
    for (const input of feature.inputs) if (!computed.has(input) && !raw.includes(input)) raw.push(input);
    computed.add(feature.name);
  }
  return raw;
}

/**
 * The feature functions and feature sets of a service. Functions are
 * registered by name; sets reference them by name and are versioned, so a
 * changed set is a new version and models trained on the old one keep it.
 */
export class FeatureCatalog {
  readonly #functions = new Map<string, FeatureFunction>();
  readonly #sets = new Map<string, FeatureSetDefinition[]>();
  readonly #checkCode: boolean;

  /** Creates an empty catalog. */
  constructor(options: FeatureCatalogOptions = {}) {
    this.#checkCode = options.checkCode ?? true;
  }

  /**
   * Registers a feature function under `name`.
   *
   * @throws {TypeError} when the name is taken or malformed.
   */
  function(name: string, fn: FeatureFunction): this {
    if (!NAME.test(name)) throw new TypeError(`Invalid feature function name ${JSON.stringify(name)}`);
    if (this.#functions.has(name)) throw new TypeError(`Feature function ${name} is already registered`);
    this.#functions.set(name, fn);
    return this;
  }

  /**
   * Declares a feature set version; every function it names must be registered.
   *
   * @throws {TypeError} for a bad name or version, a taken version, an unknown function, or a feature reading a later one.
   */
  define(set: FeatureSetDefinition): this {
    if (!NAME.test(set.name)) throw new TypeError(`Invalid feature set name ${JSON.stringify(set.name)}`);
    if (!Number.isInteger(set.version) || set.version < 1) throw new TypeError(`Feature set ${set.name}: version must be a positive integer`);
    const versions = this.#sets.get(set.name) ?? [];
    if (versions.some((v) => v.version === set.version)) throw new TypeError(`Feature set ${set.name}@${set.version} is already defined`);
    if (set.features.length === 0) throw new TypeError(`Feature set ${set.name}@${set.version} has no features`);
    set.features.forEach((feature, i) => {
      if (!this.#functions.has(feature.fn)) {
        throw new TypeError(`Feature set ${set.name}@${set.version}: feature ${feature.name} uses unregistered function ${feature.fn}`);
      }
      const later = feature.inputs.find((input) => set.features.slice(i).some((f) => f.name === input));
      if (later !== undefined) throw new TypeError(`Feature set ${set.name}@${set.version}: feature ${feature.name} reads ${later}, computed later or by itself`);
    });
    versions.push(set);
    versions.sort((a, b) => b.version - a.version);
    this.#sets.set(set.name, versions);
    return this;
  }

  /** Every declared set, by name then version (highest first). */
  list(): FeatureSetDefinition[] {
    return [...this.#sets.keys()].sort().flatMap((name) => this.#sets.get(name)!);
  }

  /** The set a reference names (`name` → its highest version, `name@2`), or undefined. */
  find(reference: string): FeatureSetDefinition | undefined {
    const [name, version] = reference.split("@");
    const versions = this.#sets.get(name!) ?? [];
    if (version === undefined) return versions[0];
    return versions.find((v) => String(v.version) === version);
  }

  /**
   * The set a reference names, as stored with a model: definitions, raw
   * inputs and the hash of each function's source.
   *
   * @throws {ValueError} when no such set is declared.
   */
  freeze(reference: string): StoredFeatureSet {
    const set = this.find(reference);
    if (!set) throw new ValueError(`Feature set ${reference} is not defined in this service`);
    return {
      name: set.name,
      version: set.version,
      ...(set.description !== undefined ? { description: set.description } : {}),
      features: set.features.map((f) => ({
        name: f.name,
        fn: f.fn,
        inputs: [...f.inputs],
        ...(f.params !== undefined ? { params: f.params } : {}),
        code: codeHash(this.#functions.get(f.fn)!),
      })),
      inputs: rawInputs(set.features),
    };
  }

  /**
   * Computes a stored set's features on `frame` with this catalog's
   * functions: each feature's column is added (or replaced) in order.
   *
   * @throws {ValueError} when a function is not registered, its source changed since the set was stored
   *   (unless `checkCode` is false), an input column is missing, or it returns the wrong number of values.
   */
  apply(stored: StoredFeatureSet, frame: DataFrame): DataFrame {
    let out = frame;
    for (const feature of stored.features) {
      const label = `feature ${feature.name} of feature set ${stored.name}@${stored.version}`;
      const fn = this.#functions.get(feature.fn);
      if (!fn) throw new ValueError(`Function ${feature.fn} of ${label} is not registered in this service`);
      if (this.#checkCode && codeHash(fn) !== feature.code) {
        throw new ValueError(
          `Function ${feature.fn} of ${label} changed since the model was trained (${feature.code.slice(0, 19)}…): ` +
            "register the original function, or train again",
        );
      }
      const missing = feature.inputs.filter((input) => !out.has(input));
      if (missing.length > 0) throw new ValueError(`Input column ${missing.join(", ")} of ${label} is missing`);
      const inputs = out.select(feature.inputs);
      const values = fn({
        inputs: feature.inputs,
        frame: inputs,
        number: (name) => inputs.column(name),
        values: (name) => inputs.values(name),
        params: feature.params ?? {},
      });
      if (values.length !== out.rowCount) {
        throw new ValueError(`${label} returned ${values.length} values for ${out.rowCount} rows`);
      }
      out = out.withColumn(feature.name, values);
    }
    return out;
  }
}
