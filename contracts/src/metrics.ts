/** The metrics a task can compute, and the direction in which each is better. */
export const CLASSIFICATION_METRICS = ["accuracy", "macro_f1", "top_k"] as const;
export const REGRESSION_METRICS = ["mse", "mae", "rmse", "r2"] as const;
export type ClassificationMetric = (typeof CLASSIFICATION_METRICS)[number];
export type RegressionMetric = (typeof REGRESSION_METRICS)[number];
export type MetricName = ClassificationMetric | RegressionMetric;

export const METRIC_NAMES: readonly MetricName[] = [...CLASSIFICATION_METRICS, ...REGRESSION_METRICS];

export const NATURAL_DIRECTION: Record<MetricName, "MAXIMIZE" | "MINIMIZE"> = {
  accuracy: "MAXIMIZE",
  macro_f1: "MAXIMIZE",
  top_k: "MAXIMIZE",
  mse: "MINIMIZE",
  mae: "MINIMIZE",
  rmse: "MINIMIZE",
  r2: "MAXIMIZE",
};

export function metricsForKind(kind: "CLASSIFICATION" | "REGRESSION"): readonly MetricName[] {
  return kind === "CLASSIFICATION" ? CLASSIFICATION_METRICS : REGRESSION_METRICS;
}

/** Metric values keyed by metric name, e.g. { accuracy: 0.91, macro_f1: 0.9 }. */
export type MetricValues = Partial<Record<MetricName, number>>;
