/**
 * Classification metrics over a subset of rows (the public or the private split), computed
 * from the model's per-class scores. Definitions follow scikit-learn, which is what
 * organisers check our numbers against.
 */

export interface ClassificationMetricValues {
  accuracy: number;
  macro_f1: number;
  top_k: number;
}

/**
 * Whether class `a` (score `sa`) ranks above class `b` (score `sb`) within one row: higher score
 * first, NaN below every number (so a NaN score never wins over a real one), and equal scores
 * ordered by `tieToLowerIndex`:
 * - the prediction (argmax) takes the lower index, as np.argmax does, which is what
 *   accuracy_score and f1_score see;
 * - top-k takes the HIGHER index first, as sklearn's top_k_accuracy_score does: it sorts each row
 *   with a stable ascending argsort and reverses it, so among equal scores the class with the
 *   larger index comes first (its documentation says so too). A true class tied with others at
 *   the k-th place is therefore inside the top k only if enough of the tied classes have a
 *   smaller index.
 */
function ranksAbove(sa: number, a: number, sb: number, b: number, tieToLowerIndex: boolean): boolean {
  if (sa > sb) return true;
  if (sa < sb) return false;
  const naA = Number.isNaN(sa);
  const naB = Number.isNaN(sb);
  if (naA !== naB) return naB;
  return tieToLowerIndex ? a < b : a > b; // equal scores, or both NaN
}

/**
 * What the metrics need of each scored row: its true class, the model's prediction and whether
 * the true class is inside the top k. The bootstrap (bootstrap.ts) keeps these per row and
 * recomputes the metrics on resampled rows with `metricsOfClassifiedRows`.
 */
export interface ClassifiedRows {
  numClasses: number;
  labels: ArrayLike<number>;
  predictions: ArrayLike<number>;
  /** 1 when the true class is among the top k, else 0 */
  inTopK: ArrayLike<number>;
}

/**
 * Ranks the classes of each given row.
 * @param scores row-major [N, numClasses] scores (logits or probabilities; only their order matters)
 * @param labels the true class of each of the N rows
 * @param rows indices of the rows to score; the result holds one entry per index, in this order
 * @param topK k for top-k accuracy; clipped to numClasses
 */
export function classifyRows(
  scores: ArrayLike<number>,
  numClasses: number,
  labels: ArrayLike<number | bigint>,
  rows: ArrayLike<number>,
  topK: number,
): ClassifiedRows {
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new RangeError(`numClasses must be >= 1, got ${numClasses}`);
  if (scores.length !== labels.length * numClasses) {
    throw new RangeError(
      `scores hold ${scores.length} values, expected ${labels.length} rows x ${numClasses} classes`,
    );
  }
  if (!Number.isInteger(topK) || topK < 1) throw new RangeError(`top-k needs an integer k >= 1, got ${topK}`);
  if (rows.length === 0) throw new RangeError("cannot compute metrics over 0 rows");
  const k = Math.min(topK, numClasses);

  const rowLabels = new Int32Array(rows.length);
  const predictions = new Int32Array(rows.length);
  const inTopK = new Uint8Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (!Number.isInteger(row) || row < 0 || row >= labels.length) throw new RangeError(`row ${row} is out of range`);
    const label = Number(labels[row]);
    if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
      throw new RangeError(`label ${label} at row ${row} is outside [0, ${numClasses})`);
    }
    const offset = row * numClasses;
    const labelScore = scores[offset + label];
    let predicted = 0;
    let ahead = 0; // classes ranked above the true label
    for (let c = 0; c < numClasses; c++) {
      const s = scores[offset + c];
      if (c > 0 && ranksAbove(s, c, scores[offset + predicted], predicted, true)) predicted = c;
      if (c !== label && ranksAbove(s, c, labelScore, label, false)) ahead++;
    }
    rowLabels[i] = label;
    predictions[i] = predicted;
    inTopK[i] = ahead < k ? 1 : 0;
  }
  return { numClasses, labels: rowLabels, predictions, inTopK };
}

/**
 * The metrics of classified rows, over the entries at `picks` (every entry when omitted; an entry
 * may be picked several times, as a bootstrap resample does).
 */
export function metricsOfClassifiedRows(classified: ClassifiedRows, picks?: ArrayLike<number>): ClassificationMetricValues {
  const { numClasses, labels, predictions, inTopK } = classified;
  const count = picks ? picks.length : labels.length;
  if (count === 0) throw new RangeError("cannot compute metrics over 0 rows");
  // Per-class counts for F1. A row adds a true positive, or a false negative for its true
  // class and a false positive for the predicted one.
  const truePositives = new Float64Array(numClasses);
  const falsePositives = new Float64Array(numClasses);
  const falseNegatives = new Float64Array(numClasses);
  let correct = 0;
  let hits = 0;
  for (let i = 0; i < count; i++) {
    const at = picks ? picks[i] : i;
    const label = labels[at];
    const predicted = predictions[at];
    if (predicted === label) {
      correct++;
      truePositives[label]++;
    } else {
      falseNegatives[label]++;
      falsePositives[predicted]++;
    }
    hits += inTopK[at];
  }

  // sklearn's f1_score(average="macro", zero_division=0) averages over the classes present in
  // y_true or y_pred (its `labels` default), with F1 = 2TP / (2TP + FP + FN). A present class
  // always has a non-zero denominator.
  let f1Sum = 0;
  let presentClasses = 0;
  for (let c = 0; c < numClasses; c++) {
    const denominator = 2 * truePositives[c] + falsePositives[c] + falseNegatives[c];
    if (denominator === 0) continue;
    presentClasses++;
    f1Sum += (2 * truePositives[c]) / denominator;
  }

  return {
    accuracy: correct / count,
    macro_f1: f1Sum / presentClasses,
    top_k: hits / count,
  };
}

/**
 * @param scores row-major [N, numClasses] scores (logits or probabilities; only their order matters)
 * @param labels the true class of each of the N rows
 * @param rows indices of the rows to score
 * @param topK k for top-k accuracy; clipped to numClasses
 */
export function classificationMetrics(
  scores: ArrayLike<number>,
  numClasses: number,
  labels: ArrayLike<number | bigint>,
  rows: ArrayLike<number>,
  topK: number,
): ClassificationMetricValues {
  return metricsOfClassifiedRows(classifyRows(scores, numClasses, labels, rows, topK));
}
