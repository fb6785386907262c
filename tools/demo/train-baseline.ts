/**
 * The demo baseline for `task2`: multinomial logistic regression (softmax + cross-entropy) trained
 * with mini-batch gradient descent in plain TypeScript, exported to ONNX (Gemm + Softmax).
 *
 * Deterministic: mini-batches come from a seeded shuffle (mulberry32), the weights start at zero,
 * and all arithmetic happens in a fixed order, so the same inputs give the same bytes.
 */
import { buildLinearClassifier } from "../onnx/build-model";
import { mulberry32, shuffleInPlace } from "@goat/contracts/seeded-random";
import { MNIST_CLASSES, MNIST_FEATURES, loadMnistTrainingSet } from "./mnist-dataset";

export interface TrainOptions {
  /** Row-major [rows, inDim]. */
  x: Float32Array;
  /** Class index per row, in [0, classes). */
  y: Int32Array | ArrayLike<number>;
  rows: number;
  inDim: number;
  classes: number;
  epochs: number;
  learningRate: number;
  seed: number;
  /** Mini-batch size (default 32). */
  batchSize?: number;
  /** L2 penalty on the weights (default 0). */
  l2?: number;
  /** Multiply the learning rate by this after every epoch (default 1). */
  lrDecay?: number;
}

export interface LinearModel {
  /** Row-major [inDim][classes]. */
  weights: Float32Array;
  bias: Float32Array;
  inDim: number;
  classes: number;
}

/** Defaults used by the demo baseline: about 0.5 s on one core. */
export const BASELINE_TRAINING = {
  epochs: 10,
  learningRate: 0.5,
  batchSize: 32,
  lrDecay: 0.8,
  seed: 7,
} as const;

export function trainLogisticRegression(opts: TrainOptions): LinearModel {
  const { x, y, rows, inDim, classes, epochs, learningRate, seed } = opts;
  const batchSize = Math.max(1, Math.floor(opts.batchSize ?? 32));
  const l2 = opts.l2 ?? 0;
  const lrDecay = opts.lrDecay ?? 1;
  if (x.length !== rows * inDim) throw new Error(`x has ${x.length} values, expected ${rows}x${inDim}`);
  if (y.length !== rows) throw new Error(`y has ${y.length} labels, expected ${rows}`);
  for (let r = 0; r < rows; r++) {
    const label = y[r];
    if (!Number.isInteger(label) || label < 0 || label >= classes) throw new Error(`label ${label} at row ${r} is out of range`);
  }

  const W = new Float64Array(inDim * classes);
  const b = new Float64Array(classes);
  const gW = new Float64Array(inDim * classes);
  const gb = new Float64Array(classes);
  const z = new Float64Array(classes);
  const nz = new Int32Array(inDim); // indices of the row's nonzero features
  const order = new Int32Array(rows);
  for (let i = 0; i < rows; i++) order[i] = i;
  const rand = mulberry32(seed);
  let lr = learningRate;

  for (let epoch = 0; epoch < epochs; epoch++) {
    shuffleInPlace(order, rand);
    for (let start = 0; start < rows; start += batchSize) {
      const end = Math.min(rows, start + batchSize);
      gW.fill(0);
      gb.fill(0);
      for (let k = start; k < end; k++) {
        const r = order[k];
        const off = r * inDim;
        // Forward: z = b + x W, over the nonzero features only.
        let count = 0;
        for (let c = 0; c < classes; c++) z[c] = b[c];
        for (let i = 0; i < inDim; i++) {
          const xi = x[off + i];
          if (xi === 0) continue;
          nz[count++] = i;
          const wOff = i * classes;
          for (let c = 0; c < classes; c++) z[c] += xi * W[wOff + c];
        }
        // Softmax, then dL/dz = p - onehot(y).
        softmaxInPlace(z, classes);
        z[y[r]] -= 1;
        for (let c = 0; c < classes; c++) gb[c] += z[c];
        for (let n = 0; n < count; n++) {
          const i = nz[n];
          const xi = x[off + i];
          const wOff = i * classes;
          for (let c = 0; c < classes; c++) gW[wOff + c] += xi * z[c];
        }
      }
      const step = lr / (end - start);
      const shrink = 1 - lr * l2;
      for (let j = 0; j < W.length; j++) W[j] = W[j] * shrink - step * gW[j];
      for (let c = 0; c < classes; c++) b[c] -= step * gb[c];
    }
    lr *= lrDecay;
  }
  return { weights: Float32Array.from(W), bias: Float32Array.from(b), inDim, classes };
}

/** Numerically stable softmax over the first `classes` entries, in place. */
function softmaxInPlace(z: Float64Array, classes: number): void {
  let max = -Infinity;
  for (let c = 0; c < classes; c++) if (z[c] > max) max = z[c];
  let sum = 0;
  for (let c = 0; c < classes; c++) {
    z[c] = Math.exp(z[c] - max);
    sum += z[c];
  }
  for (let c = 0; c < classes; c++) z[c] /= sum;
}

/** Softmax probabilities [rows, classes] of the model, computed like the exported ONNX graph (float32 weights). */
export function predictProbabilities(model: LinearModel, x: Float32Array, rows: number): Float32Array {
  const { weights, bias, inDim, classes } = model;
  const out = new Float32Array(rows * classes);
  const z = new Float64Array(classes);
  for (let r = 0; r < rows; r++) {
    const off = r * inDim;
    for (let c = 0; c < classes; c++) z[c] = bias[c];
    for (let i = 0; i < inDim; i++) {
      const xi = x[off + i];
      if (xi === 0) continue;
      const wOff = i * classes;
      for (let c = 0; c < classes; c++) z[c] += xi * weights[wOff + c];
    }
    softmaxInPlace(z, classes);
    for (let c = 0; c < classes; c++) out[r * classes + c] = z[c];
  }
  return out;
}

/** Index of the largest score per row (first one on ties). */
export function argmaxRows(scores: ArrayLike<number>, rows: number, classes: number): Int32Array {
  const pred = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    let bestVal = scores[r * classes];
    for (let c = 1; c < classes; c++) {
      const v = scores[r * classes + c];
      if (v > bestVal) {
        bestVal = v;
        best = c;
      }
    }
    pred[r] = best;
  }
  return pred;
}

/** Fraction of rows whose argmax equals the label. */
export function accuracy(scores: ArrayLike<number>, labels: ArrayLike<number>, rows: number, classes: number): number {
  const pred = argmaxRows(scores, rows, classes);
  let correct = 0;
  for (let r = 0; r < rows; r++) if (pred[r] === labels[r]) correct++;
  return rows === 0 ? 0 : correct / rows;
}

/** ONNX bytes: input "input" float32 [N,784], output "output" float32 [N,10] (softmax probabilities). */
export function exportBaselineOnnx(model: Pick<LinearModel, "weights" | "bias"> & Partial<LinearModel>): Uint8Array {
  const inDim = model.inDim ?? MNIST_FEATURES;
  const outDim = model.classes ?? MNIST_CLASSES;
  return buildLinearClassifier({
    weights: model.weights,
    bias: model.bias,
    inDim,
    outDim,
    softmax: true,
    inputName: "input",
    outputName: "output",
  });
}

/** Trains the baseline on the task2 training set with {@link BASELINE_TRAINING}. */
export function trainDemoBaseline(): LinearModel {
  const train = loadMnistTrainingSet();
  return trainLogisticRegression({
    x: train.x,
    y: train.y,
    rows: train.rows,
    inDim: MNIST_FEATURES,
    classes: MNIST_CLASSES,
    ...BASELINE_TRAINING,
  });
}

/**
 * Trains the baseline and returns its ONNX bytes (no cache; the same bytes every call). The data
 * comes from the `mnist` package: the same rows `prepareMnistTask2` writes to train.npz.
 */
export async function buildDemoBaseline(): Promise<Uint8Array> {
  return exportBaselineOnnx(trainDemoBaseline());
}
