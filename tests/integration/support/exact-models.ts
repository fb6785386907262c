import type { NdArray } from "@goat/contracts/dataset/npy";
import { buildLinearClassifier } from "@/tools/onnx/build-model";

/**
 * Models whose outputs the test can know exactly, without floating-point doubt: the output is a
 * copy of some input columns (weights 0/1, bias 0), so every metric can be computed independently
 * from the dataset itself.
 */
export function selectColumnsModel(inDim: number, outDim: number): Uint8Array {
  const weights = new Float32Array(inDim * outDim);
  for (let j = 0; j < outDim; j++) weights[j * outDim + j] = 1; // output j = input column j
  return buildLinearClassifier({ weights, bias: new Float32Array(outDim), inDim, outDim });
}

/** The model's output computed from the dataset: the first `outDim` columns of each row. */
export function firstColumns(inputs: NdArray, outDim: number): Float32Array {
  const [rows, width] = inputs.shape;
  const data = inputs.data as Float32Array;
  const out = new Float32Array(rows * outDim);
  for (let r = 0; r < rows; r++) for (let j = 0; j < outDim; j++) out[r * outDim + j] = data[r * width + j];
  return out;
}

/** Straightforward reference metrics, written apart from the worker's implementation. */
export function referenceClassification(scores: Float32Array, classes: number, labels: number[], rows: ArrayLike<number>, k: number) {
  let correct = 0;
  let inTopK = 0;
  const tp = new Map<number, number>();
  const fp = new Map<number, number>();
  const fn = new Map<number, number>();
  const seen = new Set<number>();
  for (const r of Array.from(rows)) {
    const row = Array.from(scores.subarray(r * classes, (r + 1) * classes));
    // The prediction is the first maximum (np.argmax); top-k puts the higher index first among
    // equal scores (sklearn's top_k_accuracy_score).
    const order = row.map((score, index) => ({ score, index })).sort((a, b) => b.score - a.score || b.index - a.index);
    const predicted = row.indexOf(Math.max(...row));
    const label = labels[r];
    seen.add(label).add(predicted);
    if (predicted === label) {
      correct++;
      tp.set(label, (tp.get(label) ?? 0) + 1);
    } else {
      fp.set(predicted, (fp.get(predicted) ?? 0) + 1);
      fn.set(label, (fn.get(label) ?? 0) + 1);
    }
    if (order.slice(0, k).some((entry) => entry.index === label)) inTopK++;
  }
  let f1Sum = 0;
  for (const c of seen) {
    const t = tp.get(c) ?? 0;
    const denominator = 2 * t + (fp.get(c) ?? 0) + (fn.get(c) ?? 0);
    f1Sum += denominator === 0 ? 0 : (2 * t) / denominator;
  }
  const n = Array.from(rows).length;
  return { accuracy: correct / n, macro_f1: f1Sum / seen.size, top_k: inTopK / n };
}

export function referenceRegression(pred: Float32Array, target: Float32Array, rows: ArrayLike<number>) {
  const selected = Array.from(rows);
  const n = selected.length;
  let se = 0;
  let ae = 0;
  let mean = 0;
  for (const r of selected) mean += target[r];
  mean /= n;
  let ssTot = 0;
  for (const r of selected) {
    const d = pred[r] - target[r];
    se += d * d;
    ae += Math.abs(d);
    ssTot += (target[r] - mean) ** 2;
  }
  return { mse: se / n, mae: ae / n, rmse: Math.sqrt(se / n), r2: 1 - se / ssTot };
}
