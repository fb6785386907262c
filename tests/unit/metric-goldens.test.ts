import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CLASSIFICATION_METRICS, REGRESSION_METRICS } from "@goat/contracts/metrics";
import { computeMetrics } from "../../worker/src/metrics/index";

/**
 * Every metric against values computed by real scikit-learn (tools/golden/make-metric-goldens.py,
 * Debian's python3-sklearn): ties in scores and at the k-th place, constant targets, a single true
 * class, all wrong, a class never predicted, several outputs.
 */
interface Goldens {
  sklearn: string;
  classification: { name: string; numClasses: number; topK: number; scores: number[][]; labels: number[]; expected: Record<string, number> }[];
  regression: { name: string; width: number; predictions: number[][]; targets: number[][]; expected: Record<string, number> }[];
}

const goldens = JSON.parse(readFileSync(new URL("../fixtures/metric-goldens.json", import.meta.url), "utf8")) as Goldens;

/** Equal up to float64 summation order: 1e-12 relative (absolute near 0). */
function expectSame(actual: number | undefined, expected: number) {
  expect(actual).toBeTypeOf("number");
  expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(expected)));
}

const allRows = (n: number) => Array.from({ length: n }, (_, i) => i);

describe(`metrics agree with scikit-learn ${goldens.sklearn}`, () => {
  it("has goldens for every metric the platform computes", () => {
    expect(goldens.classification.length).toBeGreaterThan(10);
    expect(goldens.regression.length).toBeGreaterThan(5);
    for (const c of goldens.classification) expect(Object.keys(c.expected).sort()).toEqual([...CLASSIFICATION_METRICS].sort());
    for (const c of goldens.regression) expect(Object.keys(c.expected).sort()).toEqual([...REGRESSION_METRICS].sort());
  });

  it.each(goldens.classification.map((c) => [c.name, c] as const))("classification: %s", (_name, c) => {
    const values = computeMetrics({
      kind: "CLASSIFICATION",
      metrics: CLASSIFICATION_METRICS,
      outputs: Float64Array.from(c.scores.flat()),
      outputWidth: c.numClasses,
      labels: c.labels,
      rows: allRows(c.labels.length),
      topK: c.topK,
    });
    for (const metric of CLASSIFICATION_METRICS) expectSame(values[metric], c.expected[metric]);
  });

  it.each(goldens.regression.map((c) => [c.name, c] as const))("regression: %s", (_name, c) => {
    const values = computeMetrics({
      kind: "REGRESSION",
      metrics: REGRESSION_METRICS,
      outputs: Float64Array.from(c.predictions.flat()),
      outputWidth: c.width,
      labels: Float64Array.from(c.targets.flat()),
      rows: allRows(c.targets.length),
    });
    for (const metric of REGRESSION_METRICS) expectSame(values[metric], c.expected[metric]);
  });
});
