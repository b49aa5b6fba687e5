/**
 * Ready-made ONNX models built with {@link encodeOnnxModel}: linear
 * regression (MatMul + Add) and multi-layer perceptrons (Gemm + Relu), plus
 * deterministic seeded weights and a reference forward pass in TypeScript.
 *
 * @module
 */
import { encodeOnnxModel } from "./onnx-writer.ts";
import { seededRandom } from "../../../core/seeded-random.ts";

/** Options of {@link linearRegressionOnnx}. */
export interface LinearRegressionOnnxOptions {
  /** One weight per input feature. */
  weights: readonly number[];
  /** The intercept. */
  bias: number;
  /** Input tensor name, shape `[N, weights.length]` (default `input`). */
  inputName?: string;
  /** Output tensor name, shape `[N, 1]` (default `output`). */
  outputName?: string;
}

/** A linear regression `y = x·w + b` as ONNX (MatMul + Add, opset 13). */
export function linearRegressionOnnx(options: LinearRegressionOnnxOptions): Uint8Array {
  const input = options.inputName ?? "input";
  const output = options.outputName ?? "output";
  const k = options.weights.length;
  return encodeOnnxModel({
    name: "linear_regression",
    inputs: [{ name: input, dims: ["N", k] }],
    outputs: [{ name: output, dims: ["N", 1] }],
    initializers: [
      { name: "weights", dims: [k, 1], values: options.weights },
      { name: "bias", dims: [1], values: [options.bias] },
    ],
    nodes: [
      { opType: "MatMul", inputs: [input, "weights"], outputs: ["xw"] },
      { opType: "Add", inputs: ["xw", "bias"], outputs: [output] },
    ],
  });
}

/** One dense layer: `weights` row-major `[inputs, outputs]`, `bias` `[outputs]`. */
export interface DenseLayer {
  /** Number of inputs. */
  inputs: number;
  /** Number of outputs. */
  outputs: number;
  /** Row-major `[inputs, outputs]` weights. */
  weights: Float32Array;
  /** One bias per output. */
  bias: Float32Array;
}

/** An MLP as ONNX: Gemm per layer, Relu between layers; input `[N, in]`, output `[N, out]`. */
export function mlpOnnx(layers: readonly DenseLayer[], names: { input?: string; output?: string } = {}): Uint8Array {
  const input = names.input ?? "input";
  const output = names.output ?? "output";
  const nodes = [];
  const initializers = [];
  let current = input;
  for (const [i, layer] of layers.entries()) {
    const last = i === layers.length - 1;
    const gemmOut = last ? output : `dense_${i}`;
    initializers.push(
      { name: `w${i}`, dims: [layer.inputs, layer.outputs], values: layer.weights },
      { name: `b${i}`, dims: [layer.outputs], values: layer.bias },
    );
    nodes.push({ opType: "Gemm", inputs: [current, `w${i}`, `b${i}`], outputs: [gemmOut] });
    current = gemmOut;
    if (!last) {
      nodes.push({ opType: "Relu", inputs: [gemmOut], outputs: [`relu_${i}`] });
      current = `relu_${i}`;
    }
  }
  return encodeOnnxModel({
    name: "mlp",
    inputs: [{ name: input, dims: ["N", layers[0]!.inputs] }],
    outputs: [{ name: output, dims: ["N", layers[layers.length - 1]!.outputs] }],
    nodes,
    initializers,
  });
}


/** Dense layers for `sizes` (e.g. `[64, 256, 256, 1]`) with Glorot-uniform weights from `seed`. */
export function seededMlpLayers(sizes: readonly number[], seed: number): DenseLayer[] {
  const random = seededRandom(seed);
  const layers: DenseLayer[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    const inputs = sizes[i]!;
    const outputs = sizes[i + 1]!;
    const limit = Math.sqrt(6 / (inputs + outputs));
    const weights = Float32Array.from({ length: inputs * outputs }, () => (random() * 2 - 1) * limit);
    const bias = Float32Array.from({ length: outputs }, () => (random() * 2 - 1) * 0.1);
    layers.push({ inputs, outputs, weights, bias });
  }
  return layers;
}

/** The MLP's output for row-major `input` (`rows × layers[0].inputs`), computed in float64. */
export function mlpForward(layers: readonly DenseLayer[], input: Float32Array | Float64Array, rows: number): Float64Array {
  let current: Float64Array = Float64Array.from(input);
  for (const [i, layer] of layers.entries()) {
    const next = new Float64Array(rows * layer.outputs);
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < layer.outputs; o++) {
        let sum = layer.bias[o]!;
        for (let k = 0; k < layer.inputs; k++) sum += current[r * layer.inputs + k]! * layer.weights[k * layer.outputs + o]!;
        next[r * layer.outputs + o] = i < layers.length - 1 ? Math.max(0, sum) : sum;
      }
    }
    current = next;
  }
  return current;
}
