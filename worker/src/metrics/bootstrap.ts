import os from "node:os";
import type { MetricName } from "@goat/contracts/metrics";
import { mulberry32 } from "@goat/contracts/seeded-random";
import { metricsOfClassifiedRows } from "./classification";
import { regressionMetrics } from "./regression";
import { outcomeRows, type SplitOutcomes } from "./row-outcomes";

/**
 * How sure a score is: a 95% percentile bootstrap interval of the task's rank metric over the
 * rows of one part of the test set (docs/ranking.md, "How sure is a rank").
 *
 * - 1,000 resamples, each n rows drawn with replacement from the split's n rows;
 * - the draws come from one fixed seed, so every submission of a task is resampled with the same
 *   row indices (a paired bootstrap: teams are compared on the same resampled test sets, which
 *   keeps the comparison free of noise from different draws);
 * - the interval is the 2.5th and 97.5th percentile of the 1,000 resampled scores, with linear
 *   interpolation between order statistics (numpy's default percentile).
 *
 * The metric of a resample is computed by the same code as the score (metricsOfClassifiedRows,
 * regressionMetrics), only over the picked rows.
 */
export const BOOTSTRAP_RESAMPLES = 1000;
export const BOOTSTRAP_SEED = 20_261_129;
export const BOOTSTRAP_CONFIDENCE = 0.95;

export interface ScoreInterval {
  low: number;
  high: number;
}

export interface BootstrapOptions {
  resamples?: number;
  seed?: number;
  confidence?: number;
}

/** The metric over the outcome entries at `picks` (a resample may pick an entry several times). */
function metricOfResample(outcomes: SplitOutcomes, metric: MetricName, picks: Uint32Array): number {
  const value =
    outcomes.kind === "CLASSIFICATION"
      ? metricsOfClassifiedRows(outcomes, picks)[metric as "accuracy" | "macro_f1" | "top_k"]
      : regressionMetrics(outcomes.predictions, outcomes.targets, outcomes.width, picks)[metric as "mse" | "mae" | "rmse" | "r2"];
  if (value === undefined) throw new Error(`metric ${metric} does not apply to ${outcomes.kind} outcomes`);
  return value;
}

/** numpy's percentile (method "linear") of ascending values, q in [0, 1]. */
export function percentileOfSorted(sorted: Float64Array, q: number): number {
  const position = q * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

/** Resamples between two yields to the event loop (a BullMQ worker must keep renewing its lock). */
const RESAMPLES_PER_SLICE = 25;

/**
 * The draws are the same for every submission of a task (one seed, paired): a worker keeps the
 * last few draw tables, so after its first evaluation of a task the generator does not run again.
 * A table is resamples x rows indices; tables larger than this many entries (e.g. 1,000 x 100,000
 * rows) are drawn anew each time instead of being kept.
 */
const MAX_KEPT_DRAW_ENTRIES = 12_000_000;
const KEPT_TABLES = 4;
const keptDraws = new Map<string, Uint32Array>();

/** The kept table of these draws, or a new one from `build` (kept, the oldest of KEPT_TABLES dropped); null past the size bound or when `build` gives none. */
function keptTable<T>(kept: Map<string, T>, rows: number, resamples: number, seed: number, build: () => T | null): T | null {
  if (rows * resamples > MAX_KEPT_DRAW_ENTRIES) return null;
  const key = `${rows}:${resamples}:${seed}`;
  const found = kept.get(key);
  if (found) return found;
  const table = build();
  if (table === null) return null;
  if (kept.size >= KEPT_TABLES) kept.delete(kept.keys().next().value!);
  kept.set(key, table);
  return table;
}

function drawTable(rows: number, resamples: number, seed: number): Uint32Array | null {
  return keptTable(keptDraws, rows, resamples, seed, () => {
    const table = new Uint32Array(rows * resamples);
    const random = mulberry32(seed);
    for (let i = 0; i < table.length; i++) table[i] = Math.floor(random() * rows);
    return table;
  });
}

/**
 * The same draws as counts: byte `row * resamples + b` is how many times resample b picked the row,
 * and `rowMax[row]` the most any resample picked it. A mean over rows is then, per resample, a
 * weighted sum of the rows' values, summed column by column over the rows whose value is not zero
 * (a few million sequential additions instead of as many random reads). Kept like the draw tables;
 * null past the same size, or in the (practically impossible: ~1e-500 for 1,000 rows) case of a
 * row picked more than 255 times in one resample.
 */
interface CountTable {
  counts: Uint8Array;
  rowMax: Uint8Array;
}
const keptCounts = new Map<string, CountTable>();

function countTable(rows: number, resamples: number, seed: number): CountTable | null {
  return keptTable(keptCounts, rows, resamples, seed, () => {
    // The draws in drawTable's order, counted as they come (the draw table itself is not kept for
    // this: a quarter of the memory, and a smaller worker to fork each sandbox child from).
    const counts = new Uint8Array(rows * resamples);
    const rowMax = new Uint8Array(rows);
    const random = mulberry32(seed);
    for (let b = 0; b < resamples; b++) {
      for (let i = 0; i < rows; i++) {
        const row = Math.floor(random() * rows);
        const at = row * resamples + b;
        if (counts[at] === 0xff) return null;
        const count = ++counts[at];
        if (count > rowMax[row]) rowMax[row] = count;
      }
    }
    return { counts, rowMax };
  });
}

/** Whether four counts can be added at once as the bytes of a 32-bit word (little-endian, whole words per row). */
const addsWordwise = (resamples: number) => os.endianness() === "LE" && resamples % 4 === 0;

/**
 * Per resample, how many of its picks fell on the rows added so far (by their position in the
 * split). Each row's counts are added four resamples at a time, as the bytes of 32-bit words (a
 * byte per resample: no carry while every byte's running total stays under 256, which `rowMax`
 * bounds; the words are emptied into the totals before that). Four times fewer additions than a
 * count at a time: ~0.4 ms instead of ~1.7 for 500 rows of 1,000 resamples on the CI machine.
 */
class PickTotals {
  private readonly words: Uint32Array;
  private readonly wordsPerRow: number;
  private readonly totals: Uint32Array;
  private readonly running: Uint32Array;
  /** the most any byte of `running` can hold now */
  private bound = 0;

  constructor(
    private readonly table: CountTable,
    resamples: number,
  ) {
    const { counts } = table;
    this.words = new Uint32Array(counts.buffer, counts.byteOffset, counts.length >> 2);
    this.wordsPerRow = resamples >> 2;
    this.totals = new Uint32Array(resamples);
    this.running = new Uint32Array(this.wordsPerRow);
  }

  /** Adds the picks of the row at `position` of the split. */
  add(position: number): void {
    const { rowMax } = this.table;
    const { words, running, wordsPerRow } = this;
    if (this.bound + rowMax[position] > 0xff) this.empty();
    this.bound += rowMax[position];
    const base = position * wordsPerRow;
    for (let q = 0; q < wordsPerRow; q++) running[q] += words[base + q];
  }

  /** The totals of the rows added so far. */
  result(): Uint32Array {
    this.empty();
    return this.totals;
  }

  private empty(): void {
    const { running, totals } = this;
    for (let q = 0; q < this.wordsPerRow; q++) {
      const word = running[q];
      const b = q << 2;
      totals[b] += word & 0xff;
      totals[b + 1] += (word >>> 8) & 0xff;
      totals[b + 2] += (word >>> 16) & 0xff;
      totals[b + 3] += word >>> 24;
    }
    running.fill(0);
    this.bound = 0;
  }
}

/** Per resample, how many of its picks fell on rows whose value is `which`. */
function picksOfRowsWith(values: Float64Array, which: 0 | 1, table: CountTable, resamples: number): Uint32Array {
  const picks = new PickTotals(table, resamples);
  for (let i = 0; i < values.length; i++) if (values[i] === which) picks.add(i);
  return picks.result();
}

/**
 * Each resample's mean of `values` from the count table. Values of 0 and 1 only (accuracy, top-k)
 * add whole counts, so each resample's sum is the exact integer the pick-by-pick sum gives: the
 * rows of the rarer value are counted, and the other sum follows from the resample's size. Other
 * values give the same means up to the order of the floating-point additions.
 */
function resampledMeans(values: Float64Array, table: CountTable, resamples: number): Float64Array {
  const rows = values.length;
  const means = new Float64Array(resamples);
  let ones = 0;
  let binary = true;
  for (let i = 0; i < rows && binary; i++) {
    if (values[i] === 1) ones++;
    else if (values[i] !== 0) binary = false;
  }
  if (binary && addsWordwise(resamples)) {
    const rarer = ones > rows / 2 ? 0 : 1;
    const picks = picksOfRowsWith(values, rarer, table, resamples);
    for (let b = 0; b < resamples; b++) means[b] = (rarer === 1 ? picks[b] : rows - picks[b]) / rows;
    return means;
  }
  const { counts } = table;
  const complement = binary && ones > rows / 2;
  for (let i = 0; i < rows; i++) {
    const value = values[i];
    const weight = complement ? (value === 0 ? 1 : 0) : value;
    if (weight === 0) continue;
    const base = i * resamples;
    for (let b = 0; b < resamples; b++) means[b] += weight * counts[base + b];
  }
  for (let b = 0; b < resamples; b++) means[b] = (complement ? rows - means[b] : means[b]) / rows;
  return means;
}

/**
 * For the metrics that are a mean over rows (accuracy, top-k, and MSE and MAE, whose mean over
 * every output value is the mean of each row's mean), each row's value: a resample's metric is then
 * the mean of the picked values, the same number the full computation gives, in one gather.
 */
function rowValues(outcomes: SplitOutcomes, metric: MetricName): Float64Array | null {
  if (outcomes.kind === "CLASSIFICATION") {
    const { labels, predictions, inTopK } = outcomes;
    if (metric !== "accuracy" && metric !== "top_k") return null;
    const values = new Float64Array(labels.length);
    if (metric === "accuracy") for (let i = 0; i < values.length; i++) values[i] = predictions[i] === labels[i] ? 1 : 0;
    else for (let i = 0; i < values.length; i++) values[i] = inTopK[i];
    return values;
  }
  if (metric !== "mse" && metric !== "mae") return null;
  const { width, predictions, targets } = outcomes;
  const values = new Float64Array(targets.length / width);
  for (let row = 0; row < values.length; row++) {
    let sum = 0;
    for (let j = 0; j < width; j++) {
      const error = predictions[row * width + j] - targets[row * width + j];
      sum += metric === "mse" ? error * error : Math.abs(error);
    }
    values[row] = sum / width;
  }
  return values;
}

/** Each resample's metric, from its picks (the kept draw table, else drawn anew). */
async function resampledScores(outcomes: SplitOutcomes, metric: MetricName, values: Float64Array | null, resamples: number, seed: number): Promise<Float64Array> {
  const rows = outcomeRows(outcomes);
  const table = drawTable(rows, resamples, seed);
  const random = table ? null : mulberry32(seed);
  let picks: Uint32Array = new Uint32Array(rows);
  const scores = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    if (b > 0 && b % RESAMPLES_PER_SLICE === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    if (table) picks = table.subarray(b * rows, (b + 1) * rows);
    else for (let i = 0; i < rows; i++) picks[i] = Math.floor(random!() * rows);
    if (values) {
      let sum = 0;
      for (let i = 0; i < rows; i++) sum += values[picks[i]];
      scores[b] = sum / rows;
    } else scores[b] = metricOfResample(outcomes, metric, picks);
  }
  return scores;
}

/**
 * The bootstrap interval of `metric` over the split's rows. Drawing the indices is most of the
 * cost (1,000 x rows draws), paid once per split size and kept (drawTable, countTable); the metrics
 * that are a mean over rows are then a weighted sum of the count table's columns (resampledMeans),
 * the others are recomputed per resample, yielding to the event loop between slices so that the
 * worker's queue lock keeps being renewed. `npm run bench` reports what an
 * evaluation spends on it (inside "result write").
 */
export async function bootstrapInterval(outcomes: SplitOutcomes, metric: MetricName, options: BootstrapOptions = {}): Promise<ScoreInterval> {
  const resamples = options.resamples ?? BOOTSTRAP_RESAMPLES;
  const confidence = options.confidence ?? BOOTSTRAP_CONFIDENCE;
  const seed = options.seed ?? BOOTSTRAP_SEED;
  const rows = outcomeRows(outcomes);
  if (rows === 0) throw new RangeError("cannot bootstrap 0 rows");
  metricOfResample(outcomes, metric, new Uint32Array(1)); // a metric of the other kind fails here, before the work
  const values = rowValues(outcomes, metric);
  const counts = values ? countTable(rows, resamples, seed) : null;
  const scores = values && counts ? resampledMeans(values, counts, resamples) : await resampledScores(outcomes, metric, values, resamples, seed);
  return intervalOfScores(scores, confidence);
}

/** The percentile interval of the resampled scores (sorted here, in place). */
function intervalOfScores(scores: Float64Array, confidence: number): ScoreInterval {
  scores.sort();
  const tail = (1 - confidence) / 2;
  return { low: percentileOfSorted(scores, tail), high: percentileOfSorted(scores, 1 - tail) };
}

/**
 * Each test row's position in a split (-1 outside it), or null when the split names a row twice or
 * one outside the test set. Kept per split array: a worker's split of a dataset version is one array
 * for all its evaluations (task-datasets.ts), so the map is built once, not per evaluation.
 */
const keptPositions = new WeakMap<ArrayLike<number>, Int32Array | null>();
function splitPositions(splitRows: ArrayLike<number>, testRows: number): Int32Array | null {
  const kept = keptPositions.get(splitRows);
  if (kept !== undefined && (kept === null || kept.length === testRows)) return kept;
  let positions: Int32Array | null = new Int32Array(testRows).fill(-1);
  for (let i = 0; i < splitRows.length; i++) {
    const row = splitRows[i];
    if (!Number.isInteger(row) || row < 0 || row >= testRows || positions[row] !== -1) {
      positions = null;
      break;
    }
    positions[row] = i;
  }
  keptPositions.set(splitRows, positions);
  return positions;
}

/**
 * The interval of a 0/1 metric (accuracy, top-k) over one split, summed as the test rows are
 * classified (StreamedClassification tells it each row of value 1): while the sandbox runs the
 * model's next batch, instead of after the last one. `finish()` gives what `bootstrapInterval`
 * gives for the split's outcomes, exactly: the same count table, and each resample's sum is the
 * same integer (the rows of value 1 counted; bootstrapInterval may count the rarer value instead,
 * which gives the same integer). What is left after the last batch is the sort and the percentiles.
 */
export class StreamedInterval {
  /** 1 for each position of the split added already */
  private readonly added: Uint8Array;

  private constructor(
    readonly metric: "accuracy" | "top_k",
    private readonly picks: PickTotals,
    /** each test row's position in the split, -1 outside it (splitPositions: kept, never written here) */
    private readonly positions: Int32Array,
    private readonly rows: number,
    private readonly resamples: number,
    private readonly confidence: number,
  ) {
    this.added = new Uint8Array(rows);
  }

  /**
   * The streamed interval of `metric` over the split of `testRows` test rows made of `splitRows`
   * (test row indices, in the split's order), or null where the metric is not a 0/1 mean, the split
   * is empty or holds a row twice, or the count table is not kept (bootstrapInterval then computes it).
   */
  static of(metric: MetricName, splitRows: ArrayLike<number>, testRows: number, options: BootstrapOptions = {}): StreamedInterval | null {
    if (metric !== "accuracy" && metric !== "top_k") return null;
    const resamples = options.resamples ?? BOOTSTRAP_RESAMPLES;
    const rows = splitRows.length;
    if (rows === 0 || !addsWordwise(resamples)) return null;
    const positions = splitPositions(splitRows, testRows);
    if (!positions) return null;
    const table = countTable(rows, resamples, options.seed ?? BOOTSTRAP_SEED);
    if (!table) return null;
    return new StreamedInterval(metric, new PickTotals(table, resamples), positions, rows, resamples, options.confidence ?? BOOTSTRAP_CONFIDENCE);
  }

  /** Test row `row` has the value 1; nothing for a row outside the split or added before. */
  addHit(row: number): void {
    const position = this.positions[row];
    if (position === undefined || position < 0 || this.added[position] === 1) return;
    this.added[position] = 1;
    this.picks.add(position);
  }

  /** The interval over the rows added (every other row of the split has the value 0). */
  finish(): ScoreInterval {
    const picks = this.picks.result();
    const means = new Float64Array(this.resamples);
    for (let b = 0; b < this.resamples; b++) means[b] = picks[b] / this.rows;
    return intervalOfScores(means, this.confidence);
  }
}
