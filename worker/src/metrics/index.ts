import { CLASSIFICATION_METRICS, REGRESSION_METRICS, type MetricName, type MetricValues } from "@goat/contracts/metrics";
import { classificationMetrics } from "./classification";
import { regressionMetrics } from "./regression";

export { classificationMetrics, type ClassificationMetricValues } from "./classification";
export { regressionMetrics, type RegressionMetricValues } from "./regression";

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
  const applicable: readonly MetricName[] = input.kind === "CLASSIFICATION" ? CLASSIFICATION_METRICS : REGRESSION_METRICS;
  const foreign = input.metrics.filter((m) => !applicable.includes(m));
  if (foreign.length > 0) throw new Error(`metrics ${foreign.join(", ")} do not apply to a ${input.kind} task`);
  if (input.metrics.length === 0) return {};

  let all: MetricValues;
  if (input.kind === "CLASSIFICATION") {
    if (input.metrics.includes("top_k") && input.topK === undefined) throw new Error("top_k needs topK");
    // k only affects top_k; 1 stands in when top_k is not requested.
    all = classificationMetrics(input.outputs, input.outputWidth, input.labels, input.rows, input.topK ?? 1);
  } else {
    all = regressionMetrics(input.outputs, input.labels, input.outputWidth, input.rows);
  }
  const values: MetricValues = {};
  for (const metric of input.metrics) values[metric] = all[metric];
  return values;
}
