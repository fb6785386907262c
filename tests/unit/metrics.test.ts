import { describe, expect, it } from "vitest";
import { classificationMetrics, computeMetrics, regressionMetrics, scoreClassifiedSplit, scoreSplit, StreamedClassification } from "../../worker/src/metrics/index";

// Six rows, three classes. Predictions (argmax) are [0, 1, 1, 1, 2, 0] against labels [0, 0, 1, 1, 2, 2]:
//   class 0: TP 1 (row 0), FP 1 (row 5), FN 1 (row 1) -> F1 = 2*1 / (2*1 + 1 + 1) = 1/2
//   class 1: TP 2 (rows 2, 3), FP 1 (row 1), FN 0     -> F1 = 4 / (4 + 1)       = 4/5
//   class 2: TP 1 (row 4), FP 0, FN 1 (row 5)         -> F1 = 2 / (2 + 1)       = 2/3
// macro-F1 = (1/2 + 4/5 + 2/3) / 3 = 59/90; accuracy = 4/6.
// The true class ranks second in row 1 and third in row 5, so top-2 = 5/6 and top-3 = 1.
const SCORES = [
  [0.7, 0.2, 0.1],
  [0.3, 0.6, 0.1],
  [0.1, 0.8, 0.1],
  [0.2, 0.5, 0.3],
  [0.1, 0.1, 0.8],
  [0.5, 0.4, 0.1],
].flat();
const LABELS = [0, 0, 1, 1, 2, 2];
const ALL_ROWS = [0, 1, 2, 3, 4, 5];

/** A direct transcription of sklearn's per-class precision/recall/F1 with zero_division=0, for cross-checks. */
function referenceMacroF1(yTrue: number[], yPred: number[]): number {
  const classes = [...new Set([...yTrue, ...yPred])];
  const f1s = classes.map((c) => {
    const tp = yTrue.filter((t, i) => t === c && yPred[i] === c).length;
    const predicted = yPred.filter((p) => p === c).length;
    const actual = yTrue.filter((t) => t === c).length;
    const precision = predicted === 0 ? 0 : tp / predicted;
    const recall = actual === 0 ? 0 : tp / actual;
    return precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  });
  return f1s.reduce((a, b) => a + b, 0) / f1s.length;
}

/** A seeded generator for the randomised cross-checks (xorshift32). */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

describe("classificationMetrics", () => {
  it("computes accuracy, macro-F1 and top-k on a hand-worked 3-class example", () => {
    const m = classificationMetrics(SCORES, 3, LABELS, ALL_ROWS, 2);
    expect(m.accuracy).toBeCloseTo(4 / 6, 12);
    expect(m.macro_f1).toBeCloseTo(59 / 90, 12);
    expect(m.top_k).toBeCloseTo(5 / 6, 12);
  });

  it("gives top-k = 1 when k equals the class count, and clips a larger k to it", () => {
    expect(classificationMetrics(SCORES, 3, LABELS, ALL_ROWS, 3).top_k).toBe(1);
    expect(classificationMetrics(SCORES, 3, LABELS, ALL_ROWS, 10).top_k).toBe(1);
    expect(classificationMetrics(SCORES, 3, LABELS, ALL_ROWS, 1).top_k).toBeCloseTo(4 / 6, 12);
  });

  it("counts only the given rows, and averages F1 over the classes present in that subset", () => {
    // Rows 0-2: labels [0, 0, 1], predictions [0, 1, 1]. Class 0: F1 = 2/3; class 1: F1 = 2/3.
    // Class 2 appears in neither, so it is left out of the average (rather than counted as 0).
    const m = classificationMetrics(SCORES, 3, LABELS, [0, 1, 2], 1);
    expect(m.accuracy).toBeCloseTo(2 / 3, 12);
    expect(m.macro_f1).toBeCloseTo(2 / 3, 12);
  });

  it("counts a class that is only predicted, never true, in macro-F1 with F1 = 0", () => {
    // Rows 4, 5: labels [2, 2], predictions [2, 0]. Class 2: TP 1, FN 1 -> 2/3; class 0: FP 1 -> 0.
    expect(classificationMetrics(SCORES, 3, LABELS, [4, 5], 1).macro_f1).toBeCloseTo(1 / 3, 12);
  });

  it("breaks ties toward the lower class index for the prediction and the higher one for top-k, as sklearn does", () => {
    // np.argmax takes the first maximum; top_k_accuracy_score reverses a stable ascending argsort.
    const tied = [0.5, 0.5, 0.0];
    const firstTrue = classificationMetrics(tied, 3, [0], [0], 1);
    expect(firstTrue).toEqual({ accuracy: 1, macro_f1: 1, top_k: 0 });
    const secondTrue = classificationMetrics(tied, 3, [1], [0], 1);
    expect(secondTrue.accuracy).toBe(0);
    expect(secondTrue.top_k).toBe(1);
    expect(classificationMetrics(tied, 3, [0], [0], 2).top_k).toBe(1);
  });

  it("ranks NaN scores below every number", () => {
    const m = classificationMetrics([Number.NaN, 0.1, 0.2], 3, [2], [0], 1);
    expect(m.accuracy).toBe(1);
    expect(classificationMetrics([Number.NaN, 0.1, 0.2], 3, [0], [0], 2).top_k).toBe(0);
  });

  it("accepts int64 labels as bigint", () => {
    const m = classificationMetrics(SCORES, 3, BigInt64Array.from(LABELS.map(BigInt)), ALL_ROWS, 2);
    expect(m.macro_f1).toBeCloseTo(59 / 90, 12);
  });

  it("agrees with a direct sklearn-style implementation on random data", () => {
    const rand = random(12345);
    const classes = 5;
    const n = 400;
    const scores = Float32Array.from({ length: n * classes }, () => rand());
    const labels = Array.from({ length: n }, () => Math.floor(rand() * classes));
    const rows = Array.from({ length: n }, (_, i) => i).filter(() => rand() < 0.6);
    const predictions = rows.map((r) => {
      const row = Array.from(scores.subarray(r * classes, (r + 1) * classes));
      return row.indexOf(Math.max(...row));
    });
    const m = classificationMetrics(scores, classes, labels, rows, 2);
    expect(m.macro_f1).toBeCloseTo(referenceMacroF1(rows.map((r) => labels[r]), predictions), 12);
    expect(m.accuracy).toBeCloseTo(rows.filter((r, i) => labels[r] === predictions[i]).length / rows.length, 12);
    const inTop2 = rows.filter((r) => {
      const row = Array.from(scores.subarray(r * classes, (r + 1) * classes));
      const sorted = row.map((s, c) => [s, c]).sort((a, b) => b[0] - a[0] || b[1] - a[1]);
      return sorted.slice(0, 2).some(([, c]) => c === labels[r]);
    }).length;
    expect(m.top_k).toBeCloseTo(inTop2 / rows.length, 12);
  });

  it("refuses mismatched sizes, empty subsets and labels outside the class range", () => {
    expect(() => classificationMetrics(SCORES, 4, LABELS, ALL_ROWS, 1)).toThrow(RangeError);
    expect(() => classificationMetrics(SCORES, 3, LABELS, [], 1)).toThrow("0 rows");
    expect(() => classificationMetrics([0.1, 0.9], 2, [2], [0], 1)).toThrow("label 2 at row 0 is outside [0, 2)");
    expect(() => classificationMetrics(SCORES, 3, LABELS, [6], 1)).toThrow("row 6 is out of range");
  });
});

describe("StreamedClassification", () => {
  // The worker classifies each batch of outputs as the sandbox returns it (evaluate-submission.ts);
  // a split's metrics and outcomes must be those of the whole outputs classified at once.
  it("gives each split the metrics and outcomes of classifying the whole outputs, whatever the batches", () => {
    let seed = 7;
    const rand = () => ((seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 4_294_967_296);
    const rows = 500;
    const classes = 7;
    // Scores rounded to tenths, so that rows have ties (the tie rules must hold across batches too).
    const scores = Float32Array.from({ length: rows * classes }, () => Math.round(rand() * 10) / 10);
    const labels = BigInt64Array.from({ length: rows }, () => BigInt(Math.floor(rand() * classes)));
    const publicRows = Uint32Array.from({ length: rows / 2 }, (_, i) => 2 * i + 1);
    const privateRows = Uint32Array.from({ length: rows / 2 }, (_, i) => 2 * i);
    const metrics = ["accuracy", "macro_f1", "top_k"] as const;
    for (const batch of [1, 64, 333, rows]) {
      const streamed = new StreamedClassification(classes, labels, 3);
      for (let start = 0; start < rows; start += batch) streamed.add(scores.subarray(start * classes, Math.min(rows, start + batch) * classes), start);
      for (const split of [publicRows, privateRows]) {
        const whole = scoreSplit({ kind: "CLASSIFICATION", metrics: [...metrics], outputs: scores, outputWidth: classes, labels, rows: split, topK: 3 });
        expect(scoreClassifiedSplit([...metrics], streamed.split(split))).toEqual(whole);
      }
    }
  });

  it("refuses batches out of row order or past the test set, and a split before every row came", () => {
    const streamed = new StreamedClassification(2, [0, 1, 1], 1);
    expect(() => streamed.add([0.1, 0.9], 1)).toThrow(/starts at row 1, after 0/);
    streamed.add([0.1, 0.9, 0.8, 0.2], 0);
    expect(() => streamed.split([0, 1])).toThrow(/2 of 3 rows/);
    expect(() => streamed.add([0.1, 0.9, 0.8, 0.2], 2)).toThrow(/does not fit/);
    streamed.add([0.4, 0.6], 2);
    expect(scoreClassifiedSplit(["accuracy"], streamed.split([0, 1, 2])).metrics).toEqual({ accuracy: 1 / 3 });
  });
});

describe("regressionMetrics", () => {
  it("computes MSE, MAE, RMSE and R² on a hand-worked example", () => {
    // Errors [0, 0, 0, 1]; target mean 2.5, SS_tot = 2.25 + 0.25 + 0.25 + 2.25 = 5, SS_res = 1.
    const m = regressionMetrics([1, 2, 3, 5], [1, 2, 3, 4], 1, [0, 1, 2, 3]);
    expect(m).toEqual({ mse: 0.25, mae: 0.25, rmse: 0.5, r2: 0.8 });
  });

  it("gives R² = 1 for a perfect prediction and 0 for predicting the mean", () => {
    const target = [3, -1, 4, 1, 5];
    const mean = target.reduce((a, b) => a + b, 0) / target.length;
    expect(regressionMetrics(target, target, 1, [0, 1, 2, 3, 4])).toEqual({ mse: 0, mae: 0, rmse: 0, r2: 1 });
    const atMean = regressionMetrics(target.map(() => mean), target, 1, [0, 1, 2, 3, 4]);
    expect(atMean.r2).toBeCloseTo(0, 12);
    expect(atMean.mse).toBeCloseTo(target.reduce((s, t) => s + (t - mean) ** 2, 0) / 5, 12);
  });

  it("averages R² and RMSE over output columns and MSE/MAE over every element", () => {
    // Column 0 is perfect (R² 1, RMSE 0). Column 1: mean 20, SS_tot = 200, SS_res = 9 -> R² = 0.955,
    // RMSE = sqrt(9 / 3). sklearn's RMSE of several outputs is the mean of the columns' RMSEs.
    const target = [1, 10, 2, 20, 3, 30];
    const pred = [1, 10, 2, 20, 3, 33];
    const m = regressionMetrics(pred, target, 2, [0, 1, 2]);
    expect(m.mse).toBeCloseTo(9 / 6, 12);
    expect(m.mae).toBeCloseTo(3 / 6, 12);
    expect(m.rmse).toBeCloseTo(Math.sqrt(3) / 2, 12);
    expect(m.r2).toBeCloseTo((1 + 0.955) / 2, 12);
  });

  it("scores a constant target column 1 when predicted exactly and 0 otherwise, like sklearn's force_finite", () => {
    expect(regressionMetrics([5, 5, 5], [5, 5, 5], 1, [0, 1, 2]).r2).toBe(1);
    expect(regressionMetrics([5, 5, 6], [5, 5, 5], 1, [0, 1, 2]).r2).toBe(0);
  });

  it("counts only the given rows", () => {
    // Rows 1 and 3: targets [2, 4], predictions [2, 5]; mean 3, SS_tot 2, SS_res 1.
    expect(regressionMetrics([100, 2, -100, 5], [1, 2, 3, 4], 1, [1, 3])).toEqual({
      mse: 0.5,
      mae: 0.5,
      rmse: Math.sqrt(0.5),
      r2: 0.5,
    });
  });

  it("accumulates in float64 even for float32 arrays", () => {
    // Squared errors 4096² = 2^24 and 1: their sum 2^24 + 1 is not a float32 (a float32
    // accumulator would give 2^24), so the MSE tells which precision summed them.
    const m = regressionMetrics(Float32Array.from([4096, 1]), Float32Array.from([0, 0]), 1, [0, 1]);
    expect(m.mse).toBe((2 ** 24 + 1) / 2);
  });

  it("refuses mismatched sizes and empty subsets", () => {
    expect(() => regressionMetrics([1, 2], [1, 2, 3], 1, [0])).toThrow(RangeError);
    expect(() => regressionMetrics([1, 2, 3], [1, 2, 3], 2, [0])).toThrow(RangeError);
    expect(() => regressionMetrics([1], [1], 1, [])).toThrow("0 rows");
  });
});

describe("computeMetrics", () => {
  it("returns only the requested classification metrics", () => {
    const values = computeMetrics({
      kind: "CLASSIFICATION",
      metrics: ["macro_f1", "top_k"],
      outputs: SCORES,
      outputWidth: 3,
      labels: LABELS,
      rows: Uint32Array.from(ALL_ROWS),
      topK: 2,
    });
    expect(Object.keys(values).sort()).toEqual(["macro_f1", "top_k"]);
    expect(values.macro_f1).toBeCloseTo(59 / 90, 12);
    expect(values.top_k).toBeCloseTo(5 / 6, 12);
  });

  it("returns only the requested regression metrics", () => {
    const values = computeMetrics({
      kind: "REGRESSION",
      metrics: ["rmse", "r2"],
      outputs: Float32Array.from([1, 2, 3, 5]),
      outputWidth: 1,
      labels: Float64Array.from([1, 2, 3, 4]),
      rows: [0, 1, 2, 3],
    });
    expect(values).toEqual({ rmse: 0.5, r2: 0.8 });
  });

  it("refuses metrics of the other kind, and top_k without k", () => {
    const base = { outputs: SCORES, outputWidth: 3, labels: LABELS, rows: ALL_ROWS };
    expect(() => computeMetrics({ ...base, kind: "CLASSIFICATION", metrics: ["accuracy", "mse"] })).toThrow(
      "metrics mse do not apply to a CLASSIFICATION task",
    );
    expect(() => computeMetrics({ ...base, kind: "CLASSIFICATION", metrics: ["top_k"] })).toThrow("top_k needs topK");
    expect(computeMetrics({ ...base, kind: "CLASSIFICATION", metrics: ["accuracy"] })).toEqual({ accuracy: 4 / 6 });
  });
});
