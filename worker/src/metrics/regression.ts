/**
 * Regression metrics over a subset of rows (the public or the private split). Every element of
 * a selected row counts, so a model with several outputs a row is scored on all of them.
 * Sums are kept in float64 (JavaScript numbers) even when the model outputs float32.
 */

export interface RegressionMetricValues {
  mse: number;
  mae: number;
  rmse: number;
  r2: number;
}

/**
 * @param pred row-major [N, width] predictions
 * @param target row-major [N, width] ground truth
 * @param rows indices of the rows to score
 */
export function regressionMetrics(
  pred: ArrayLike<number>,
  target: ArrayLike<number | bigint>,
  width: number,
  rows: ArrayLike<number>,
): RegressionMetricValues {
  if (!Number.isInteger(width) || width < 1) throw new RangeError(`width must be >= 1, got ${width}`);
  if (pred.length !== target.length || target.length % width !== 0) {
    throw new RangeError(`${pred.length} predictions for ${target.length} targets of width ${width}`);
  }
  if (rows.length === 0) throw new RangeError("cannot compute metrics over 0 rows");
  const totalRows = target.length / width;

  // First pass: the errors, and each column's target sum for its mean.
  let squaredError = 0;
  let absoluteError = 0;
  const residualSquares = new Float64Array(width);
  const columnSums = new Float64Array(width);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (!Number.isInteger(row) || row < 0 || row >= totalRows) throw new RangeError(`row ${row} is out of range`);
    for (let j = 0; j < width; j++) {
      const t = Number(target[row * width + j]);
      const e = pred[row * width + j] - t;
      squaredError += e * e;
      absoluteError += Math.abs(e);
      residualSquares[j] += e * e;
      columnSums[j] += t;
    }
  }

  // Second pass: each column's spread around its mean (two passes avoid the cancellation of
  // the one-pass sum-of-squares formula).
  const totalSquares = new Float64Array(width);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    for (let j = 0; j < width; j++) {
      const d = Number(target[row * width + j]) - columnSums[j] / rows.length;
      totalSquares[j] += d * d;
    }
  }

  // sklearn's r2_score(multioutput="uniform_average", force_finite=True): a column whose
  // targets are constant scores 1 when predicted exactly and 0 otherwise, instead of NaN/-inf.
  // RMSE is sklearn's mean_squared_error(squared=False) (root_mean_squared_error in later
  // versions): each column's RMSE, averaged over columns, which for several outputs is not the
  // square root of the overall MSE.
  let r2Sum = 0;
  let rmseSum = 0;
  for (let j = 0; j < width; j++) {
    if (totalSquares[j] !== 0) r2Sum += 1 - residualSquares[j] / totalSquares[j];
    else r2Sum += residualSquares[j] === 0 ? 1 : 0;
    rmseSum += Math.sqrt(residualSquares[j] / rows.length);
  }

  const elements = rows.length * width;
  return { mse: squaredError / elements, mae: absoluteError / elements, rmse: rmseSum / width, r2: r2Sum / width };
}
