/**
 * A tiny ONNX model, encoded here by hand so the sandbox needs no file and no protobuf
 * library to warm onnxruntime up: X[N,4] -> Gemm(W[4,3], B[3]) -> Relu -> Softmax -> Y[N,3].
 * The first session in a process costs ~36 ms (environment, thread pools, kernel
 * registries); creating and running this one while the sandbox waits moves that cost out
 * of the evaluation. Gemm/Relu/Softmax are the operators most task models start with.
 */
import type { NdArray } from "@goat/contracts/dataset/npy";

const WIRE_VARINT = 0;
const WIRE_LEN = 2;

class ProtoWriter {
  private bytes: number[] = [];

  private varint(value: number): void {
    let v = value;
    while (v > 0x7f) {
      this.bytes.push((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    this.bytes.push(v);
  }

  private key(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  int(field: number, value: number): this {
    this.key(field, WIRE_VARINT);
    this.varint(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytesField(field, new TextEncoder().encode(value));
  }

  message(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytesField(field, inner.finish());
  }

  bytesField(field: number, value: Uint8Array): this {
    this.key(field, WIRE_LEN);
    this.varint(value.length);
    for (const b of value) this.bytes.push(b);
    return this;
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

const FLOAT = 1; // TensorProto.DataType.FLOAT

function floatTensor(w: ProtoWriter, name: string, dims: number[], values: number[]): void {
  for (const d of dims) w.int(1, d); // dims
  w.int(2, FLOAT); // data_type
  w.string(8, name); // name
  w.bytesField(9, new Uint8Array(Float32Array.from(values).buffer)); // raw_data (little-endian)
}

function valueInfo(w: ProtoWriter, name: string, dims: (number | string)[]): void {
  w.string(1, name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, FLOAT); // elem_type
      tensor.message(2, (shape) => {
        for (const d of dims) {
          shape.message(1, (dim) => (typeof d === "number" ? dim.int(1, d) : dim.string(2, d)));
        }
      });
    }),
  );
}

function node(w: ProtoWriter, opType: string, inputs: string[], outputs: string[], intAttrs: Record<string, number> = {}): void {
  for (const i of inputs) w.string(1, i);
  for (const o of outputs) w.string(2, o);
  w.string(4, opType);
  for (const [name, value] of Object.entries(intAttrs)) {
    w.message(5, (a) => a.string(1, name).int(3, value).int(20, 2 /* AttributeType.INT */));
  }
}

export const WARMUP_INPUT = "X";
export const WARMUP_OUTPUT = "Y";
export const WARMUP_FEATURES = 4;
/** The rows of the warm-up's test inputs (warmupInputs). */
export const WARMUP_ROWS = 4;
/** The warm-up model's input, as a task's input spec: what every child's warm-up and the host check run it with. */
export const WARMUP_INPUT_SPECS = [{ name: WARMUP_INPUT, dtype: "float32" as const, shape: [-1, WARMUP_FEATURES] }];

/**
 * The warm-up's test inputs: four rows of WARMUP_FEATURES, run as batches of one row, so that the
 * child's reads run both ways: the first two batches read ahead while a spare, the next ones from
 * the evaluation (input-batches.ts; the first read on libuv's thread pool starts its threads).
 */
export function warmupInputs(): NdArray {
  return { dtype: "float32", shape: [WARMUP_ROWS, WARMUP_FEATURES], data: new Float32Array(WARMUP_ROWS * WARMUP_FEATURES).fill(0.5) };
}

export function buildWarmupModel(): Uint8Array {
  return new ProtoWriter()
    .int(1, 8) // ir_version
    .string(2, "mls-goat-warmup") // producer_name
    .message(8, (opset) => opset.string(1, "").int(2, 17)) // opset_import: ai.onnx 17
    .message(7, (graph) => {
      graph.message(1, (n) => node(n, "Gemm", [WARMUP_INPUT, "W", "B"], ["H"]));
      graph.message(1, (n) => node(n, "Relu", ["H"], ["R"]));
      graph.message(1, (n) => node(n, "Softmax", ["R"], [WARMUP_OUTPUT], { axis: 1 }));
      graph.string(2, "warmup");
      graph.message(5, (t) => floatTensor(t, "W", [4, 3], [0.1, -0.2, 0.3, 0.4, 0.5, -0.6, -0.7, 0.8, 0.9, 1, -1, 0.5]));
      graph.message(5, (t) => floatTensor(t, "B", [3], [0.01, 0.02, 0.03]));
      graph.message(11, (v) => valueInfo(v, WARMUP_INPUT, ["N", WARMUP_FEATURES]));
      graph.message(12, (v) => valueInfo(v, WARMUP_OUTPUT, ["N", 3]));
    })
    .finish();
}
