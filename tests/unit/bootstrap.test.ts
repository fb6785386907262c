import { describe, expect, it } from "vitest";
import { mulberry32 } from "@goat/contracts/seeded-random";
import { BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, percentileOfSorted } from "../../worker/src/metrics/bootstrap";
import {
  bootstrapInterval,
  decodeSplitOutcomes,
  encodeSplitOutcomes,
  scoreClassifiedSplit,
  scoreSplit,
  StreamedClassification,
  StreamedInterval,
  type SplitOutcomes,
} from "../../worker/src/metrics/index";

/** Classification outcomes with the given per-row hits (label 0; a hit predicts 0, a miss 1). */
function hitsOutcomes(hits: number[]): SplitOutcomes {
  return {
    kind: "CLASSIFICATION",
    numClasses: 2,
    labels: new Int32Array(hits.length),
    predictions: Int32Array.from(hits, (hit) => (hit ? 0 : 1)),
    inTopK: Uint8Array.from(hits),
  };
}

/** n rows of which the first `correct` are right. */
const firstCorrect = (n: number, correct: number) => Array.from({ length: n }, (_, i) => (i < correct ? 1 : 0));

const allRows = (n: number) => Uint32Array.from({ length: n }, (_, i) => i);

/** z of a two-sided 95% normal interval. */
const Z95 = 1.959963984540054;

/** A linear congruential generator in [0, 1): the tests' own draws, apart from the bootstrap's seed. */
function lcg(seed: number): () => number {
  let state = seed;
  return () => (state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0) / 4_294_967_296;
}

describe("StreamedInterval", () => {
  /**
   * A test set of `testRows` rows of 5 classes whose model is right on about `rightRate` of them,
   * streamed through StreamedClassification in batches of 97 rows, with each split's streamed
   * interval of `metric` told of its hits; against bootstrapInterval over each split's outcomes.
   */
  async function streamedAndAtTheEnd(metric: "accuracy" | "top_k", rightRate: number, testRows = 2_003) {
    const classes = 5;
    const rand = lcg(Math.round(rightRate * 1000) + testRows);
    const labels = Int32Array.from({ length: testRows }, () => Math.floor(rand() * classes));
    const scores = new Float32Array(testRows * classes).map(() => rand());
    labels.forEach((label, row) => {
      if (rand() < rightRate) scores[row * classes + label] = 2; // right, and inside any top k
    });
    // Splits as the task's seeded split makes them: shuffled, not in row order.
    const shuffled = Array.from({ length: testRows }, (_, row) => row).sort(() => rand() - 0.5);
    const splits = [shuffled.slice(0, 700), shuffled.slice(700)];
    const intervals = splits.map((rows) => StreamedInterval.of(metric, rows, testRows));
    expect(intervals.every((interval) => interval !== null)).toBe(true);
    const streaming = new StreamedClassification(classes, labels, 2, intervals as StreamedInterval[]);
    for (let start = 0; start < testRows; start += 97) streaming.add(scores.subarray(start * classes, Math.min(testRows, start + 97) * classes), start);
    const atTheEnd = await Promise.all(splits.map((rows) => bootstrapInterval(scoreClassifiedSplit([metric], streaming.split(rows)).outcomes, metric)));
    return { streamed: intervals.map((interval) => interval!.finish()), atTheEnd };
  }

  it.each([
    ["accuracy", 0.2],
    ["accuracy", 0.85],
    ["top_k", 0.3],
    ["top_k", 0.9],
  ] as const)("gives %s the interval bootstrapInterval gives the split's outcomes, exactly (about %s right)", async (metric, rightRate) => {
    const { streamed, atTheEnd } = await streamedAndAtTheEnd(metric, rightRate);
    expect(streamed).toEqual(atTheEnd);
    // Not a degenerate interval: the splits' scores vary from resample to resample.
    for (const interval of streamed) expect(interval.high - interval.low).toBeGreaterThan(0.01);
  });

  it("counts a row once, and no row outside its split", () => {
    const interval = StreamedInterval.of("accuracy", [4, 0, 2], 6)!;
    const twice = StreamedInterval.of("accuracy", [4, 0, 2], 6)!;
    for (const row of [0, 2]) interval.addHit(row);
    for (const row of [0, 2, 2, 0, 1, 3, 5, 99]) twice.addHit(row);
    expect(twice.finish()).toEqual(interval.finish());
    const all = StreamedInterval.of("accuracy", [4, 0, 2], 6)!;
    for (const row of [4, 0, 2]) all.addHit(row);
    expect(all.finish()).toEqual({ low: 1, high: 1 });
    expect(StreamedInterval.of("accuracy", [4, 0, 2], 6)!.finish()).toEqual({ low: 0, high: 0 });
  });

  it.each([
    ["a metric that is not a 0/1 mean", "macro_f1", [0, 1, 2], 3, {}],
    ["a regression metric", "mae", [0, 1, 2], 3, {}],
    ["an empty split", "accuracy", [], 3, {}],
    ["a split holding a row twice", "accuracy", [0, 1, 1], 3, {}],
    ["a row outside the test set", "accuracy", [0, 3], 3, {}],
    ["a count of resamples not a multiple of four", "accuracy", [0, 1, 2], 3, { resamples: 998 }],
  ] as const)("is not made for %s (bootstrapInterval computes it at the end)", (_name, metric, rows, testRows, options) => {
    expect(StreamedInterval.of(metric, rows, testRows, options)).toBeNull();
  });
});

describe("bootstrapInterval", () => {
  it.each([
    ["all correct", firstCorrect(500, 500), "accuracy", 1, 1],
    ["all wrong", firstCorrect(500, 0), "accuracy", 0, 0],
    ["all in the top k", firstCorrect(300, 300), "top_k", 1, 1],
  ] as const)("gives the exact interval when every resample scores the same: %s", async (_name, hits, metric, low, high) => {
    expect(await bootstrapInterval(hitsOutcomes([...hits]), metric)).toEqual({ low, high });
  });

  it("gives [0, 0] for the MSE and MAE of a perfect regression, and [1, 1] for its R²", async () => {
    const targets = Float64Array.from({ length: 400 }, (_, i) => Math.sin(i));
    const { outcomes } = scoreSplit({ kind: "REGRESSION", metrics: ["mse"], outputs: targets, outputWidth: 1, labels: targets, rows: allRows(400) });
    expect(await bootstrapInterval(outcomes, "mse")).toEqual({ low: 0, high: 0 });
    expect(await bootstrapInterval(outcomes, "mae")).toEqual({ low: 0, high: 0 });
    expect(await bootstrapInterval(outcomes, "r2")).toEqual({ low: 1, high: 1 });
  });

  it.each([
    [20_000, 0.8],
    [50_000, 0.6],
    [10_000, 0.95],
  ])("agrees with the normal approximation p ± 1.96·√(p(1−p)/n) for accuracy over %i rows at p = %f", async (n, p) => {
    const interval = await bootstrapInterval(hitsOutcomes(firstCorrect(n, Math.round(n * p))), "accuracy");
    const halfWidth = Z95 * Math.sqrt((p * (1 - p)) / n);
    // The percentiles' Monte-Carlo error with 1,000 resamples is about 4% of the half-width (6% seen
    // here); a 90% interval would miss by 16%.
    expect(Math.abs(interval.low - (p - halfWidth))).toBeLessThan(0.1 * halfWidth);
    expect(Math.abs(interval.high - (p + halfWidth))).toBeLessThan(0.1 * halfWidth);
  });

  it("agrees with the normal approximation of a mean for a regression's MSE and MAE over 20,000 rows", async () => {
    const n = 20_000;
    // Errors spread evenly over [-1, 1]: a deterministic set whose moments are known.
    const targets = new Float64Array(n);
    const predictions = Float64Array.from({ length: n }, (_, i) => -1 + (2 * i) / (n - 1));
    const { outcomes } = scoreSplit({ kind: "REGRESSION", metrics: ["mse"], outputs: predictions, outputWidth: 1, labels: targets, rows: allRows(n) });
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    for (const [metric, perRow] of [
      ["mse", Array.from(predictions, (e) => e * e)],
      ["mae", Array.from(predictions, (e) => Math.abs(e))],
    ] as const) {
      const m = mean(perRow);
      const sd = Math.sqrt(mean(perRow.map((v) => (v - m) ** 2)));
      const halfWidth = (Z95 * sd) / Math.sqrt(n);
      const interval = await bootstrapInterval(outcomes, metric);
      expect(Math.abs(interval.low - (m - halfWidth))).toBeLessThan(0.1 * halfWidth);
      expect(Math.abs(interval.high - (m + halfWidth))).toBeLessThan(0.1 * halfWidth);
    }
  });

  it("resamples the same rows for every submission (paired): a submission right on more rows never gets a lower bound", async () => {
    const n = 2_000;
    const weaker = firstCorrect(n, 1_400);
    const stronger = [...weaker];
    for (let i = 1_400; i < 1_410; i++) stronger[i] = 1; // right on 10 more rows
    const a = await bootstrapInterval(hitsOutcomes(weaker), "accuracy");
    const b = await bootstrapInterval(hitsOutcomes(stronger), "accuracy");
    // Same draws: each resample's score moves up by at most the resampled count of those 10 rows.
    expect(b.low).toBeGreaterThanOrEqual(a.low);
    expect(b.high).toBeGreaterThanOrEqual(a.high);
    expect(b.low - a.low).toBeLessThan(0.015);
    // A fixed seed: the same interval every time.
    expect(await bootstrapInterval(hitsOutcomes(weaker), "accuracy")).toEqual(a);
  });

  it("contains the macro-F1 and R² scores of noisy models", async () => {
    const n = 3_000;
    let seed = 7;
    const rand = () => ((seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 4_294_967_296);
    const labels = Int32Array.from({ length: n }, () => Math.floor(rand() * 4));
    const scores = Float64Array.from({ length: n * 4 }, (_, i) => rand() + (labels[Math.floor(i / 4)] === i % 4 ? 0.4 : 0));
    const classified = scoreSplit({ kind: "CLASSIFICATION", metrics: ["macro_f1"], outputs: scores, outputWidth: 4, labels, rows: allRows(n), topK: 2 });
    const f1 = await bootstrapInterval(classified.outcomes, "macro_f1");
    expect(f1.low).toBeLessThan(classified.metrics.macro_f1 as number);
    expect(f1.high).toBeGreaterThan(classified.metrics.macro_f1 as number);
    expect(f1.high - f1.low).toBeLessThan(0.1);

    const targets = Float64Array.from({ length: n }, () => rand() * 10);
    const predictions = targets.map((t) => t + (rand() - 0.5) * 4);
    const regressed = scoreSplit({ kind: "REGRESSION", metrics: ["r2"], outputs: predictions, outputWidth: 1, labels: targets, rows: allRows(n) });
    const r2 = await bootstrapInterval(regressed.outcomes, "r2");
    expect(r2.low).toBeLessThan(regressed.metrics.r2 as number);
    expect(r2.high).toBeGreaterThan(regressed.metrics.r2 as number);
  });

  it("gives a mean metric the interval of the pick-by-pick resampled means: exactly for 0/1 values, to float rounding for others", async () => {
    const n = 1_500;
    let seed = 11;
    const rand = () => ((seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 4_294_967_296);
    const hits = Array.from({ length: n }, () => (rand() < 0.7 ? 1 : 0));
    const errors = Float64Array.from({ length: n }, () => rand() * 2 - 1);
    // The reference: the seeded draws in table order, one resample after the other, summed pick by pick.
    const reference = (perRow: ArrayLike<number>, resamples = BOOTSTRAP_RESAMPLES) => {
      const random = mulberry32(BOOTSTRAP_SEED);
      const means = new Float64Array(resamples);
      for (let b = 0; b < resamples; b++) {
        let sum = 0;
        for (let i = 0; i < n; i++) sum += perRow[Math.floor(random() * n)];
        means[b] = sum / n;
      }
      means.sort();
      return { low: percentileOfSorted(means, 0.025), high: percentileOfSorted(means, 0.975) };
    };
    expect(await bootstrapInterval(hitsOutcomes(hits), "accuracy")).toEqual(reference(hits));
    expect(await bootstrapInterval(hitsOutcomes(hits.map((hit) => 1 - hit)), "top_k")).toEqual(reference(hits.map((hit) => 1 - hit)));
    // 1,000 resamples add four counts at a time (bytes of a word); a count of resamples that is not
    // a multiple of four adds them one at a time: the same integers either way.
    expect(await bootstrapInterval(hitsOutcomes(hits), "accuracy", { resamples: 998 })).toEqual(reference(hits, 998));
    const { outcomes } = scoreSplit({ kind: "REGRESSION", metrics: ["mae"], outputs: errors, outputWidth: 1, labels: new Float64Array(n), rows: allRows(n) });
    const mae = await bootstrapInterval(outcomes, "mae");
    const expected = reference(Array.from(errors, (e) => Math.abs(Math.fround(e))));
    expect(mae.low).toBeCloseTo(expected.low, 12);
    expect(mae.high).toBeCloseTo(expected.high, 12);
  });

  it("refuses a metric of the other kind", async () => {
    await expect(bootstrapInterval(hitsOutcomes([1, 0]), "mse")).rejects.toThrow("does not apply");
  });

  it("takes numpy's linear percentile", () => {
    expect(percentileOfSorted(Float64Array.from([1, 2, 3, 4]), 0.025)).toBeCloseTo(1.075, 12);
    expect(percentileOfSorted(Float64Array.from([1, 2, 3, 4]), 0.975)).toBeCloseTo(3.925, 12);
    expect(percentileOfSorted(Float64Array.from({ length: BOOTSTRAP_RESAMPLES }, (_, i) => i), 0.025)).toBeCloseTo(24.975, 12);
  });
});

describe("stored row outcomes", () => {
  it("round-trip classification with up to 256 classes in one byte per index, and more in two", () => {
    for (const classes of [3, 256, 300]) {
      const n = 37;
      const labels = Int32Array.from({ length: n }, (_, i) => (i * 7) % classes);
      const predictions = Int32Array.from({ length: n }, (_, i) => (i * 11) % classes);
      const inTopK = Uint8Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : 0));
      const stored = encodeSplitOutcomes({ kind: "CLASSIFICATION", numClasses: classes, labels, predictions, inTopK });
      expect(stored.length).toBe(12 + n * (classes <= 256 ? 2 : 4) + Math.ceil(n / 8));
      expect(decodeSplitOutcomes(stored)).toEqual({ kind: "CLASSIFICATION", numClasses: classes, labels, predictions, inTopK });
    }
  });

  it("round-trip regression as float32, also from an unaligned buffer", () => {
    const outcomes: SplitOutcomes = { kind: "REGRESSION", width: 2, predictions: Float32Array.from([1.5, -2, 3, 4.25]), targets: Float32Array.from([1, 2, 3, 4]) };
    const stored = encodeSplitOutcomes(outcomes);
    const unaligned = new Uint8Array(stored.length + 1).subarray(1);
    unaligned.set(stored);
    expect(decodeSplitOutcomes(unaligned)).toEqual(outcomes);
  });

  it("refuses truncated or foreign bytes", () => {
    const stored = encodeSplitOutcomes(hitsOutcomes([1, 0, 1]));
    expect(() => decodeSplitOutcomes(stored.subarray(0, stored.length - 1))).toThrow("wrong length");
    expect(() => decodeSplitOutcomes(Uint8Array.from([9, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]))).toThrow("format 9");
  });
});
