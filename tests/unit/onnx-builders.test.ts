import { describe, expect, it } from "vitest";
import * as ort from "onnxruntime-node";
import { buildLinearClassifier, buildMlp, mlpWeights } from "../../tools/onnx/build-model";
import { buildNaNModel, buildThrowingModel, buildWrongOutputRowsModel, truncateBytes } from "@/tests/support/onnx/failing-models";
import { buildCustomDomainModel, buildExternalDataModel } from "@/tests/support/onnx/hostile-models";

/** The forward pass of buildMlp's network, in float64, from its weights. */
function forward(sizes: number[], seed: number, x: Float32Array, batch: number, softmax = false): Float64Array {
  let act = Float64Array.from(x);
  const layers = mlpWeights(sizes, seed);
  layers.forEach((layer, l) => {
    const next = new Float64Array(batch * layer.outDim);
    for (let n = 0; n < batch; n++) {
      for (let o = 0; o < layer.outDim; o++) {
        let sum = layer.bias[o];
        for (let i = 0; i < layer.inDim; i++) sum += act[n * layer.inDim + i] * layer.weights[i * layer.outDim + o];
        next[n * layer.outDim + o] = l < layers.length - 1 ? Math.max(0, sum) : sum;
      }
    }
    act = next;
  });
  if (softmax) {
    const k = sizes[sizes.length - 1];
    for (let n = 0; n < batch; n++) {
      const row = act.subarray(n * k, (n + 1) * k);
      const max = Math.max(...row);
      let total = 0;
      for (let j = 0; j < k; j++) total += (row[j] = Math.exp(row[j] - max));
      for (let j = 0; j < k; j++) row[j] /= total;
    }
  }
  return act;
}

function input(batch: number, dim: number, seed = 3): Float32Array {
  const x = new Float32Array(batch * dim);
  for (let i = 0; i < x.length; i++) x[i] = ((i * 7919 + seed * 104729) % 1000) / 1000;
  return x;
}

async function run(bytes: Uint8Array, x: Float32Array, dims: number[]) {
  const session = await ort.InferenceSession.create(bytes);
  const result = await session.run({ [session.inputNames[0]]: new ort.Tensor("float32", x, dims) });
  return result[session.outputNames[0]];
}

describe("ONNX builders under onnxruntime-node", () => {
  it("buildMlp computes the same forward pass as its weights (within 1e-4)", async () => {
    const sizes = [784, 64, 32, 10];
    const batch = 5;
    const x = input(batch, 784);
    const out = await run(buildMlp({ sizes, seed: 42 }), x, [batch, 784]);
    expect(out.dims).toEqual([batch, 10]);
    const want = forward(sizes, 42, x, batch);
    const got = out.data as Float32Array;
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-4);
  });

  it("buildMlp with softmax gives rows that are the expected probabilities", async () => {
    const sizes = [20, 16, 4];
    const x = input(3, 20);
    const out = await run(buildMlp({ sizes, seed: 7, softmax: true, inputName: "pixels", outputName: "probs" }), x, [3, 20]);
    const want = forward(sizes, 7, x, 3, true);
    const got = out.data as Float32Array;
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-5);
  });

  it("the symbolic batch accepts any batch size", async () => {
    const bytes = buildMlp({ sizes: [8, 3], seed: 1 });
    for (const batch of [1, 17]) {
      const out = await run(bytes, input(batch, 8), [batch, 8]);
      expect(out.dims).toEqual([batch, 3]);
    }
  });

  it("buildMlp is deterministic in its seed", () => {
    expect(buildMlp({ sizes: [10, 5, 2], seed: 9 })).toEqual(buildMlp({ sizes: [10, 5, 2], seed: 9 }));
    expect(buildMlp({ sizes: [10, 5, 2], seed: 9 })).not.toEqual(buildMlp({ sizes: [10, 5, 2], seed: 10 }));
  });

  it("buildLinearClassifier computes x·W + b", async () => {
    const weights = Float32Array.from([1, 2, 3, 4, 5, 6]); // [in=3][out=2]
    const bias = Float32Array.from([0.5, -0.5]);
    const out = await run(buildLinearClassifier({ weights, bias, inDim: 3, outDim: 2 }), Float32Array.from([1, 1, 1, 0, 1, 0]), [2, 3]);
    expect(Array.from(out.data as Float32Array)).toEqual([9.5, 11.5, 3.5, 3.5]);
  });

  it("the throwing model loads but throws when it runs", async () => {
    const session = await ort.InferenceSession.create(buildThrowingModel());
    await expect(session.run({ input: new ort.Tensor("float32", input(2, 784), [2, 784]) })).rejects.toThrow(/Gather|out of/);
  });

  it("the NaN model yields NaN", async () => {
    const out = await run(buildNaNModel(), input(2, 784), [2, 784]);
    expect(out.dims).toEqual([2, 10]);
    expect(Array.from(out.data as Float32Array).every(Number.isNaN)).toBe(true);
  });

  it("the wrong-rows model returns 2N rows although it declares N", async () => {
    const out = await run(buildWrongOutputRowsModel(), input(3, 784), [3, 784]);
    expect(out.dims).toEqual([6, 10]);
  });

  it("onnxruntime refuses the external-data, custom-domain and truncated models at load", async () => {
    await expect(ort.InferenceSession.create(buildExternalDataModel())).rejects.toThrow(/xternal/);
    await expect(ort.InferenceSession.create(buildCustomDomainModel())).rejects.toThrow(/com\.example\.custom/);
    await expect(ort.InferenceSession.create(truncateBytes(buildMlp({ sizes: [784, 10], seed: 1 })))).rejects.toThrow();
  });
});
