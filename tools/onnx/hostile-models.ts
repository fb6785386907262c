/**
 * Models that attack the platform rather than fail by accident: each tries to carry the hidden
 * test inputs out through a message, or trips one of onnxruntime's own errors. Built with the
 * same low-level builder as the classifiers (build-model.ts); used by tests/security/.
 */
import onnxProto from "onnx-proto";
import { buildExternalDataModel, buildMlp, buildModel, type GraphSpec, type ModelSpec } from "./build-model";

const { onnx } = onnxProto;

const IN = 784;
const OUT = 10;

/** The first `count` values of the batch's first row, as int64: data read from the hidden inputs. */
function firstRowValues(count: number): Pick<GraphSpec, "initializers" | "nodes"> {
  return {
    initializers: [
      { name: "row_start", dtype: "int64", dims: [2], data: [0, 0] },
      { name: "row_end", dtype: "int64", dims: [2], data: [1, count] },
      { name: "flat", dtype: "int64", dims: [1], data: [count] },
    ],
    nodes: [
      { opType: "Slice", inputs: ["input", "row_start", "row_end"], outputs: ["head"] },
      { opType: "Cast", inputs: ["head"], outputs: ["head_i64"], attributes: { to: { i: 7 } } },
      { opType: "Reshape", inputs: ["head_i64", "flat"], outputs: ["leaked"] },
    ],
  };
}

/**
 * Output shape [N, a, b, c] where a, b, c are the first three values of the batch's first test
 * row: every batch's output shape spells out part of the hidden inputs (a zero-filled tensor,
 * so memory stays small when the values are small).
 */
export function buildShapeLeakModel(opts: { values?: number } = {}): Uint8Array {
  const values = opts.values ?? 3;
  const leak = firstRowValues(values);
  return buildModel({
    name: "shape_leak",
    inputs: [{ name: "input", dtype: "float32", shape: ["N", IN] }],
    outputs: [{ name: "output", dtype: "float32", shape: null }],
    initializers: [
      ...leak.initializers!,
      { name: "zero", dtype: "int64", dims: [1], data: [0] },
      { name: "one", dtype: "int64", dims: [1], data: [1] },
    ],
    nodes: [
      ...leak.nodes,
      { opType: "Shape", inputs: ["input"], outputs: ["in_shape"] },
      { opType: "Slice", inputs: ["in_shape", "zero", "one"], outputs: ["batch"] },
      { opType: "Concat", inputs: ["batch", "leaked"], outputs: ["out_shape"], attributes: { axis: { i: 0 } } },
      { opType: "ConstantOfShape", inputs: ["out_shape"], outputs: ["output"], attributes: { value: { t: { dtype: "float32", dims: [1], data: [0] } } } },
    ],
  });
}

/**
 * Throws at run time with an error whose text quotes the inputs: it Reshapes the input to a
 * shape made of the first two values of the batch's first row, and onnxruntime's message names
 * the requested shape ("requested shape:{53,59}").
 */
export function buildQuotingErrorModel(): Uint8Array {
  const leak = firstRowValues(2);
  return buildModel({
    name: "quoting_error",
    inputs: [{ name: "input", dtype: "float32", shape: ["N", IN] }],
    outputs: [{ name: "output", dtype: "float32", shape: null }],
    initializers: leak.initializers,
    nodes: [...leak.nodes, { opType: "Reshape", inputs: ["input", "leaked"], outputs: ["output"] }],
  });
}

/** Identity over the task's input with an opset onnxruntime does not implement. */
export function buildFutureOpsetModel(opset = 99): Uint8Array {
  return identityModel({ opsetVersion: opset });
}

/** An operator that does not exist in the default domain. */
export function buildUnknownOperatorModel(opType = "TotallyMadeUpOp"): Uint8Array {
  return identityModel({ nodes: [{ opType, inputs: ["input"], outputs: ["output"] }] });
}

/** Adds a float32 input and an int64 constant: a type mismatch onnxruntime finds at load. */
export function buildTypeMismatchModel(): Uint8Array {
  return identityModel({
    initializers: [{ name: "k", dtype: "int64", dims: [1], data: [1] }],
    nodes: [{ opType: "Add", inputs: ["input", "k"], outputs: ["output"] }],
  });
}

/** Asks for `bytes` of float32 memory at run time (ConstantOfShape), far past any host. */
export function buildHugeAllocationModel(bytes = 2 ** 50): Uint8Array {
  const elements = Math.floor(bytes / 4);
  return identityModel({
    outputs: [{ name: "output", dtype: "float32", shape: null }],
    initializers: [{ name: "big_shape", dtype: "int64", dims: [2], data: new BigInt64Array([1n, BigInt(elements)]) }],
    nodes: [
      { opType: "ReduceMax", inputs: ["input"], outputs: ["seed"], attributes: { keepdims: { i: 0 } } },
      { opType: "Expand", inputs: ["seed", "big_shape"], outputs: ["output"] },
    ],
  });
}

function identityModel(over: Partial<ModelSpec>): Uint8Array {
  return buildModel({
    name: "probe",
    inputs: [{ name: "input", dtype: "float32", shape: ["N", IN] }],
    outputs: [{ name: "output", dtype: "float32", shape: ["N", OUT] }],
    nodes: [{ opType: "Identity", inputs: ["input"], outputs: ["output"] }],
    ...over,
  });
}

/**
 * The external-data model (build-model.ts), with `data_location` written as the varint 2^32 + 1
 * instead of 1. onnxruntime's protobuf reads the enum as an int32 (the low 32 bits: 1, EXTERNAL)
 * and loads the weights from the file next to the model; a reader taking the 64-bit value saw
 * "not EXTERNAL". protobufjs cannot write such a value, so the tensor's bytes are appended by hand.
 */
export function buildWrappedExternalDataModel(opts: { location?: string } = {}): Uint8Array {
  const model = onnx.ModelProto.decode(buildExternalDataModel(opts));
  const graph = model.graph!;
  const initializers = graph.initializer ?? [];
  const external = initializers.find((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL)!;
  graph.initializer = initializers.filter((t) => t !== external);
  external.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
  const dataLocationField = [14 << 3, 0x81, 0x80, 0x80, 0x80, 0x10]; // field 14, varint 2^32 + 1
  const tensor = concat(onnx.TensorProto.encode(external).finish(), Uint8Array.from(dataLocationField));
  const graphBytes = onnx.GraphProto.encode(graph).uint32((5 << 3) | 2).bytes(tensor).finish(); // + initializer
  model.graph = null;
  return onnx.ModelProto.encode(model).uint32((7 << 3) | 2).bytes(graphBytes).finish(); // + graph
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * A classifier that also carries an unused initializer declaring 2^40 x 2^40 elements and no
 * data: its parameter count passes 2^63, the bigint column that stores it.
 */
export function buildOverflowingParamCountModel(): Uint8Array {
  const model = onnx.ModelProto.decode(buildMlp({ sizes: [IN, OUT], seed: 11 }));
  const huge = new onnx.TensorProto({ name: "huge", dataType: 1, dims: [2 ** 40, 2 ** 40] });
  model.graph!.initializer = [...(model.graph!.initializer ?? []), huge];
  return onnx.ModelProto.encode(model).finish();
}
