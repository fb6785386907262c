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
 * The bootstrap interval of `metric` over the split's rows. The cost is 1,000 x rows random draws
 * (most of it the generator): 1,000 resamples of 100,000 classification rows took 3.8-4.5 s on a
 * 2-core machine running other test suites (load average 10), so less on an idle core. The work
 * yields to the event loop between slices, so the worker's queue lock keeps being renewed.
 */
export async function bootstrapInterval(outcomes: SplitOutcomes, metric: MetricName, options: BootstrapOptions = {}): Promise<ScoreInterval> {
  const resamples = options.resamples ?? BOOTSTRAP_RESAMPLES;
  const confidence = options.confidence ?? BOOTSTRAP_CONFIDENCE;
  const rows = outcomeRows(outcomes);
  if (rows === 0) throw new RangeError("cannot bootstrap 0 rows");
  metricOfResample(outcomes, metric, new Uint32Array(1)); // a metric of the other kind fails here, before the work
  const random = mulberry32(options.seed ?? BOOTSTRAP_SEED);
  const picks = new Uint32Array(rows);
  const scores = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    if (b > 0 && b % RESAMPLES_PER_SLICE === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    for (let i = 0; i < rows; i++) picks[i] = Math.floor(random() * rows);
    scores[b] = metricOfResample(outcomes, metric, picks);
  }
  scores.sort();
  const tail = (1 - confidence) / 2;
  return { low: percentileOfSorted(scores, tail), high: percentileOfSorted(scores, 1 - tail) };
}
