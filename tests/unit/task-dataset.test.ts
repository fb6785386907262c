import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TensorSpec } from "@goat/contracts/tensor-spec";
import { DatasetFormatError, writeNpyFile, type NdArray } from "@goat/contracts/dataset/npy";
import { writeNpzFile } from "@goat/contracts/dataset/npz";
import {
  DATASET_FILES,
  DatasetIntegrityError,
  datasetFolderVersion,
  loadDatasetInputs,
  readVerifiedDataset,
  loadDatasetLabels,
  validateDataset,
  type DatasetTask,
} from "@goat/contracts/dataset/task-dataset";

let root: string;
let counter = 0;
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "goat-dataset-"));
});
afterAll(async () => fs.rm(root, { recursive: true, force: true }));

/** A fresh dataset directory holding the given .npy / .npz files. */
async function datasetDir(files: Record<string, NdArray | Record<string, NdArray>>): Promise<string> {
  const dir = path.join(root, `d${counter++}`);
  await fs.mkdir(dir);
  for (const [name, content] of Object.entries(files)) {
    if (name.endsWith(".npz")) await writeNpzFile(path.join(dir, name), content as Record<string, NdArray>);
    else await writeNpyFile(path.join(dir, name), content as NdArray);
  }
  return dir;
}

const f32 = (shape: number[], values?: number[]): NdArray => ({
  dtype: "float32",
  shape,
  data: values ? Float32Array.from(values) : new Float32Array(shape.reduce((n, d) => n * d, 1)),
});
const i64 = (values: number[]): NdArray => ({ dtype: "int64", shape: [values.length], data: BigInt64Array.from(values.map(BigInt)) });

const image: TensorSpec = { name: "image", dtype: "float32", shape: [-1, 2, 2] };
const classifier: DatasetTask = {
  kind: "CLASSIFICATION",
  inputSpec: [image],
  outputSpec: [{ name: "logits", dtype: "float32", shape: [-1, 3] }],
};
const twoInputs: TensorSpec[] = [
  { name: "pixels", dtype: "float32", shape: [-1, 4] },
  { name: "mask", dtype: "bool", shape: [-1, -1] },
];

describe("loadDatasetInputs", () => {
  it("maps inputs.npy to the single input's name", async () => {
    const dir = await datasetDir({ [DATASET_FILES.inputs]: f32([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]) });
    const inputs = await loadDatasetInputs(dir, [image]);
    expect(Object.keys(inputs)).toEqual(["image"]);
    expect(inputs.image.shape).toEqual([2, 2, 2]);
    expect(Array.from<number | bigint>(inputs.image.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("reads one named array per input from inputs.npz, accepting any size for free dims", async () => {
    const dir = await datasetDir({
      [DATASET_FILES.inputsNpz]: {
        pixels: f32([3, 4]),
        mask: { dtype: "bool", shape: [3, 7], data: new Uint8Array(21).fill(1) },
      },
    });
    const inputs = await loadDatasetInputs(dir, twoInputs);
    expect(Object.keys(inputs).sort()).toEqual(["mask", "pixels"]);
    expect(inputs.mask.shape).toEqual([3, 7]);
  });

  it("refuses an array whose dtype differs from the input's", async () => {
    const dir = await datasetDir({ [DATASET_FILES.inputs]: { dtype: "float64", shape: [1, 2, 2], data: new Float64Array(4) } });
    await expect(loadDatasetInputs(dir, [image])).rejects.toThrow(
      "inputs.npy: input 'image' is float64 but the task declares float32",
    );
  });

  it("refuses an array whose fixed dims or rank differ from the input's", async () => {
    const wrongDim = await datasetDir({ [DATASET_FILES.inputs]: f32([1, 2, 3]) });
    await expect(loadDatasetInputs(wrongDim, [image])).rejects.toThrow(
      "input 'image' has shape [1, 2, 3] but the task declares [N, 2, 2]",
    );
    const wrongRank = await datasetDir({ [DATASET_FILES.inputs]: f32([1, 4]) });
    await expect(loadDatasetInputs(wrongRank, [image])).rejects.toThrow(DatasetFormatError);
  });

  it("refuses an archive that lacks an input or holds arrays that are not inputs", async () => {
    const dir = await datasetDir({ [DATASET_FILES.inputsNpz]: { pixels: f32([3, 4]), extra: f32([3]) } });
    await expect(loadDatasetInputs(dir, twoInputs)).rejects.toThrow(
      "inputs.npz: the archive must hold exactly the task's inputs [pixels, mask]; missing: mask; not model inputs: extra",
    );
  });

  it("refuses inputs.npy for a task with several inputs", async () => {
    const dir = await datasetDir({ [DATASET_FILES.inputs]: f32([3, 4]) });
    await expect(loadDatasetInputs(dir, twoInputs)).rejects.toThrow("the task has 2 model inputs");
  });

  it("refuses a directory with both inputs files or neither", async () => {
    const both = await datasetDir({ [DATASET_FILES.inputs]: f32([1, 2, 2]), [DATASET_FILES.inputsNpz]: { image: f32([1, 2, 2]) } });
    await expect(loadDatasetInputs(both, [image])).rejects.toThrow("holds both inputs.npy and inputs.npz");
    const neither = await datasetDir({});
    await expect(loadDatasetInputs(neither, [image])).rejects.toThrow("holds neither inputs.npy nor inputs.npz");
  });
});

describe("loadDatasetLabels", () => {
  it("reads labels.npy, and says when it is missing", async () => {
    const dir = await datasetDir({ [DATASET_FILES.labels]: i64([2, 0, 1]) });
    expect(Array.from((await loadDatasetLabels(dir)).data as BigInt64Array)).toEqual([2n, 0n, 1n]);
    const empty = await datasetDir({});
    await expect(loadDatasetLabels(empty)).rejects.toThrow(`${empty} has no labels.npy`);
  });
});

describe("validateDataset", () => {
  it("accepts a classification dataset and reports its rows and a content version", async () => {
    const files = { [DATASET_FILES.inputs]: f32([3, 2, 2]), [DATASET_FILES.labels]: i64([2, 0, 1]) };
    const first = await validateDataset(await datasetDir(files), classifier);
    expect(first.rows).toBe(3);
    expect(first.version).toMatch(/^[0-9a-f]{64}$/);
    // Same bytes in another directory: same version. One label changed: another version.
    expect((await validateDataset(await datasetDir(files), classifier)).version).toBe(first.version);
    const changed = await validateDataset(await datasetDir({ ...files, [DATASET_FILES.labels]: i64([2, 0, 0]) }), classifier);
    expect(changed.version).not.toBe(first.version);
  });

  it("ignores train.npz: it does not change the version", async () => {
    const files = { [DATASET_FILES.inputs]: f32([1, 2, 2]), [DATASET_FILES.labels]: i64([0]) };
    const plain = await validateDataset(await datasetDir(files), classifier);
    const withTrain = await validateDataset(await datasetDir({ ...files, "train.npz": { x: f32([5]) } }), classifier);
    expect(withTrain.version).toBe(plain.version);
  });

  it("refuses inputs and labels with different row counts, and empty datasets", async () => {
    const mismatch = await datasetDir({ [DATASET_FILES.inputs]: f32([4, 2, 2]), [DATASET_FILES.labels]: i64([0, 1, 2]) });
    await expect(validateDataset(mismatch, classifier)).rejects.toThrow("input 'image' has 4 rows but labels.npy has 3");
    const empty = await datasetDir({ [DATASET_FILES.inputs]: f32([0, 2, 2]), [DATASET_FILES.labels]: i64([]) });
    await expect(validateDataset(empty, classifier)).rejects.toThrow("labels.npy has no rows");
  });

  it("refuses classification labels outside [0, C)", async () => {
    const dir = await datasetDir({ [DATASET_FILES.inputs]: f32([2, 2, 2]), [DATASET_FILES.labels]: i64([1, 3]) });
    await expect(validateDataset(dir, classifier)).rejects.toThrow(
      "labels.npy: label 3 at row 1 is outside [0, 3), the model's class range",
    );
    const negative = await datasetDir({
      [DATASET_FILES.inputs]: f32([1, 2, 2]),
      [DATASET_FILES.labels]: { dtype: "int32", shape: [1], data: Int32Array.from([-1]) },
    });
    await expect(validateDataset(negative, classifier)).rejects.toThrow("label -1 at row 0");
  });

  it("refuses float or multi-dimensional classification labels", async () => {
    const floats = await datasetDir({ [DATASET_FILES.inputs]: f32([2, 2, 2]), [DATASET_FILES.labels]: f32([2], [0, 1]) });
    await expect(validateDataset(floats, classifier)).rejects.toThrow("classification labels must be integers");
    const oneHot = await datasetDir({
      [DATASET_FILES.inputs]: f32([2, 2, 2]),
      [DATASET_FILES.labels]: { dtype: "uint8", shape: [2, 3], data: Uint8Array.from([1, 0, 0, 0, 1, 0]) },
    });
    await expect(validateDataset(oneHot, classifier)).rejects.toThrow("classification labels must be 1-d [N], got [2, 3]");
  });

  it("refuses a classification task whose output leaves the class count free", async () => {
    const dir = await datasetDir({ [DATASET_FILES.inputs]: f32([1, 2, 2]), [DATASET_FILES.labels]: i64([0]) });
    const task = { ...classifier, outputSpec: [{ name: "logits", dtype: "float32" as const, shape: [-1, -1] }] };
    await expect(validateDataset(dir, task)).rejects.toThrow("fixed class count C, got [N, N]");
  });

  describe("regression", () => {
    const regressor = (outputShape: number[]): DatasetTask => ({
      kind: "REGRESSION",
      inputSpec: [{ name: "x", dtype: "float32", shape: [-1, 3] }],
      outputSpec: [{ name: "y", dtype: "float32", shape: outputShape }],
    });

    it("accepts [N] labels for an [N, 1] output and [N, 2] labels for an [N, 2] output", async () => {
      const flat = await datasetDir({ [DATASET_FILES.inputs]: f32([2, 3]), [DATASET_FILES.labels]: f32([2], [0.5, 1.5]) });
      expect((await validateDataset(flat, regressor([-1, 1]))).rows).toBe(2);
      const wide = await datasetDir({
        [DATASET_FILES.inputs]: f32([2, 3]),
        [DATASET_FILES.labels]: { dtype: "float64", shape: [2, 2], data: Float64Array.from([1, 2, 3, 4]) },
      });
      expect((await validateDataset(wide, regressor([-1, 2]))).rows).toBe(2);
    });

    it("refuses labels whose row width differs from the output's", async () => {
      const dir = await datasetDir({ [DATASET_FILES.inputs]: f32([2, 3]), [DATASET_FILES.labels]: f32([2, 3]) });
      await expect(validateDataset(dir, regressor([-1, 2]))).rejects.toThrow(
        "regression labels have shape [2, 3], 3 values a row, but the model outputs 2 values a row",
      );
    });

    it("refuses integer or non-finite labels", async () => {
      const ints = await datasetDir({ [DATASET_FILES.inputs]: f32([2, 3]), [DATASET_FILES.labels]: i64([1, 2]) });
      await expect(validateDataset(ints, regressor([-1, 1]))).rejects.toThrow("must be float32 or float64, got int64");
      const nan = await datasetDir({ [DATASET_FILES.inputs]: f32([2, 3]), [DATASET_FILES.labels]: f32([2], [1, Number.NaN]) });
      await expect(validateDataset(nan, regressor([-1, 1]))).rejects.toThrow("label value at flat index 1 is not finite");
    });
  });
});

describe("readVerifiedDataset: the files must be the version the import recorded", () => {
  const inputs = f32([3, 2, 2], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  const labels = i64([0, 2, 1]);

  it("returns inputs and labels of the same read when the hash is the version", async () => {
    const dir = await datasetDir({ [DATASET_FILES.inputs]: inputs, [DATASET_FILES.labels]: labels });
    const { version } = await validateDataset(dir, classifier);
    expect(await datasetFolderVersion(dir)).toBe(version);
    const read = await readVerifiedDataset(dir, version, [image]);
    expect({ rows: read.rows, labels: Array.from(read.labels.data as BigInt64Array, Number), first: Array.from(read.inputs.image.data as Float32Array).slice(0, 4) }).toEqual({
      rows: 3,
      labels: [0, 2, 1],
      first: [0, 1, 2, 3],
    });
  });

  it.each([
    { change: "one label changed", files: { [DATASET_FILES.inputs]: inputs, [DATASET_FILES.labels]: i64([0, 2, 2]) } },
    { change: "one input value changed", files: { [DATASET_FILES.inputs]: f32([3, 2, 2], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12]), [DATASET_FILES.labels]: labels } },
    { change: "a row fewer", files: { [DATASET_FILES.inputs]: f32([2, 2, 2]), [DATASET_FILES.labels]: i64([0, 2]) } },
  ])("refuses a folder whose files differ from the version ($change)", async ({ files }) => {
    const { version } = await validateDataset(await datasetDir({ [DATASET_FILES.inputs]: inputs, [DATASET_FILES.labels]: labels }), classifier);
    const changed = await datasetDir(files);
    await expect(readVerifiedDataset(changed, version, [image])).rejects.toThrow(DatasetIntegrityError);
  });
});
