// Column storage and pandas-like dtype rules shared by DataFrame and its CSV I/O.
import { pyFloatRepr, pyIntRepr } from "./py-repr.ts";

/** A cell of a DataFrame: any JSON value. */
export type Cell =
  | string
  | number
  | boolean
  | null
  | readonly unknown[]
  | { readonly [key: string]: unknown };

/** Column dtypes, named after pandas': `int64`, `float64`, `bool`, `object`. */
export type Dtype = "int" | "float" | "bool" | "object";

/** One column: its values (a Float64Array for float columns built from numbers) and dtype. */
export interface Column {
  values: readonly Cell[] | Float64Array;
  dtype: Dtype;
}

/** Infers a column's dtype from JSON values the way pandas does for a list of rows. */
export function inferDtype(values: readonly Cell[]): Dtype {
  if (values.length === 0) return "object";
  let numbers = 0;
  let integers = 0;
  let nulls = 0;
  let booleans = 0;
  for (const value of values) {
    if (value === null || value === undefined) nulls++;
    else if (typeof value === "number") {
      numbers++;
      if (Number.isInteger(value)) integers++;
    } else if (typeof value === "boolean") booleans++;
    else return "object";
  }
  if (booleans === values.length) return "bool";
  if (numbers > 0 && numbers + nulls === values.length) {
    return integers === numbers && nulls === 0 ? "int" : "float";
  }
  return "object";
}

const NA_STRINGS = new Set([
  "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
  "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
]);
const INT = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|inf|infinity)$/i;
const TRUE = new Set(["True", "TRUE", "true"]);
const FALSE = new Set(["False", "FALSE", "false"]);

/** Builds a column from CSV text fields with pandas `read_csv` inference. */
export function columnFromText(fields: readonly string[]): Column {
  const present = fields.filter((f) => !NA_STRINGS.has(f));
  const hasNa = present.length < fields.length;
  if (present.length === 0) {
    return fields.length ? { values: new Float64Array(fields.length).fill(NaN), dtype: "float" } : { values: [], dtype: "object" };
  }
  if (present.every((f) => INT.test(f))) {
    const values = fields.map((f) => (NA_STRINGS.has(f) ? null : Number(f)));
    return hasNa ? { values: toFloat64(values), dtype: "float" } : { values, dtype: "int" };
  }
  if (present.every((f) => FLOAT.test(f))) {
    return { values: toFloat64(fields.map((f) => (NA_STRINGS.has(f) ? null : parseFloatText(f)))), dtype: "float" };
  }
  if (present.every((f) => TRUE.has(f) || FALSE.has(f))) {
    const values = fields.map((f) => (NA_STRINGS.has(f) ? null : TRUE.has(f)));
    return { values, dtype: hasNa ? "object" : "bool" };
  }
  return { values: fields.map((f) => (NA_STRINGS.has(f) ? null : f)), dtype: "object" };
}

function parseFloatText(text: string): number {
  const lower = text.toLowerCase().replace(/^\+/, "");
  if (lower === "inf" || lower === "infinity") return Infinity;
  if (lower === "-inf" || lower === "-infinity") return -Infinity;
  return Number(text);
}

/** Numbers (null → NaN) as a Float64Array. */
export function toFloat64(values: readonly (number | null)[]): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i] ?? NaN;
  return out;
}

/** A cell as pandas `to_csv` writes it for a column of `dtype` (null and NaN → empty). */
export function formatCell(value: Cell | undefined, dtype: Dtype): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "";
    if (dtype === "int") return pyIntRepr(value);
    if (dtype === "float" || !Number.isInteger(value)) return pyFloatRepr(value);
    return pyIntRepr(value);
  }
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

/** A cell for DataFrame-JSON: NaN and ±Infinity become null. */
export function jsonCell(value: Cell | undefined): Cell {
  if (value === undefined) return null;
  if (typeof value === "number" && !Number.isFinite(value)) return null;
  return value;
}
