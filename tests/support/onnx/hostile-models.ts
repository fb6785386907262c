/**
 * Models that attack the platform rather than fail by accident: they read weights from a file
 * beside the model, call an operator from a custom domain, try to carry the hidden test inputs out
 * through an output shape or an error message, or overflow the stored parameter count. Test
 * fixtures, built with tools/onnx/build-model.ts; the models that merely fail are in
 * failing-models.ts.
 */
import onnxProto from "onnx-proto";
import { CLASSIFIER_IN as IN, CLASSIFIER_OUT as OUT, buildMlp, buildModel, buildOnClassifierHead, mlpWeights, type GraphSpec } from "@/tools/onnx/build-model";

const { onnx } = onnxProto;

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
  return buildOnClassifierHead(7, {
    name: "custom_domain",
    extraOpsets: [{ domain, version: 1 }],
    nodes: [{ opType: "CustomRelu", domain, inputs: ["logits"], outputs: ["output"] }],
  });
}

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

/**
 * The external-data model (above), with `data_location` written as the varint 2^32 + 1
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
