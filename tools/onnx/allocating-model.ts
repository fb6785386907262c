/**
 * The memory probe of the GPU check (scripts/gpu-check.ts, an ops script that must show the GPU
 * memory limit stops a model): it lives here, not with the test fixtures in tests/support/onnx/,
 * because production and tools code never import tests/ (eslint.config.mjs). The tests use it too.
 */
import { buildOnClassifierHead } from "./build-model";

/**
 * Allocates about `bytes` of memory when it runs (independent of the batch size): it Expands a
 * value computed from the input (so nothing can be folded at load time) to a float32 tensor of
 * bytes/4 elements, sums it, and adds 0 × the sum to the logits.
 */
export function buildAllocatingModel(opts: { bytes: number }): Uint8Array {
  const elements = Math.max(1, Math.ceil(opts.bytes / 4));
  return buildOnClassifierHead(3, {
    name: "allocating",
    initializers: [
      { name: "big_shape", dtype: "int64", dims: [1], data: new BigInt64Array([BigInt(elements)]) },
      { name: "zero", dtype: "float32", dims: [], data: [0] },
    ],
    nodes: [
      { opType: "ReduceMax", inputs: ["input"], outputs: ["seed"], attributes: { keepdims: { i: 0 } } },
      { opType: "Expand", inputs: ["seed", "big_shape"], outputs: ["big"] },
      { opType: "ReduceSum", inputs: ["big"], outputs: ["total"], attributes: { keepdims: { i: 0 } } },
      { opType: "Mul", inputs: ["total", "zero"], outputs: ["nothing"] },
      { opType: "Add", inputs: ["logits", "nothing"], outputs: ["output"] },
    ],
  });
}
