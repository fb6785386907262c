/**
 * Models that fail by accident, as a participant's model might: they throw, hang, answer NaN or
 * the wrong number of rows, ask for an opset or operator onnxruntime lacks, or arrive cut short.
 * Unless said otherwise they have the classifier signature (input "input" float32 [N, 784] ->
 * output "output" float32 [N, 10]), so they pass the intake check and fail in the sandbox.
 * Test fixtures, built with tools/onnx/build-model.ts; the models that attack the platform are in
 * hostile-models.ts.
 */
import { CLASSIFIER_IN as IN, CLASSIFIER_OUT as OUT, buildModel, buildOnClassifierHead, type GraphSpec, type ModelSpec } from "@/tools/onnx/build-model";

export { buildAllocatingModel } from "@/tools/onnx/allocating-model";

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
  return buildOnClassifierHead(2, {
    name: "hanging",
    initializers: [
      { name: "M", dtype: "float32", dims: [OUT, OUT], data: m },
      { name: "trip_count", dtype: "int64", dims: [], data: new BigInt64Array([tripCount]) },
      { name: "keep_going", dtype: "bool", dims: [], data: [1] },
    ],
    nodes: [
      {
        opType: "Loop",
        inputs: ["trip_count", "keep_going", "logits"],
        outputs: ["output"],
        attributes: { body: { g: body } },
      },
    ],
  });
}

/** A classifier whose every output is NaN (logits + a NaN constant). */
export function buildNaNModel(): Uint8Array {
  return buildOnClassifierHead(4, {
    name: "nan",
    initializers: [
      { name: "nan", dtype: "float32", dims: [OUT], data: new Float32Array(OUT).fill(Number.NaN) },
    ],
    nodes: [{ opType: "Add", inputs: ["logits", "nan"], outputs: ["output"] }],
  });
}

/**
 * Declares output [N, 10] but returns 2N rows at run time (the logits concatenated with
 * themselves), so only the worker's check of the actual output shape catches it.
 */
export function buildWrongOutputRowsModel(): Uint8Array {
  return buildOnClassifierHead(5, {
    name: "wrong_rows",
    nodes: [{ opType: "Concat", inputs: ["logits", "logits"], outputs: ["output"], attributes: { axis: { i: 0 } } }],
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

/** The first `fraction` of the bytes (a copy), e.g. an upload cut short. */
export function truncateBytes(bytes: Uint8Array, fraction = 0.5): Uint8Array {
  const keep = Math.max(1, Math.min(bytes.length - 1, Math.floor(bytes.length * fraction)));
  return bytes.slice(0, keep);
}
