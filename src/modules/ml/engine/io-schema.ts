/**
 * Model signatures: the input columns a model reads (with their types),
 * the target columns training needs and the output columns predictions
 * carry. Requests are checked against a signature before any work starts
 * ({@link ModelInputError}, 422), and a runner's predictions are checked
 * before they are stored ({@link ModelOutputError}).
 *
 * @module
 */
import { ChapkitError, type FieldError } from "../../../core/errors.ts";
import type { Cell, DataFrame } from "./dataframe.ts";

/** What a column holds: numbers (integers included), integers, booleans, strings, or anything. */
export type ColumnType = "number" | "integer" | "boolean" | "string" | "any";

/** One declared column of a model signature. */
export interface ColumnSpec {
  /** The column name. */
  name: string;
  /** What its values are (default `number`). */
  type?: ColumnType;
  /** Whether null (and NaN) is allowed (default false). */
  nullable?: boolean;
  /** Smallest allowed value (numeric types). */
  minimum?: number;
  /** Largest allowed value (numeric types). */
  maximum?: number;
  /** The only values allowed, when given. */
  enum?: readonly (string | number | boolean)[];
}

/**
 * What a model reads and writes. `inputs` are required in `$train` data and
 * in every prediction input; `targets` only in `$train` data; `outputs` must
 * be in the runner's predictions. Other columns pass through unless
 * `extra_inputs` is `forbid`.
 */
export interface ModelSignature {
  /** The columns every input frame must have. */
  inputs: readonly ColumnSpec[];
  /** The columns training data must have beside the inputs. */
  targets?: readonly ColumnSpec[];
  /** The columns predictions must have. */
  outputs?: readonly ColumnSpec[];
  /** `allow` (default) lets input frames carry undeclared columns; `forbid` rejects them. */
  extra_inputs?: "allow" | "forbid";
}

/** Why a column does not match its declaration. */
export type ColumnProblemKind = "missing" | "type" | "null" | "range" | "enum" | "unexpected";

/** One offending column, with the first offending rows and their values. */
export interface ColumnProblem {
  /** The column's name as the model signature gives it. */
  column: string;
  /** What is wrong. */
  problem: ColumnProblemKind;
  /** What the declaration asks for, in words (`number, not null`, `>= 0`). */
  expected: string;
  /** How many rows offend (0 for a missing or unexpected column). */
  count: number;
  /** The first offending row indexes (at most five). */
  rows: number[];
  /** The values at those rows, in the same order (a missing value as null). */
  values: Cell[];
}

/** One offending row: its index and its values. */
export interface RowSample {
  /** The row index in the frame. */
  row: number;
  /** The row as a record. */
  values: Record<string, Cell>;
}

const SAMPLE = 5;
const SAMPLE_ROWS = 3;

function expectation(spec: ColumnSpec): string {
  const parts: string[] = [spec.type ?? "number"];
  if (!spec.nullable) parts.push("not null");
  if (spec.minimum !== undefined) parts.push(`>= ${spec.minimum}`);
  if (spec.maximum !== undefined) parts.push(`<= ${spec.maximum}`);
  if (spec.enum) parts.push(`one of ${spec.enum.map((v) => JSON.stringify(v)).join(", ")}`);
  return parts.join(", ");
}

function isNull(value: Cell): boolean {
  return value === null || value === undefined || (typeof value === "number" && Number.isNaN(value));
}

function typeFits(value: Cell, type: ColumnType): boolean {
  switch (type) {
    case "any":
      return true;
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
    case "boolean":
      return typeof value === "boolean";
    case "string":
      return typeof value === "string";
  }
}

function problemOf(value: Cell, spec: ColumnSpec): ColumnProblemKind | null {
  if (isNull(value)) return spec.nullable ? null : "null";
  if (!typeFits(value, spec.type ?? "number")) return "type";
  if (typeof value === "number" && ((spec.minimum !== undefined && value < spec.minimum) || (spec.maximum !== undefined && value > spec.maximum))) {
    return "range";
  }
  if (spec.enum && !spec.enum.includes(value as string | number | boolean)) return "enum";
  return null;
}

/**
 * Every way `frame` differs from `specs`: missing columns, then per column
 * the first kind of offence found (type, null, range, enum) with how many
 * rows offend and the first few of them. With `extra: "forbid"`, columns not
 * in `specs` are reported as `unexpected`.
 */
export function checkColumns(
  frame: DataFrame,
  specs: readonly ColumnSpec[],
  options: { extra?: "allow" | "forbid" } = {},
): ColumnProblem[] {
  const problems: ColumnProblem[] = [];
  for (const spec of specs) {
    const expected = expectation(spec);
    if (!frame.has(spec.name)) {
      problems.push({ column: spec.name, problem: "missing", expected, count: 0, rows: [], values: [] });
      continue;
    }
    const values = frame.values(spec.name);
    const found = new Map<ColumnProblemKind, ColumnProblem>();
    values.forEach((value, row) => {
      const kind = problemOf(value, spec);
      if (!kind) return;
      let entry = found.get(kind);
      if (!entry) found.set(kind, entry = { column: spec.name, problem: kind, expected, count: 0, rows: [], values: [] });
      entry.count += 1;
      if (entry.rows.length < SAMPLE) {
        entry.rows.push(row);
        entry.values.push(isNull(value) ? null : value);
      }
    });
    problems.push(...found.values());
  }
  if (options.extra === "forbid") {
    const declared = new Set(specs.map((s) => s.name));
    for (const column of frame.columns) {
      if (!declared.has(column)) problems.push({ column, problem: "unexpected", expected: "no such column", count: 0, rows: [], values: [] });
    }
  }
  return problems;
}

/** The first offending rows (at most three), as records of the whole row. */
export function rowSample(frame: DataFrame, problems: readonly ColumnProblem[]): RowSample[] {
  const rows = [...new Set(problems.flatMap((p) => p.rows))].sort((a, b) => a - b).slice(0, SAMPLE_ROWS);
  if (rows.length === 0) return [];
  const all = frame.rows();
  return rows.map((row) => ({
    row,
    values: Object.fromEntries(frame.columns.map((name, c) => {
      const value = all[row]![c] ?? null;
      return [name, isNull(value) ? null : value];
    })),
  }));
}

function describe(problem: ColumnProblem): string {
  if (problem.problem === "missing") return `${problem.column} (missing)`;
  if (problem.problem === "unexpected") return `${problem.column} (not declared)`;
  return `${problem.column} (${problem.problem}: ${problem.count} row${problem.count === 1 ? "" : "s"}, expected ${problem.expected})`;
}

/**
 * 422 `urn:chapkit:error:invalid-model-input`: an input frame does not match
 * the model's signature. The problem lists every offending column
 * (`columns`), a sample of offending rows (`sample`), and the same findings
 * as `errors` entries (`loc` ends with the column name).
 */
export class ModelInputError extends ChapkitError {
  /** The offending columns. */
  readonly columns: readonly ColumnProblem[];

  /** Creates the error for the frame at `loc` (e.g. `["body", "future"]`). */
  constructor(loc: readonly (string | number)[], problems: readonly ColumnProblem[], sample: readonly RowSample[]) {
    const where = loc.filter((part) => part !== "body").join(".") || "input";
    const errors: FieldError[] = problems.map((p) => ({
      loc: [...loc, "columns", p.column],
      msg: describe(p),
      type: `column_${p.problem}`,
    }));
    super(
      `${problems.length} column${problems.length === 1 ? "" : "s"} of ${where} do${problems.length === 1 ? "es" : ""} not match the model's signature: ${
        problems.map(describe).join("; ")
      }`,
      { type: "urn:chapkit:error:invalid-model-input", title: "Invalid Model Input", status: 422 },
      { extensions: { columns: problems, sample, errors } },
    );
    this.columns = problems;
  }
}

/**
 * Checks a frame against column specs.
 *
 * @throws {ModelInputError} listing every offending column, with a row sample.
 */
export function assertColumns(
  frame: DataFrame,
  specs: readonly ColumnSpec[],
  options: { loc: readonly (string | number)[]; extra?: "allow" | "forbid" },
): void {
  const problems = checkColumns(frame, specs, options.extra ? { extra: options.extra } : {});
  if (problems.length > 0) throw new ModelInputError(options.loc, problems, rowSample(frame, problems));
}

/** A runner's predictions do not match the outputs its model declares; the job fails and nothing is stored. */
export class ModelOutputError extends Error {
  /** The offending output columns. */
  readonly columns: readonly ColumnProblem[];

  /** Creates the error from the findings of {@link checkColumns}. */
  constructor(problems: readonly ColumnProblem[]) {
    super(`The predictions do not match the model's declared outputs: ${problems.map(describe).join("; ")}`);
    this.name = "ModelOutputError";
    this.columns = problems;
  }
}

/**
 * Checks a runner's predictions against the signature's outputs.
 *
 * @throws {ModelOutputError} naming every offending output column.
 */
export function assertOutputs(predictions: DataFrame, signature: ModelSignature | undefined): void {
  const outputs = signature?.outputs;
  if (!outputs || outputs.length === 0) return;
  const problems = checkColumns(predictions, outputs);
  if (problems.length > 0) throw new ModelOutputError(problems);
}

/** Columns of `specs` joined with `more` by name (the first declaration of a name wins). */
export function mergeSpecs(specs: readonly ColumnSpec[], more: readonly ColumnSpec[]): ColumnSpec[] {
  const out = [...specs];
  for (const spec of more) if (!out.some((s) => s.name === spec.name)) out.push(spec);
  return out;
}
