import { type Cell, DataFrame } from "./engine/dataframe.ts";

/** A KServe V2 tensor on the wire. */
export interface V2Tensor {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
  parameters?: Record<string, unknown>;
}

/** A V2 error: answered as `{"error": message}` with `status`. */
export class V2Error extends Error {
  /** Creates the error with its HTTP status (default 400). */
  constructor(message: string, readonly status = 400) {
    super(message);
    this.name = "V2Error";
  }
}

const NUMERIC = new Set(["FP16", "FP32", "FP64", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64"]);
const INTEGER = /^U?INT/;

function flatten(data: unknown[], out: unknown[] = []): unknown[] {
  for (const item of data) {
    if (Array.isArray(item)) flatten(item, out);
    else out.push(item);
  }
  return out;
}

/** Checks a request's input tensors and returns them with flattened data. */
export function readInputs(body: unknown): V2Tensor[] {
  const inputs = (body as { inputs?: unknown } | null)?.inputs;
  if (!Array.isArray(inputs) || inputs.length === 0) throw new V2Error("inputs: a non-empty array of tensors is required");
  return inputs.map((raw, i) => {
    const tensor = raw as Partial<V2Tensor> | null;
    const at = typeof tensor?.name === "string" && tensor.name !== "" ? tensor.name : `inputs[${i}]`;
    if (!tensor || typeof tensor.name !== "string" || tensor.name === "") throw new V2Error(`${at}: name is required`);
    if (!Array.isArray(tensor.shape) || !tensor.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new V2Error(`${at}: shape must be an array of non-negative integers`);
    }
    const datatype = tensor.datatype;
    if (typeof datatype !== "string" || !(NUMERIC.has(datatype) || datatype === "BOOL" || datatype === "BYTES")) {
      throw new V2Error(`${at}: unsupported datatype ${JSON.stringify(datatype)}`);
    }
    if (!Array.isArray(tensor.data)) throw new V2Error(`${at}: data must be an array`);
    const data = flatten(tensor.data);
    const size = tensor.shape.reduce((a, b) => a * b, 1);
    if (data.length !== size) throw new V2Error(`${at}: shape [${tensor.shape}] needs ${size} values, ${data.length} given`);
    data.forEach((value, j) => {
      const ok = NUMERIC.has(datatype)
        ? typeof value === "number" && Number.isFinite(value) && (!INTEGER.test(datatype) || Number.isInteger(value))
        : datatype === "BOOL" ? typeof value === "boolean" : typeof value === "string";
      if (!ok) throw new V2Error(`${at}: value ${j} (${JSON.stringify(value)}) is not ${datatype}`);
      if (datatype.startsWith("UINT") && (value as number) < 0) throw new V2Error(`${at}: value ${j} is negative for ${datatype}`);
    });
    return { name: tensor.name, shape: tensor.shape, datatype, data };
  });
}

/**
 * The input tensors as a frame: one 2-D tensor `[rows, k]` whose `k` matches
 * the model's `columns` gives those columns; otherwise every tensor is a
 * column by its name (shape `[rows]` or `[rows, 1]`), and the model's
 * columns must all be there.
 */
export function framesFromTensors(tensors: V2Tensor[], columns: readonly string[] | undefined): DataFrame {
  const first = tensors[0]!;
  if (tensors.length === 1 && columns && columns.length > 0 && first.shape.length === 2 && first.shape[1] === columns.length &&
    !(columns.length === 1 && columns[0] === first.name)) {
    const rows = first.shape[0]!;
    const width = columns.length;
    return new DataFrame(columns, Array.from({ length: rows }, (_, r) => first.data.slice(r * width, (r + 1) * width) as Cell[]));
  }
  const rows = first.shape[0] ?? 1;
  const named: Record<string, unknown[]> = {};
  for (const tensor of tensors) {
    if (tensor.shape.length > 2 || (tensor.shape.length === 2 && tensor.shape[1] !== 1) || (tensor.shape[0] ?? 1) !== rows) {
      throw new V2Error(`${tensor.name}: shape [${tensor.shape}] is not one column of ${rows} rows`);
    }
    named[tensor.name] = tensor.data;
  }
  const missing = (columns ?? []).filter((column) => !(column in named));
  if (missing.length > 0) {
    throw new V2Error(`missing input ${missing.map((m) => JSON.stringify(m)).join(", ")} (or send one [rows, ${columns!.length}] tensor)`);
  }
  const names = columns && columns.length > 0 ? [...columns, ...Object.keys(named).filter((n) => !columns.includes(n))] : Object.keys(named);
  return new DataFrame(names, Array.from({ length: rows }, (_, r) => names.map((n) => named[n]![r] as Cell)));
}

/** The frame's columns other than the inputs, as V2 output tensors (`[rows]` each). */
export function tensorsFromFrame(frame: DataFrame, inputs: readonly string[], floatType: "FP32" | "FP64"): V2Tensor[] {
  const json = frame.toJSON() as { columns: string[]; data: unknown[][] };
  return json.columns.flatMap((name, c) => {
    if (inputs.includes(name)) return [];
    const data = json.data.map((row) => row[c]);
    const datatype = data.every((v) => typeof v === "boolean")
      ? "BOOL"
      : data.every((v) => typeof v === "number" || v === null)
      ? floatType
      : "BYTES";
    return [{ name, shape: [data.length], datatype, data: datatype === "BYTES" ? data.map((v) => String(v)) : data }];
  });
}
