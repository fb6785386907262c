import { describe, expect, it } from "vitest";
import { buildLinearClassifier, buildMlp, buildModel, mlpParamCount } from "../../tools/onnx/build-model";
import { buildAllocatingModel, buildHangingModel, truncateBytes } from "@/tests/support/onnx/failing-models";
import { buildCustomDomainModel, buildExternalDataModel, CUSTOM_DOMAIN } from "@/tests/support/onnx/hostile-models";
import { inspectOnnxModel, OnnxFormatError } from "../../lib/onnx/inspect-model";


function formatError(bytes: Uint8Array): OnnxFormatError {
  try {
    inspectOnnxModel(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(OnnxFormatError);
    return error as OnnxFormatError;
  }
  throw new Error("expected an OnnxFormatError");
}

/** Bytes of a protobuf varint. */
function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

describe("inspectOnnxModel", () => {
  it("reads an MLP's signature, ops and exact parameter count", () => {
    const sizes = [784, 512, 512, 10];
    const info = inspectOnnxModel(buildMlp({ sizes, seed: 1 }));
    expect(info.irVersion).toBe(8);
    expect(info.producerName).toBe("mls-goat-tools");
    expect(info.opsetImports).toEqual([{ domain: "", version: 17 }]);
    expect(info.inputs).toEqual([{ name: "input", dtype: "float32", shape: ["N", 784], rankKnown: true }]);
    expect(info.outputs).toEqual([{ name: "output", dtype: "float32", shape: ["N", 10], rankKnown: true }]);
    expect(info.nodeCount).toBe(5); // 3 Gemm + 2 Relu
    expect(info.opTypes).toEqual(["Gemm", "Relu"]);
    expect(info.operatorDomains).toEqual([""]);
    expect(info.externalDataTensors).toEqual([]);
    expect(info.paramCount).toBe(784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10);
    expect(info.paramCount).toBe(mlpParamCount(sizes));
    expect(info.initializerCount).toBe(6);
    expect(info.subgraphCount).toBe(0);
  });

  it("reads names, softmax, fixed batches and overridden metadata", () => {
    const info = inspectOnnxModel(buildMlp({ sizes: [4, 3], seed: 1, softmax: true, inputName: "x", outputName: "probs", fixedBatch: 1 }));
    expect(info.inputs).toEqual([{ name: "x", dtype: "float32", shape: [1, 4], rankKnown: true }]);
    expect(info.outputs[0]).toMatchObject({ name: "probs", shape: [1, 3] });
    expect(info.opTypes).toEqual(["Gemm", "Softmax"]);

    const odd = inspectOnnxModel(
      buildMlp({ sizes: [4, 3], seed: 1, inputShape: ["batch", null, 2, 2], inputDtype: "float64", outputShape: null, outputDtype: 99 }),
    );
    expect(odd.inputs[0]).toEqual({ name: "input", dtype: "float64", shape: ["batch", null, 2, 2], rankKnown: true });
    expect(odd.outputs[0]).toEqual({ name: "output", dtype: "unknown(99)", shape: [], rankKnown: false });
  });

  it("maps element types and leaves initializers listed as inputs out of the inputs", () => {
    const bytes = buildModel({
      inputs: [
        { name: "ids", dtype: "int64", shape: ["N", 16] },
        { name: "mask", dtype: "bool", shape: ["N", 16] },
        { name: "W", dtype: "float32", shape: [2] },
      ],
      outputs: [
        { name: "out_ids", dtype: "int64", shape: ["N", 16] },
        { name: "out_mask", dtype: "bool", shape: ["N", 16] },
        { name: "out_w", dtype: "float32", shape: [2] },
      ],
      initializers: [{ name: "W", dtype: "float32", dims: [2], data: [1, 2] }],
      nodes: [
        { opType: "Identity", inputs: ["ids"], outputs: ["out_ids"] },
        { opType: "Identity", inputs: ["mask"], outputs: ["out_mask"] },
        { opType: "Identity", inputs: ["W"], outputs: ["out_w"] },
      ],
    });
    const info = inspectOnnxModel(bytes);
    expect(info.inputs.map((i) => [i.name, i.dtype])).toEqual([
      ["ids", "int64"],
      ["mask", "bool"],
    ]);
    expect(info.outputs.map((o) => o.dtype)).toEqual(["int64", "bool", "float32"]);
    expect(info.paramCount).toBe(2);
  });

  it("walks Loop bodies and counts their nodes", () => {
    const info = inspectOnnxModel(buildHangingModel());
    expect(info.subgraphCount).toBe(1);
    expect(info.opTypes).toEqual(["Gemm", "Identity", "Loop", "MatMul", "Tanh"]);
    expect(info.nodeCount).toBe(5);
    expect(info.inputs[0].shape).toEqual(["N", 784]);
  });

  it("finds a custom domain inside a subgraph", () => {
    const bytes = buildModel({
      inputs: [
        { name: "c", dtype: "bool", shape: [] },
        { name: "x", dtype: "float32", shape: ["N", 2] },
      ],
      outputs: [{ name: "y", dtype: "float32", shape: ["N", 2] }],
      extraOpsets: [{ domain: CUSTOM_DOMAIN, version: 1 }],
      nodes: [
        {
          opType: "If",
          inputs: ["c"],
          outputs: ["y"],
          attributes: {
            then_branch: {
              g: { inputs: [], outputs: [{ name: "t", dtype: "float32", shape: ["N", 2] }], nodes: [{ opType: "Secret", domain: CUSTOM_DOMAIN, inputs: ["x"], outputs: ["t"] }] },
            },
            else_branch: {
              g: { inputs: [], outputs: [{ name: "e", dtype: "float32", shape: ["N", 2] }], nodes: [{ opType: "Identity", inputs: ["x"], outputs: ["e"] }] },
            },
          },
        },
      ],
    });
    const info = inspectOnnxModel(bytes);
    expect(info.operatorDomains).toEqual(["", CUSTOM_DOMAIN]);
    expect(info.subgraphCount).toBe(2);
    expect(info.nodeCount).toBe(3);
  });

  it("lists external-data initializers and Constant tensors", () => {
    expect(inspectOnnxModel(buildExternalDataModel()).externalDataTensors).toEqual(["W"]);
    const bytes = buildModel({
      inputs: [{ name: "x", dtype: "float32", shape: ["N", 2] }],
      outputs: [{ name: "y", dtype: "float32", shape: ["N", 2] }],
      nodes: [
        { opType: "Constant", name: "k", inputs: [], outputs: ["k_out"], attributes: { value: { t: { dtype: "float32", dims: [2], external: { location: "k.bin" } } } } },
        { opType: "Add", inputs: ["x", "k_out"], outputs: ["y"] },
      ],
    });
    expect(inspectOnnxModel(bytes).externalDataTensors).toEqual(["k/value"]);
  });

  it("lists custom operator domains", () => {
    const info = inspectOnnxModel(buildCustomDomainModel());
    expect(info.operatorDomains).toEqual(["", "com.example.custom"]);
    expect(info.opTypes).toContain("CustomRelu");
    expect(info.opsetImports).toContainEqual({ domain: "com.example.custom", version: 1 });
  });

  it("does not need to decode weights: a 200 MB model is inspected quickly", () => {
    const big = buildLinearClassifier({ weights: new Float32Array(50_000_000), bias: new Float32Array(10), inDim: 5_000_000, outDim: 10 });
    const t0 = performance.now();
    const info = inspectOnnxModel(big);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(info.paramCount).toBe(50_000_010);
  });

  it("refuses an empty file, images, text and random bytes as NOT_ONNX", () => {
    expect(formatError(new Uint8Array(0)).code).toBe("NOT_ONNX");
    const png = formatError(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]));
    expect(png.code).toBe("NOT_ONNX");
    expect(png.message).toMatch(/PNG/);
    expect(formatError(new TextEncoder().encode("name,label\n1,2\n")).code).toBe("NOT_ONNX");
    expect(formatError(new TextEncoder().encode("{\"weights\": [1, 2, 3]}")).message).toMatch(/text/);
    expect(formatError(Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 1, 2, 3, 4])).message).toMatch(/ZIP/);
    let seed = 12345;
    for (let k = 0; k < 20; k++) {
      const bytes = Uint8Array.from({ length: 1000 + k * 37 }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff);
      expect(formatError(bytes).code).toBe("NOT_ONNX");
    }
  });

  it("refuses a ModelProto without a graph as NOT_ONNX", () => {
    // ir_version 8, producer_name "x", opset_import { version 17 }: valid protobuf, no graph.
    const bytes = Uint8Array.from([0x08, 8, 0x12, 1, 0x78, 0x42, 2, 0x10, 17]);
    const error = formatError(bytes);
    expect(error.code).toBe("NOT_ONNX");
    expect(error.message).toMatch(/no graph/);
  });

  it("refuses damaged bytes (a bad wire type inside the graph) as NOT_ONNX", () => {
    const graph = [0x0b, 0x0c]; // field 1 as a start-group
    const bytes = Uint8Array.from([0x08, 8, 0x3a, ...varint(graph.length), ...graph]);
    expect(formatError(bytes).code).toBe("NOT_ONNX");
  });

  it("refuses truncated models as TRUNCATED, wherever they are cut", () => {
    const bytes = buildMlp({ sizes: [784, 32, 10], seed: 1 });
    for (const fraction of [0.0005, 0.01, 0.3, 0.5, 0.9, 0.9999]) {
      const error = formatError(truncateBytes(bytes, fraction));
      expect(error.code).toBe("TRUNCATED");
      expect(error.message).toMatch(/incomplete/);
    }
    expect(formatError(bytes.subarray(0, bytes.length - 1)).code).toBe("TRUNCATED");
  });

  it("reads the allocating model's signature like a classifier's", () => {
    const info = inspectOnnxModel(buildAllocatingModel({ bytes: 1e9 }));
    expect(info.inputs[0]).toMatchObject({ name: "input", shape: ["N", 784] });
    expect(info.outputs[0]).toMatchObject({ name: "output", shape: ["N", 10] });
  });
});
