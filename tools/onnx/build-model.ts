/**
 * Builds small ONNX models as bytes (IR version 8, opset 17, default domain) with `onnx-proto`.
 * Used by tests, the seed script (baseline model) and benchmarks. Everything is deterministic:
 * the same options give the same bytes.
 *
 * Besides well-formed classifiers (`buildLinearClassifier`, `buildMlp`) this file builds the
 * hostile and broken models the intake check and the worker's sandbox are tested against.
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
// Hostile and broken models. Unless said otherwise they have a classifier's signature,
// input "input" float32 [N, 784] -> output "output" float32 [N, 10], so they pass the intake check.

const IN = 784;
const OUT = 10;

interface ClassifierHead {
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  initializers: InitializerSpec[];
  /** Gemm input -> "logits" [N, 10]. */
  nodes: NodeSpec[];
}

function classifierHead(seed = 1): ClassifierHead {
  const [layer] = mlpWeights([IN, OUT], seed);
  return {
    inputs: [{ name: "input", dtype: "float32", shape: ["N", IN] }],
    outputs: [{ name: "output", dtype: "float32", shape: ["N", OUT] }],
    initializers: [
      { name: "W", dtype: "float32", dims: [IN, OUT], data: layer.weights },
      { name: "B", dtype: "float32", dims: [OUT], data: layer.bias },
    ],
    nodes: [{ opType: "Gemm", inputs: ["input", "W", "B"], outputs: ["logits"] }],
  };
}

/**
 * Loads fine, throws inside onnxruntime at run time: a Gather over the input's columns with a
 * constant index (5000) past the 784 columns. The index is checked when the node runs.
 */
export function buildThrowingModel(): Uint8Array {
  const indices = [0, 1, 2, 3, 4, 5, 6, 7, 8, 5000];
  return buildModel({
    name: "throwing",
    inputs: [{ name: "input", dtype: "float32", shape: ["N", IN] }],
    outputs: [{ name: "output", dtype: "float32", shape: ["N", OUT] }],
    initializers: [{ name: "idx", dtype: "int64", dims: [OUT], data: indices }],
    nodes: [{ opType: "Gather", inputs: ["input", "idx"], outputs: ["output"], attributes: { axis: { i: 1 } } }],
  });
}

/**
 * Runs (practically) forever: a Loop with a huge trip count whose body multiplies the [N, 10]
 * logits by a 10x10 matrix (and squashes them with Tanh) on every iteration.
 */
export function buildHangingModel(opts: { tripCount?: bigint } = {}): Uint8Array {
  const head = classifierHead(2);
  const tripCount = opts.tripCount ?? 1n << 60n;
  const m = new Float32Array(OUT * OUT);
  for (let i = 0; i < OUT; i++) m[i * OUT + i] = 0.5;
  const body: GraphSpec = {
    name: "loop_body",
    inputs: [
      { name: "iter", dtype: "int64", shape: [] },
      { name: "cond_in", dtype: "bool", shape: [] },
      { name: "v_in", dtype: "float32", shape: ["N", OUT] },
    ],
    outputs: [
      { name: "cond_out", dtype: "bool", shape: [] },
      { name: "v_out", dtype: "float32", shape: ["N", OUT] },
    ],
    nodes: [
      { opType: "Identity", inputs: ["cond_in"], outputs: ["cond_out"] },
      { opType: "MatMul", inputs: ["v_in", "M"], outputs: ["mm"] },
      { opType: "Tanh", inputs: ["mm"], outputs: ["v_out"] },
    ],
  };
  return buildModel({
    name: "hanging",
    inputs: head.inputs,
    outputs: head.outputs,
    initializers: [
      ...head.initializers,
      { name: "M", dtype: "float32", dims: [OUT, OUT], data: m },
      { name: "trip_count", dtype: "int64", dims: [], data: new BigInt64Array([tripCount]) },
      { name: "keep_going", dtype: "bool", dims: [], data: [1] },
    ],
    nodes: [
      ...head.nodes,
      {
        opType: "Loop",
        inputs: ["trip_count", "keep_going", "logits"],
        outputs: ["output"],
        attributes: { body: { g: body } },
      },
    ],
  });
}

/**
 * Allocates about `bytes` of memory when it runs (independent of the batch size): it Expands a
 * value computed from the input (so nothing can be folded at load time) to a float32 tensor of
 * bytes/4 elements, sums it, and adds 0 × the sum to the logits.
 */
export function buildAllocatingModel(opts: { bytes: number }): Uint8Array {
  const elements = Math.max(1, Math.ceil(opts.bytes / 4));
  const head = classifierHead(3);
  return buildModel({
    name: "allocating",
    inputs: head.inputs,
    outputs: head.outputs,
    initializers: [
      ...head.initializers,
      { name: "big_shape", dtype: "int64", dims: [1], data: new BigInt64Array([BigInt(elements)]) },
      { name: "zero", dtype: "float32", dims: [], data: [0] },
    ],
    nodes: [
      ...head.nodes,
      { opType: "ReduceMax", inputs: ["input"], outputs: ["seed"], attributes: { keepdims: { i: 0 } } },
      { opType: "Expand", inputs: ["seed", "big_shape"], outputs: ["big"] },
      { opType: "ReduceSum", inputs: ["big"], outputs: ["total"], attributes: { keepdims: { i: 0 } } },
      { opType: "Mul", inputs: ["total", "zero"], outputs: ["nothing"] },
      { opType: "Add", inputs: ["logits", "nothing"], outputs: ["output"] },
    ],
  });
}

/** A classifier whose every output is NaN (logits + a NaN constant). */
export function buildNaNModel(): Uint8Array {
  const head = classifierHead(4);
  return buildModel({
    name: "nan",
    inputs: head.inputs,
    outputs: head.outputs,
    initializers: [
      ...head.initializers,
      { name: "nan", dtype: "float32", dims: [OUT], data: new Float32Array(OUT).fill(Number.NaN) },
    ],
    nodes: [...head.nodes, { opType: "Add", inputs: ["logits", "nan"], outputs: ["output"] }],
  });
}

/**
 * Declares output [N, 10] but returns 2N rows at run time (the logits concatenated with
 * themselves), so only the worker's check of the actual output shape catches it.
 */
export function buildWrongOutputRowsModel(): Uint8Array {
  const head = classifierHead(5);
  return buildModel({
    name: "wrong_rows",
    inputs: head.inputs,
    outputs: head.outputs,
    initializers: head.initializers,
    nodes: [...head.nodes, { opType: "Concat", inputs: ["logits", "logits"], outputs: ["output"], attributes: { axis: { i: 0 } } }],
  });
}

/** A linear classifier whose weight initializer lives in an external file (data_location = EXTERNAL). */
export function buildExternalDataModel(opts: { location?: string } = {}): Uint8Array {
  const [layer] = mlpWeights([IN, OUT], 6);
  return buildModel({
    name: "external_data",
    inputs: [{ name: "input", dtype: "float32", shape: ["N", IN] }],
    outputs: [{ name: "output", dtype: "float32", shape: ["N", OUT] }],
    initializers: [
      { name: "W", dtype: "float32", dims: [IN, OUT], external: { location: opts.location ?? "weights.bin", offset: 0, length: IN * OUT * 4 } },
      { name: "B", dtype: "float32", dims: [OUT], data: layer.bias },
    ],
    nodes: [{ opType: "Gemm", inputs: ["input", "W", "B"], outputs: ["output"] }],
  });
}

export const CUSTOM_DOMAIN = "com.example.custom";

/** A classifier with a node (op "CustomRelu") in the custom domain "com.example.custom". */
export function buildCustomDomainModel(opts: { domain?: string } = {}): Uint8Array {
  const domain = opts.domain ?? CUSTOM_DOMAIN;
  const head = classifierHead(7);
  return buildModel({
    name: "custom_domain",
    inputs: head.inputs,
    outputs: head.outputs,
    initializers: head.initializers,
    extraOpsets: [{ domain, version: 1 }],
    nodes: [...head.nodes, { opType: "CustomRelu", domain, inputs: ["logits"], outputs: ["output"] }],
  });
}

/** The first `fraction` of the bytes (a copy), e.g. an upload cut short. */
export function truncateBytes(bytes: Uint8Array, fraction = 0.5): Uint8Array {
  const keep = Math.max(1, Math.min(bytes.length - 1, Math.floor(bytes.length * fraction)));
  return bytes.slice(0, keep);
}
