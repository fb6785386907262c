/**
 * Builds small ONNX models as bytes (IR version 8, opset 17, default domain) with `onnx-proto`.
 * Used by the demo's baseline (tools/demo), the benchmarks (bench/), the GPU check
 * (scripts/gpu-check.ts) and the tests. Everything is deterministic: the same options give the
 * same bytes.
 *
 * The hostile and broken models the intake check and the sandbox are tested against are test
 * fixtures, built on this file: tests/support/onnx/ (docs/architecture.md, "The parts").
 */
import onnxProto from "onnx-proto";
import { mulberry32 } from "@goat/contracts/seeded-random";

const { onnx } = onnxProto;

export const IR_VERSION = 8;
export const OPSET_VERSION = 17;
export const PRODUCER_NAME = "mls-goat-tools";

/** Element types the builder can write, mapped to ONNX TensorProto.DataType numbers. */
export const ELEM_TYPES = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  string: 8,
  bool: 9,
  float16: 10,
  float64: 11,
} as const;
export type ElemTypeName = keyof typeof ELEM_TYPES;

/** A dim: a number is a fixed size, a string a symbolic dim (dim_param), null an unknown dim. */
export type DimSpec = number | string | null;

/** A graph input/output/value_info entry. `shape: null` writes a tensor type with no shape at all. */
export interface ValueSpec {
  name: string;
  /** An element type name, or a raw ONNX elem_type number (for odd types in negative tests). */
  dtype: ElemTypeName | number;
  shape: DimSpec[] | null;
}

export type TensorData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | number[];

export interface TensorSpecInit {
  name?: string;
  dtype: ElemTypeName;
  dims: number[];
  /** Values, row-major. number[] is converted to the dtype. Omitted for external tensors. */
  data?: TensorData;
  /** Write the tensor as external data (data_location = EXTERNAL) pointing at this file. */
  external?: { location: string; offset?: number; length?: number };
}

export interface InitializerSpec extends TensorSpecInit {
  name: string;
}

export type AttrValue =
  | { i: number | bigint }
  | { f: number }
  | { s: string }
  | { ints: (number | bigint)[] }
  | { floats: number[] }
  | { t: TensorSpecInit }
  | { g: GraphSpec };

export interface NodeSpec {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  /** "" (default ONNX domain) unless given. */
  domain?: string;
  attributes?: Record<string, AttrValue>;
}

export interface GraphSpec {
  name?: string;
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  nodes: NodeSpec[];
  initializers?: InitializerSpec[];
  valueInfo?: ValueSpec[];
}

export interface ModelSpec extends GraphSpec {
  irVersion?: number;
  /** Default-domain opset version (17 unless given). */
  opsetVersion?: number;
  /** Extra opset imports, e.g. a custom domain. */
  extraOpsets?: { domain: string; version: number }[];
  producerName?: string;
}

// ---------------------------------------------------------------------------------------------
// Low-level builder

function toRawBytes(dtype: ElemTypeName, data: TensorData, count: number): Uint8Array {
  let typed: ArrayBufferView;
  if (Array.isArray(data)) {
    switch (dtype) {
      case "float32":
        typed = Float32Array.from(data);
        break;
      case "float64":
        typed = Float64Array.from(data);
        break;
      case "int32":
        typed = Int32Array.from(data);
        break;
      case "int64":
        typed = BigInt64Array.from(data.map((v) => BigInt(Math.trunc(v))));
        break;
      case "uint8":
      case "bool":
        typed = Uint8Array.from(data);
        break;
      case "int8":
        typed = Int8Array.from(data);
        break;
      default:
        throw new Error(`cannot write number[] data for dtype ${dtype}`);
    }
  } else {
    typed = data;
  }
  const elements = (typed as unknown as { length: number }).length;
  if (elements !== count) {
    throw new Error(`tensor data has ${elements} elements; its dims hold ${count}`);
  }
  // Typed arrays are little-endian on every platform Node runs on, as ONNX raw_data requires.
  return new Uint8Array(typed.buffer.slice(typed.byteOffset, typed.byteOffset + typed.byteLength));
}

function makeTensor(spec: TensorSpecInit): InstanceType<typeof onnx.TensorProto> {
  const count = spec.dims.reduce((a, b) => a * b, 1);
  const tensor = new onnx.TensorProto({
    name: spec.name ?? "",
    dataType: ELEM_TYPES[spec.dtype],
    dims: spec.dims,
  });
  if (spec.external) {
    tensor.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    const entries = [{ key: "location", value: spec.external.location }];
    if (spec.external.offset !== undefined) entries.push({ key: "offset", value: String(spec.external.offset) });
    if (spec.external.length !== undefined) entries.push({ key: "length", value: String(spec.external.length) });
    tensor.externalData = entries.map((e) => new onnx.StringStringEntryProto(e));
  } else {
    if (!spec.data) throw new Error(`tensor ${spec.name ?? "(unnamed)"} has no data`);
    tensor.rawData = toRawBytes(spec.dtype, spec.data, count);
  }
  return tensor;
}

function makeValueInfo(v: ValueSpec): InstanceType<typeof onnx.ValueInfoProto> {
  const elemType = typeof v.dtype === "number" ? v.dtype : ELEM_TYPES[v.dtype];
  const tensorType = new onnx.TypeProto.Tensor({ elemType });
  if (v.shape !== null) {
    tensorType.shape = new onnx.TensorShapeProto({
      dim: v.shape.map((d) => {
        if (typeof d === "number") return new onnx.TensorShapeProto.Dimension({ dimValue: d });
        if (typeof d === "string") return new onnx.TensorShapeProto.Dimension({ dimParam: d });
        return new onnx.TensorShapeProto.Dimension({});
      }),
    });
  }
  return new onnx.ValueInfoProto({ name: v.name, type: new onnx.TypeProto({ tensorType }) });
}

function makeAttribute(name: string, value: AttrValue): InstanceType<typeof onnx.AttributeProto> {
  const T = onnx.AttributeProto.AttributeType;
  const attr = new onnx.AttributeProto({ name });
  if ("i" in value) {
    attr.type = T.INT;
    attr.i = Number(value.i);
  } else if ("f" in value) {
    attr.type = T.FLOAT;
    attr.f = value.f;
  } else if ("s" in value) {
    attr.type = T.STRING;
    attr.s = new TextEncoder().encode(value.s);
  } else if ("ints" in value) {
    attr.type = T.INTS;
    attr.ints = value.ints.map((v) => Number(v));
  } else if ("floats" in value) {
    attr.type = T.FLOATS;
    attr.floats = value.floats;
  } else if ("t" in value) {
    attr.type = T.TENSOR;
    attr.t = makeTensor(value.t);
  } else {
    attr.type = T.GRAPH;
    attr.g = makeGraph(value.g);
  }
  return attr;
}

function makeGraph(spec: GraphSpec): InstanceType<typeof onnx.GraphProto> {
  return new onnx.GraphProto({
    name: spec.name ?? "graph",
    input: spec.inputs.map(makeValueInfo),
    output: spec.outputs.map(makeValueInfo),
    valueInfo: (spec.valueInfo ?? []).map(makeValueInfo),
    initializer: (spec.initializers ?? []).map(makeTensor),
    node: spec.nodes.map(
      (n, i) =>
        new onnx.NodeProto({
          name: n.name ?? `${n.opType.toLowerCase()}_${i}`,
          opType: n.opType,
          domain: n.domain ?? "",
          input: n.inputs,
          output: n.outputs,
          attribute: Object.entries(n.attributes ?? {}).map(([k, v]) => makeAttribute(k, v)),
        }),
    ),
  });
}

/** Builds a model from a graph description. The low-level builder the other helpers use. */
export function buildModel(spec: ModelSpec): Uint8Array {
  const model = new onnx.ModelProto({
    irVersion: spec.irVersion ?? IR_VERSION,
    producerName: spec.producerName ?? PRODUCER_NAME,
    producerVersion: "1",
    opsetImport: [
      new onnx.OperatorSetIdProto({ domain: "", version: spec.opsetVersion ?? OPSET_VERSION }),
      ...(spec.extraOpsets ?? []).map((o) => new onnx.OperatorSetIdProto(o)),
    ],
    graph: makeGraph(spec),
  });
  return onnx.ModelProto.encode(model).finish();
}

// ---------------------------------------------------------------------------------------------
// Classifiers

/** Options shared by the classifier builders to bend the declared signature (for negative tests). */
export interface SignatureOptions {
  inputName?: string;
  outputName?: string;
  /** Write a fixed batch size (e.g. 1) instead of the symbolic "N". */
  fixedBatch?: number;
  /** Override the declared input shape/dtype (metadata only: onnxruntime may refuse the model). */
  inputShape?: DimSpec[] | null;
  inputDtype?: ElemTypeName | number;
  /** Override the declared output shape/dtype (metadata only). */
  outputShape?: DimSpec[] | null;
  outputDtype?: ElemTypeName | number;
}

export interface LinearClassifierOptions extends SignatureOptions {
  /** [inDim * outDim], row-major [in][out]. */
  weights: Float32Array;
  bias: Float32Array;
  inDim: number;
  outDim: number;
  softmax?: boolean;
}

function signature(opts: SignatureOptions, inDim: number, outDim: number) {
  const batch: DimSpec = opts.fixedBatch ?? "N";
  const inputName = opts.inputName ?? "input";
  const outputName = opts.outputName ?? "output";
  return {
    inputName,
    outputName,
    input: {
      name: inputName,
      dtype: opts.inputDtype ?? "float32",
      shape: opts.inputShape !== undefined ? opts.inputShape : [batch, inDim],
    } satisfies ValueSpec,
    output: {
      name: outputName,
      dtype: opts.outputDtype ?? "float32",
      shape: opts.outputShape !== undefined ? opts.outputShape : [batch, outDim],
    } satisfies ValueSpec,
  };
}

/** y = x·W + b (Gemm), optionally followed by Softmax over the last axis. */
export function buildLinearClassifier(opts: LinearClassifierOptions): Uint8Array {
  const { weights, bias, inDim, outDim } = opts;
  if (weights.length !== inDim * outDim) throw new Error(`weights must hold inDim*outDim = ${inDim * outDim} values`);
  if (bias.length !== outDim) throw new Error(`bias must hold outDim = ${outDim} values`);
  const sig = signature(opts, inDim, outDim);
  const nodes: NodeSpec[] = [
    { opType: "Gemm", inputs: [sig.inputName, "W", "B"], outputs: [opts.softmax ? "logits" : sig.outputName] },
  ];
  if (opts.softmax) nodes.push({ opType: "Softmax", inputs: ["logits"], outputs: [sig.outputName], attributes: { axis: { i: -1 } } });
  return buildModel({
    name: "linear_classifier",
    inputs: [sig.input],
    outputs: [sig.output],
    initializers: [
      { name: "W", dtype: "float32", dims: [inDim, outDim], data: weights },
      { name: "B", dtype: "float32", dims: [outDim], data: bias },
    ],
    nodes,
  });
}

export interface MlpLayer {
  inDim: number;
  outDim: number;
  /** [inDim * outDim], row-major [in][out]. */
  weights: Float32Array;
  bias: Float32Array;
}

/** The layers `buildMlp({ sizes, seed })` uses: uniform in ±1/sqrt(fan_in), deterministic in the seed. */
export function mlpWeights(sizes: number[], seed: number): MlpLayer[] {
  if (sizes.length < 2 || sizes.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new Error("sizes must list at least two positive integers");
  }
  const rand = mulberry32(seed);
  const layers: MlpLayer[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const inDim = sizes[l];
    const outDim = sizes[l + 1];
    const scale = 1 / Math.sqrt(inDim);
    const weights = new Float32Array(inDim * outDim);
    for (let i = 0; i < weights.length; i++) weights[i] = (rand() * 2 - 1) * scale;
    const bias = new Float32Array(outDim);
    for (let i = 0; i < outDim; i++) bias[i] = (rand() * 2 - 1) * scale;
    layers.push({ inDim, outDim, weights, bias });
  }
  return layers;
}

export interface MlpOptions extends SignatureOptions {
  /** Layer widths, input first, e.g. [784, 512, 512, 10]. */
  sizes: number[];
  seed: number;
  softmax?: boolean;
}

/** Gemm+Relu chain (no Relu after the last Gemm), optionally followed by Softmax. */
export function buildMlp(opts: MlpOptions): Uint8Array {
  const layers = mlpWeights(opts.sizes, opts.seed);
  const sig = signature(opts, opts.sizes[0], opts.sizes[opts.sizes.length - 1]);
  const nodes: NodeSpec[] = [];
  const initializers: InitializerSpec[] = [];
  let current = sig.inputName;
  layers.forEach((layer, l) => {
    const last = l === layers.length - 1;
    initializers.push({ name: `W${l}`, dtype: "float32", dims: [layer.inDim, layer.outDim], data: layer.weights });
    initializers.push({ name: `B${l}`, dtype: "float32", dims: [layer.outDim], data: layer.bias });
    const gemmOut = last ? (opts.softmax ? "logits" : sig.outputName) : `h${l}`;
    nodes.push({ opType: "Gemm", inputs: [current, `W${l}`, `B${l}`], outputs: [gemmOut] });
    if (!last) {
      nodes.push({ opType: "Relu", inputs: [gemmOut], outputs: [`a${l}`] });
      current = `a${l}`;
    }
  });
  if (opts.softmax) nodes.push({ opType: "Softmax", inputs: ["logits"], outputs: [sig.outputName], attributes: { axis: { i: -1 } } });
  return buildModel({ name: "mlp", inputs: [sig.input], outputs: [sig.output], initializers, nodes });
}

/** Number of parameters `buildMlp({ sizes })` stores (weights + biases). */
export function mlpParamCount(sizes: number[]): number {
  let n = 0;
  for (let l = 0; l + 1 < sizes.length; l++) n += sizes[l] * sizes[l + 1] + sizes[l + 1];
  return n;
}

// ---------------------------------------------------------------------------------------------
// A classifier's first layer, for models that do something of their own after it

/** The classifier signature the probe and test models share: input "input" float32 [N, 784] ... */
export const CLASSIFIER_IN = 784;
/** ... and output "output" float32 [N, 10]. */
export const CLASSIFIER_OUT = 10;

export interface ClassifierHead {
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  initializers: InitializerSpec[];
  /** Gemm input -> "logits" [N, 10]. */
  nodes: NodeSpec[];
}

/**
 * The classifier signature with a Gemm from "input" to "logits" (weights `mlpWeights([784, 10], seed)`):
 * a model that adds its nodes after it passes the intake check, whatever those nodes do at run time.
 */
export function classifierHead(seed = 1): ClassifierHead {
  const [layer] = mlpWeights([CLASSIFIER_IN, CLASSIFIER_OUT], seed);
  return {
    inputs: [{ name: "input", dtype: "float32", shape: ["N", CLASSIFIER_IN] }],
    outputs: [{ name: "output", dtype: "float32", shape: ["N", CLASSIFIER_OUT] }],
    initializers: [
      { name: "W", dtype: "float32", dims: [CLASSIFIER_IN, CLASSIFIER_OUT], data: layer.weights },
      { name: "B", dtype: "float32", dims: [CLASSIFIER_OUT], data: layer.bias },
    ],
    nodes: [{ opType: "Gemm", inputs: ["input", "W", "B"], outputs: ["logits"] }],
  };
}

/**
 * A model of the classifier signature whose `nodes` come after the head: they read "logits" (and
 * "input") and must write "output". The head's initializers come first, then `initializers`.
 */
export function buildOnClassifierHead(seed: number, model: Omit<ModelSpec, "inputs" | "outputs">): Uint8Array {
  const head = classifierHead(seed);
  return buildModel({
    ...model,
    inputs: head.inputs,
    outputs: head.outputs,
    initializers: [...head.initializers, ...(model.initializers ?? [])],
    nodes: [...head.nodes, ...model.nodes],
  });
}
