/**
 * A score axis that fits the data with a little room, never past what the metric can reach:
 * accuracy, macro-F1 and top-k lie in [0, 1], R² is at most 1, errors (MSE, MAE, RMSE) are at
 * least 0. recharts' "auto" rounds outwards to nice ticks and showed accuracy up to 1.2.
 */
const UNIT_INTERVAL = new Set(["accuracy", "macro_f1", "top_k"]);
const NON_NEGATIVE = new Set(["mse", "mae", "rmse"]);

export function scoreDomain(values: number[], metric: string): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return [0, 1];
  let low = Math.min(...finite);
  let high = Math.max(...finite);
  const pad = high > low ? (high - low) * 0.1 : Math.max(Math.abs(high) * 0.05, 0.01);
  low -= pad;
  high += pad;
  if (UNIT_INTERVAL.has(metric) || NON_NEGATIVE.has(metric)) low = Math.max(0, low);
  if (UNIT_INTERVAL.has(metric) || metric === "r2") high = Math.min(1, high);
  return [low, high];
}
