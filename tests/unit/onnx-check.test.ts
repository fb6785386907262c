import { describe, expect, it } from "vitest";
import type { TensorSpec } from "@goat/contracts/tensor-spec";
import { buildMlp, buildModel, type ValueSpec } from "../../tools/onnx/build-model";
import { buildHangingModel, buildNaNModel, buildThrowingModel, buildWrongOutputRowsModel } from "@/tests/support/onnx/failing-models";
import { buildCustomDomainModel, buildExternalDataModel } from "@/tests/support/onnx/hostile-models";
import { inspectOnnxModel } from "../../lib/onnx/inspect-model";
import { checkModelForTask } from "../../lib/onnx/check-model";


const MNIST = {
  inputSpec: [{ name: "input", dtype: "float32", shape: [-1, 784] }] as TensorSpec[],
  outputSpec: [{ name: "output", dtype: "float32", shape: [-1, 10] }] as TensorSpec[],
};

function check(bytes: Uint8Array, task = MNIST) {
  return checkModelForTask(inspectOnnxModel(bytes), task);
}

/** A model passing its inputs through Identity nodes to outputs with the given metadata. */
function passThrough(inputs: ValueSpec[], outputs: ValueSpec[]): Uint8Array {
  return buildModel({
    inputs,
    outputs,
    nodes: outputs.map((o, i) => ({ opType: "Identity", inputs: [inputs[Math.min(i, inputs.length - 1)].name], outputs: [o.name] })),
  });
}

describe("checkModelForTask", () => {
  it("accepts a matching MLP, whatever its single input and output are called", () => {
    expect(check(buildMlp({ sizes: [784, 32, 10], seed: 1 }))).toBeNull();
    expect(check(buildMlp({ sizes: [784, 10], seed: 1, softmax: true, inputName: "pixels", outputName: "logits" }))).toBeNull();
  });

  it("accepts the hostile models whose problems only show at run time", () => {
    for (const bytes of [buildThrowingModel(), buildHangingModel(), buildNaNModel(), buildWrongOutputRowsModel()]) {
      expect(check(bytes)).toBeNull();
    }
  });

  it("accepts a symbolic or unknown dim where the task fixes a size, and an unknown batch dim", () => {
    expect(check(buildMlp({ sizes: [784, 10], seed: 1, inputShape: [null, "features"], outputShape: ["batch", 10] }))).toBeNull();
  });

  it("refuses external data, naming the tensors", () => {
    const problem = check(buildExternalDataModel());
    expect(problem?.code).toBe("EXTERNAL_DATA");
    expect(problem?.message).toContain('"W"');
    expect(problem?.found).toEqual({ externalDataTensors: ["W"] });
  });

  it("refuses a custom operator domain, naming it", () => {
    const problem = check(buildCustomDomainModel());
    expect(problem?.code).toBe("UNSUPPORTED_OPERATOR_DOMAIN");
    expect(problem?.message).toContain('"com.example.custom"');
  });

  it("allows the ai.onnx and ai.onnx.ml domains", () => {
    const bytes = buildModel({
      inputs: [{ name: "input", dtype: "float32", shape: ["N", 784] }],
      outputs: [{ name: "output", dtype: "float32", shape: ["N", 10] }],
      extraOpsets: [{ domain: "ai.onnx.ml", version: 3 }],
      initializers: [{ name: "idx", dtype: "int64", dims: [10], data: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] }],
      nodes: [
        { opType: "Gather", domain: "ai.onnx", inputs: ["input", "idx"], outputs: ["g"], attributes: { axis: { i: 1 } } },
        { opType: "Normalizer", domain: "ai.onnx.ml", inputs: ["g"], outputs: ["output"], attributes: { norm: { s: "L2" } } },
      ],
    });
    expect(check(bytes)).toBeNull();
  });

  it("refuses a wrong input shape with expected vs found", () => {
    const problem = check(buildMlp({ sizes: [784, 10], seed: 1, inputShape: ["N", 28, 28] }));
    expect(problem?.code).toBe("SIGNATURE_MISMATCH");
    expect(problem?.message).toContain('input "input" has shape [N, 28, 28]; the task expects [N, 784] (float32)');
    expect(problem?.expected).toEqual(MNIST.inputSpec[0]);
    expect(problem?.found).toEqual({ name: "input", dtype: "float32", shape: ["N", 28, 28] });
  });

  it("refuses a wrong fixed dim size", () => {
    const problem = check(buildMlp({ sizes: [784, 12], seed: 1 }));
    expect(problem?.code).toBe("SIGNATURE_MISMATCH");
    expect(problem?.message).toContain('output "output" has shape [N, 12]; the task expects [N, 10] (float32)');
  });

  it("refuses a fixed batch dimension, saying it must be dynamic", () => {
    const problem = check(buildMlp({ sizes: [784, 10], seed: 1, fixedBatch: 1 }));
    expect(problem?.code).toBe("SIGNATURE_MISMATCH");
    expect(problem?.message).toMatch(/batch dimension must be dynamic/);
    expect(problem?.message).toContain("[1, 784]");
  });

  it("refuses a wrong element type", () => {
    const input = check(buildMlp({ sizes: [784, 10], seed: 1, inputDtype: "float64" }));
    expect(input?.code).toBe("SIGNATURE_MISMATCH");
    expect(input?.message).toContain('input "input" has element type float64; the task expects float32');
    const output = check(buildMlp({ sizes: [784, 10], seed: 1, outputDtype: "int64" }));
    expect(output?.message).toContain('output "output" has element type int64');
    const odd = check(buildMlp({ sizes: [784, 10], seed: 1, inputDtype: 77 }));
    expect(odd?.message).toContain("unknown(77)");
  });

  it("refuses a wrong number of inputs or outputs", () => {
    const twoInputs = passThrough(
      [
        { name: "a", dtype: "float32", shape: ["N", 784] },
        { name: "b", dtype: "float32", shape: ["N", 784] },
      ],
      [{ name: "output", dtype: "float32", shape: ["N", 10] }],
    );
    const problem = check(twoInputs);
    expect(problem?.code).toBe("SIGNATURE_MISMATCH");
    expect(problem?.message).toMatch(/The model has 2 inputs: "a" \[N, 784\] \(float32\), "b" .*the task expects 1 input: "input" \[N, 784\] \(float32\)/);

    const twoOutputs = passThrough(
      [{ name: "input", dtype: "float32", shape: ["N", 784] }],
      [
        { name: "o1", dtype: "float32", shape: ["N", 10] },
        { name: "o2", dtype: "float32", shape: ["N", 10] },
      ],
    );
    expect(check(twoOutputs)?.message).toMatch(/The model has 2 outputs/);
  });

  describe("with several inputs", () => {
    const task = {
      inputSpec: [
        { name: "ids", dtype: "int64", shape: [-1, 16] },
        { name: "mask", dtype: "bool", shape: [-1, 16] },
      ] as TensorSpec[],
      outputSpec: [{ name: "score", dtype: "float32", shape: [-1, 1] }] as TensorSpec[],
    };
    const model = (inputs: ValueSpec[]) =>
      buildModel({
        inputs,
        outputs: [{ name: "y", dtype: "float32", shape: ["N", 1] }],
        nodes: [{ opType: "Cast", inputs: [inputs[0].name], outputs: ["y"], attributes: { to: { i: 1 } } }],
      });

    it("accepts the task's names in any order", () => {
      const bytes = model([
        { name: "mask", dtype: "bool", shape: ["N", 16] },
        { name: "ids", dtype: "int64", shape: ["N", 16] },
      ]);
      expect(check(bytes, task)).toBeNull();
    });

    it("refuses other names", () => {
      const problem = check(
        model([
          { name: "input_ids", dtype: "int64", shape: ["N", 16] },
          { name: "mask", dtype: "bool", shape: ["N", 16] },
        ]),
        task,
      );
      expect(problem?.code).toBe("SIGNATURE_MISMATCH");
      expect(problem?.message).toContain('The task expects an input named "ids" [N, 16] (int64)');
      expect(problem?.message).toContain('"input_ids"');
    });

    it("checks each named input's dtype and shape", () => {
      const problem = check(
        model([
          { name: "ids", dtype: "int64", shape: ["N", 16] },
          { name: "mask", dtype: "uint8", shape: ["N", 16] },
        ]),
        task,
      );
      expect(problem?.message).toContain('input "mask" has element type uint8; the task expects bool');
      const rank = check(
        model([
          { name: "ids", dtype: "int64", shape: ["N", 16, 1] },
          { name: "mask", dtype: "bool", shape: ["N", 16] },
        ]),
        task,
      );
      expect(rank?.message).toContain('input "ids" has shape [N, 16, 1]; the task expects [N, 16] (int64)');
    });
  });

  it("lets a model without a declared output shape through (the worker checks the real output)", () => {
    expect(check(buildMlp({ sizes: [784, 10], seed: 1, outputShape: null }))).toBeNull();
  });
});
