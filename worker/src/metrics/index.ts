import { CLASSIFICATION_METRICS, REGRESSION_METRICS, type MetricName, type MetricValues } from "@goat/contracts/metrics";
import { classifyRows, metricsOfClassifiedRows, type ClassifiedRows } from "./classification";
import { regressionMetrics } from "./regression";
import type { SplitOutcomes } from "./row-outcomes";

export { classificationMetrics, metricsOfClassifiedRows, StreamedClassification, type ClassificationMetricValues, type ClassifiedRows } from "./classification";
export { regressionMetrics, type RegressionMetricValues } from "./regression";
export { bootstrapInterval, StreamedInterval, type ScoreInterval } from "./bootstrap";
export { encodeSplitOutcomes, decodeSplitOutcomes, type SplitOutcomes } from "./row-outcomes";

export interface MetricsInput {
  kind: "CLASSIFICATION" | "REGRESSION";
  /** The metrics the task reports; only these are returned. */
  metrics: readonly MetricName[];
  /** The model's output, row-major [N, outputWidth]. */
  outputs: ArrayLike<number>;
  /** Values per output row: the class count for classification. */
  outputWidth: number;
  /** Ground truth: [N] class indices, or [N, outputWidth] regression targets. */
  labels: ArrayLike<number | bigint>;
  /** The rows to score (e.g. the public split). */
  rows: ArrayLike<number>;
  /** k for top_k; required when top_k is requested. */
  topK?: number;
}

/** Computes the requested metrics of one task kind over the given rows. */
export function computeMetrics(input: MetricsInput): MetricValues {
  if (input.metrics.length === 0) return {};
  return scoreSplit(input).metrics;
}

/**
 * The requested metrics over the given rows, and the per-row outcomes they were computed from
 * (what a bootstrap of the score needs; row-outcomes.ts).
 */
export function scoreSplit(input: MetricsInput): { metrics: MetricValues; outcomes: SplitOutcomes } {
  checkApplicable(input.kind, input.metrics);
  if (input.kind === "CLASSIFICATION") {
    if (input.metrics.includes("top_k") && input.topK === undefined) throw new Error("top_k needs topK");
    // k only affects top_k; 1 stands in when top_k is not requested.
    return scoreClassifiedSplit(input.metrics, classifyRows(input.outputs, input.outputWidth, input.labels, input.rows, input.topK ?? 1));
  }
  const all = regressionMetrics(input.outputs, input.labels, input.outputWidth, input.rows);
  return { metrics: requested(input.metrics, all), outcomes: regressionOutcomes(input) };
}

/** The requested classification metrics of rows classified already (StreamedClassification), and their outcomes. */
export function scoreClassifiedSplit(metrics: readonly MetricName[], classified: ClassifiedRows): { metrics: MetricValues; outcomes: SplitOutcomes } {
  checkApplicable("CLASSIFICATION", metrics);
  return { metrics: requested(metrics, metricsOfClassifiedRows(classified)), outcomes: { kind: "CLASSIFICATION", ...classified } };
}

function checkApplicable(kind: MetricsInput["kind"], metrics: readonly MetricName[]): void {
  const applicable: readonly MetricName[] = kind === "CLASSIFICATION" ? CLASSIFICATION_METRICS : REGRESSION_METRICS;
  const foreign = metrics.filter((m) => !applicable.includes(m));
  if (foreign.length > 0) throw new Error(`metrics ${foreign.join(", ")} do not apply to a ${kind} task`);
}

function requested(metrics: readonly MetricName[], all: MetricValues): MetricValues {
  const values: MetricValues = {};
  for (const metric of metrics) values[metric] = all[metric];
  return values;
}

function regressionOutcomes(input: MetricsInput): SplitOutcomes {
  const width = input.outputWidth;
  const predictions = new Float32Array(input.rows.length * width);
  const targets = new Float32Array(input.rows.length * width);
  for (let i = 0; i < input.rows.length; i++) {
    const from = input.rows[i] * width;
    for (let j = 0; j < width; j++) {
      predictions[i * width + j] = input.outputs[from + j];
      targets[i * width + j] = Number(input.labels[from + j]);
    }
  }
  return { kind: "REGRESSION", width, predictions, targets };
}
