import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

import { parseNpy } from "@goat/contracts/dataset/npy";
import { parseNpz } from "@goat/contracts/dataset/npz";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import {
  MNIST_CLASSES,
  MNIST_FEATURES,
  loadMnistSource,
  loadMnistTestSet,
  loadMnistTrainingSet,
  prepareMnistTask2,
  splitMnistIndices,
} from "@/tools/demo/mnist-dataset";
import {
  accuracy,
  argmaxRows,
  buildDemoBaseline,
  exportBaselineOnnx,
  predictProbabilities,
  trainDemoBaseline,
  type LinearModel,
} from "@/tools/demo/train-baseline";

/** Byte-for-byte equality of two typed arrays (vitest's deep equality is slow on millions of elements). */
function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

describe("task2 MNIST split", () => {
  it("is deterministic, stratified and disjoint, covering every digit once", () => {
    const source = loadMnistSource();
    expect(source.rows).toBe(10_000);
    expect(source.x.length).toBe(10_000 * MNIST_FEATURES);

    const a = splitMnistIndices(source);
    const b = splitMnistIndices(source);
    expect(Array.from(a.trainIndices)).toEqual(Array.from(b.trainIndices));
    expect(Array.from(a.testIndices)).toEqual(Array.from(b.testIndices));

    expect(a.trainIndices.length).toBe(8_000);
    expect(a.testIndices.length).toBe(2_000);
    const seen = new Uint8Array(source.rows);
    for (const i of [...a.trainIndices, ...a.testIndices]) {
      expect(i).toBeGreaterThanOrEqual(0);
      expect(i).toBeLessThan(source.rows);
      seen[i]++;
    }
    expect(seen.every((n) => n === 1)).toBe(true); // union = all rows, no overlap

    // Every class is represented in the test set at about 20%.
    const perClass = new Array<number>(MNIST_CLASSES).fill(0);
    for (const i of a.testIndices) perClass[source.y[i]]++;
    for (const n of perClass) expect(n).toBeGreaterThan(150);
  });

  it("keeps pixels in [0,1] and labels in [0,10)", () => {
    for (const set of [loadMnistTrainingSet(), loadMnistTestSet()]) {
      expect(set.x.length).toBe(set.rows * MNIST_FEATURES);
      expect(set.y.every((v) => Number.isInteger(v) && v >= 0 && v < MNIST_CLASSES)).toBe(true);
      expect(set.x.every((v) => v >= 0 && v <= 1)).toBe(true);
    }
  });
});

describe("prepareMnistTask2", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "goat-demo-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes inputs.npy, labels.npy and train.npz, the same bytes every time", async () => {
    const counts = await prepareMnistTask2(dir);
    expect(counts).toEqual({ trainRows: 8_000, testRows: 2_000 });
    const files = ["inputs.npy", "labels.npy", "train.npz"].map((f) => path.join(dir, "task2", f));
    const first = await Promise.all(files.map((f) => readFile(f)));
    await prepareMnistTask2(dir);
    const second = await Promise.all(files.map((f) => readFile(f)));
    expect(second.map(sha256)).toEqual(first.map(sha256));

    const [inputsBytes, labelsBytes, trainBytes] = first.map((b) => new Uint8Array(b));
    const test = loadMnistTestSet();
    const inputs = parseNpy(inputsBytes);
    expect(inputs.dtype).toBe("float32");
    expect(inputs.shape).toEqual([2_000, MNIST_FEATURES]);
    expect(sameBytes(inputs.data, test.x)).toBe(true);

    const labels = parseNpy(labelsBytes);
    expect(labels.dtype).toBe("int64");
    expect(labels.shape).toEqual([2_000]);
    const labelValues = Array.from(labels.data as BigInt64Array, Number);
    expect(labelValues.every((v) => v >= 0 && v < MNIST_CLASSES)).toBe(true);
    expect(labelValues).toEqual(Array.from(test.y));

    const train = loadMnistTrainingSet();
    const archive = parseNpz(trainBytes);
    expect(Object.keys(archive).sort()).toEqual(["x", "y"]);
    expect(archive.x.dtype).toBe("float32");
    expect(archive.x.shape).toEqual([8_000, MNIST_FEATURES]);
    expect(sameBytes(archive.x.data, train.x)).toBe(true);
    expect(archive.y.dtype).toBe("int64");
    expect(archive.y.shape).toEqual([8_000]);
    expect(Array.from(archive.y.data as BigInt64Array, Number)).toEqual(Array.from(train.y));
  }, 30_000);
});

describe("demo baseline", () => {
  let model: LinearModel;
  let onnx: Uint8Array;
  beforeAll(() => {
    model = trainDemoBaseline();
    onnx = exportBaselineOnnx(model);
  }, 30_000);

  it("is trained deterministically", async () => {
    const again = await buildDemoBaseline();
    expect(sha256(again)).toBe(sha256(onnx));
  }, 30_000);

  it("scores above 0.85 on the hidden test set in onnxruntime, matching the TS forward pass", async () => {
    const test = loadMnistTestSet();
    const session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1 });
    try {
      expect(session.inputNames).toEqual(["input"]);
      expect(session.outputNames).toEqual(["output"]);
      const feeds = { input: new ort.Tensor("float32", test.x, [test.rows, MNIST_FEATURES]) };
      const result = await session.run(feeds);
      const out = result.output;
      expect(out.dims).toEqual([test.rows, MNIST_CLASSES]);
      const ortScores = out.data as Float32Array;

      const tsScores = predictProbabilities(model, test.x, test.rows);
      let maxDiff = 0;
      for (let i = 0; i < tsScores.length; i++) maxDiff = Math.max(maxDiff, Math.abs(tsScores[i] - ortScores[i]));
      expect(maxDiff).toBeLessThan(1e-4);

      const ortAcc = accuracy(ortScores, test.y, test.rows, MNIST_CLASSES);
      const tsAcc = accuracy(tsScores, test.y, test.rows, MNIST_CLASSES);
      // Predictions may only differ on near-ties between float32 (ORT) and float64 (TS) sums.
      const ortPred = argmaxRows(ortScores, test.rows, MNIST_CLASSES);
      const tsPred = argmaxRows(tsScores, test.rows, MNIST_CLASSES);
      let disagreements = 0;
      for (let r = 0; r < test.rows; r++) if (ortPred[r] !== tsPred[r]) disagreements++;
      expect(disagreements).toBeLessThanOrEqual(2);
      expect(Math.abs(ortAcc - tsAcc)).toBeLessThanOrEqual(2 / test.rows);
      expect(ortAcc).toBeGreaterThan(0.85);
    } finally {
      await session.release();
    }
  });
});
