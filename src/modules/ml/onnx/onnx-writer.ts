/**
 * A minimal ONNX model writer: encodes a graph of standard operators
 * (Gemm, MatMul, Add, Relu, …) with float32 initializers as ONNX protobuf
 * bytes that any ONNX runtime loads. Enough to export linear models and
 * small MLPs without Python's `onnx` package.
 *
 * @module
 */
import { ProtoWriter } from "../../../core/protobuf.ts";

/** A tensor dimension: a fixed size or a symbolic name (e.g. `"N"` for the batch). */
export type OnnxDim = number | string;

/** A graph input or output: float32 tensor of the given shape. */
export interface OnnxValueInfo {
  /** Tensor name. */
  name: string;
  /** Shape. */
  dims: readonly OnnxDim[];
}

/** A float32 constant (weights, biases). */
export interface OnnxInitializer {
  /** Tensor name, referenced by node inputs. */
  name: string;
  /** Shape. */
  dims: readonly number[];
  /** Row-major values (stored as float32 raw data). */
  values: Float32Array | readonly number[];
}

/** An attribute value: int, float, string, or a list of ints or floats. */
export type OnnxAttribute = number | string | { ints: readonly number[] } | { floats: readonly number[] } | { float: number };

/** A node of the graph. */
export interface OnnxNode {
  /** Operator, e.g. `Gemm`, `MatMul`, `Add`, `Relu`. */
  opType: string;
  /** Input tensor names. */
  inputs: readonly string[];
  /** Output tensor names. */
  outputs: readonly string[];
  /** Node name (default `<opType>_<index>`). */
  name?: string;
  /** Attributes; a plain integer number is written as INT, use `{ float }` for a FLOAT. */
  attributes?: Readonly<Record<string, OnnxAttribute>>;
}

/** A whole model. */
export interface OnnxGraph {
  /** Graph name. */
  name?: string;
  /** Graph inputs. */
  inputs: readonly OnnxValueInfo[];
  /** Graph outputs. */
  outputs: readonly OnnxValueInfo[];
  /** Nodes in topological order. */
  nodes: readonly OnnxNode[];
  /** Constants (weights). */
  initializers?: readonly OnnxInitializer[];
  /** Default opset 13. */
  opset?: number;
  /** Default IR version 8. */
  irVersion?: number;
  /** Default `chapkit`. */
  producerName?: string;
}

const FLOAT = 1;
const ATTR = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

/**
 * Encodes `graph` as an ONNX ModelProto.
 *
 * @example
 * ```ts
 * import { encodeOnnxModel } from "./onnx-writer.ts";
 * const bytes = encodeOnnxModel({
 *   inputs: [{ name: "x", dims: ["N", 2] }],
 *   outputs: [{ name: "y", dims: ["N", 2] }],
 *   nodes: [{ opType: "Relu", inputs: ["x"], outputs: ["y"] }],
 * });
 * ```
 */
export function encodeOnnxModel(graph: OnnxGraph): Uint8Array {
  const model = new ProtoWriter();
  model.int(1, graph.irVersion ?? 8);
  model.string(2, graph.producerName ?? "chapkit");
  model.message(7, (g) => {
    graph.nodes.forEach((node, i) => g.message(1, (n) => writeNode(n, node, i)));
    g.string(2, graph.name ?? "graph");
    for (const init of graph.initializers ?? []) g.message(5, (t) => writeTensor(t, init));
    for (const input of graph.inputs) g.message(11, (v) => writeValueInfo(v, input));
    for (const output of graph.outputs) g.message(12, (v) => writeValueInfo(v, output));
  });
  model.message(8, (op) => op.string(1, "").int(2, graph.opset ?? 13));
  return model.finish();
}

function writeNode(w: ProtoWriter, node: OnnxNode, index: number): void {
  for (const input of node.inputs) w.string(1, input);
  for (const output of node.outputs) w.string(2, output);
  w.string(3, node.name ?? `${node.opType}_${index}`);
  w.string(4, node.opType);
  for (const [name, value] of Object.entries(node.attributes ?? {})) {
    w.message(5, (a) => {
      a.string(1, name);
      if (typeof value === "number") a.int(3, value).int(20, ATTR.INT);
      else if (typeof value === "string") a.string(4, value).int(20, ATTR.STRING);
      else if ("float" in value) a.float(2, value.float).int(20, ATTR.FLOAT);
      else if ("ints" in value) a.packedInts(8, value.ints).int(20, ATTR.INTS);
      else {
        for (const f of value.floats) a.float(7, f);
        a.int(20, ATTR.FLOATS);
      }
    });
  }
}

function writeTensor(w: ProtoWriter, tensor: OnnxInitializer): void {
  const count = tensor.dims.reduce((a, b) => a * b, 1);
  if (tensor.values.length !== count) {
    throw new RangeError(`Initializer ${tensor.name} has ${tensor.values.length} values for dims [${tensor.dims}]`);
  }
  const values = tensor.values instanceof Float32Array ? tensor.values : Float32Array.from(tensor.values);
  w.packedInts(1, tensor.dims);
  w.int(2, FLOAT);
  w.string(8, tensor.name);
  // raw_data is little-endian float32.
  const raw = new Uint8Array(values.length * 4);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  w.bytes(9, raw);
}

function writeValueInfo(w: ProtoWriter, info: OnnxValueInfo): void {
  w.string(1, info.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, FLOAT);
      tensor.message(2, (shape) => {
        for (const dim of info.dims) {
          shape.message(1, (d) => (typeof dim === "number" ? d.int(1, dim) : d.string(2, dim)));
        }
      });
    }));
}
