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

/** Checks what classifying needs and returns k clipped to the class count. */
function checkedTopK(numClasses: number, topK: number): number {
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new RangeError(`numClasses must be >= 1, got ${numClasses}`);
  if (!Number.isInteger(topK) || topK < 1) throw new RangeError(`top-k needs an integer k >= 1, got ${topK}`);
  return Math.min(topK, numClasses);
}

/** The true class of test row `row`, checked. */
function labelOf(labels: ArrayLike<number | bigint>, row: number, numClasses: number): number {
  const label = Number(labels[row]);
  if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
    throw new RangeError(`label ${label} at row ${row} is outside [0, ${numClasses})`);
  }
  return label;
}

/**
 * One row's prediction (argmax) and whether its true class is in the top k, from its scores at
 * `offset`: written to entry `i` of `predictions` and `inTopK`.
 */
function classifyRow(
  scores: ArrayLike<number>,
  offset: number,
  numClasses: number,
  label: number,
  k: number,
  into: { predictions: Int32Array; inTopK: Uint8Array },
  i: number,
): void {
  const labelScore = scores[offset + label];
  let predicted = 0;
  let ahead = 0; // classes ranked above the true label
  for (let c = 0; c < numClasses; c++) {
    const s = scores[offset + c];
    if (c > 0 && ranksAbove(s, c, scores[offset + predicted], predicted, true)) predicted = c;
    if (c !== label && ranksAbove(s, c, labelScore, label, false)) ahead++;
  }
  into.predictions[i] = predicted;
  into.inTopK[i] = ahead < k ? 1 : 0;
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
  const k = checkedTopK(numClasses, topK);
  if (scores.length !== labels.length * numClasses) {
    throw new RangeError(
      `scores hold ${scores.length} values, expected ${labels.length} rows x ${numClasses} classes`,
    );
  }
  if (rows.length === 0) throw new RangeError("cannot compute metrics over 0 rows");

  const classified = { numClasses, labels: new Int32Array(rows.length), predictions: new Int32Array(rows.length), inTopK: new Uint8Array(rows.length) };
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (!Number.isInteger(row) || row < 0 || row >= labels.length) throw new RangeError(`row ${row} is out of range`);
    const label = labelOf(labels, row, numClasses);
    classified.labels[i] = label;
    classifyRow(scores, row * numClasses, numClasses, label, k, classified, i);
  }
  return classified;
}

/** Told of the test rows whose value of a 0/1 metric (accuracy: predicted right; top-k: inside the top k) is 1. */
export interface RowHits {
  readonly metric: "accuracy" | "top_k";
  addHit(row: number): void;
}

/**
 * The whole test set classified batch by batch, as the sandbox returns the model's outputs
 * (worker/src/sandbox/output-assembly.ts): the rows of a batch are classified while the model runs
 * the next one, so that only the splits' gathers and metrics are left when the last one is in. The
 * same rules as classifyRows.
 */
export class StreamedClassification {
  private readonly k: number;
  private readonly all: { labels: Int32Array; predictions: Int32Array; inTopK: Uint8Array };
  private classified = 0;

  /** @param hits told of each classified row whose value of their 0/1 metric is 1 (bootstrap.ts's StreamedInterval) */
  constructor(
    private readonly numClasses: number,
    private readonly labels: ArrayLike<number | bigint>,
    topK: number,
    private readonly hits: readonly RowHits[] = [],
  ) {
    this.k = checkedTopK(numClasses, topK);
    const rows = labels.length;
    this.all = { labels: new Int32Array(rows), predictions: new Int32Array(rows), inTopK: new Uint8Array(rows) };
  }

  /** Classifies the test rows `start` .. from their scores, row-major [rows, numClasses]; batches come in row order. */
  add(scores: ArrayLike<number>, start: number): void {
    if (start !== this.classified) throw new RangeError(`a batch starts at row ${start}, after ${this.classified} rows`);
    const rows = scores.length / this.numClasses;
    if (!Number.isInteger(rows) || start + rows > this.labels.length) throw new RangeError(`a batch of ${scores.length} scores does not fit the test set`);
    for (let i = 0; i < rows; i++) {
      const row = start + i;
      const label = labelOf(this.labels, row, this.numClasses);
      this.all.labels[row] = label;
      classifyRow(scores, i * this.numClasses, this.numClasses, label, this.k, this.all, row);
      for (const hits of this.hits) {
        if (hits.metric === "accuracy" ? this.all.predictions[row] === label : this.all.inTopK[row] === 1) hits.addHit(row);
      }
    }
    this.classified += rows;
  }

  /** The classified rows of one split of the test set, in its order; every row must have come. */
  split(rows: ArrayLike<number>): ClassifiedRows {
    if (this.classified !== this.labels.length) throw new RangeError(`${this.classified} of ${this.labels.length} rows were classified`);
    if (rows.length === 0) throw new RangeError("cannot compute metrics over 0 rows");
    const split = { numClasses: this.numClasses, labels: new Int32Array(rows.length), predictions: new Int32Array(rows.length), inTopK: new Uint8Array(rows.length) };
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      if (!Number.isInteger(row) || row < 0 || row >= this.labels.length) throw new RangeError(`row ${row} is out of range`);
      split.labels[i] = this.all.labels[row];
      split.predictions[i] = this.all.predictions[row];
      split.inTopK[i] = this.all.inTopK[row];
    }
    return split;
  }
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
