import { describe, expect, it } from "vitest";
import {
  FORMULA_FIGURES,
  FormulaError,
  MAX_FORMULA_LENGTH,
  evaluateScoreFormula,
  formulaScope,
  formulaVariables,
  parseScoreFormula,
  splitScore,
} from "@goat/contracts/score-formula";
import { emptySplitProblem, scoringChanges, type ScoringSettings } from "@goat/contracts/scoring-version";
import { publicPrivateSplit } from "@goat/contracts/dataset/split";

const METRICS = ["accuracy", "macro_f1", "top_k"];
const VARIABLES = formulaVariables(METRICS);
const FIGURES = { paramCount: 1_000_000, modelBytes: 4_000_000, latencyP50Ms: 2.5, latencyP95Ms: 8 };
const SCOPE = formulaScope({ accuracy: 0.9, macro_f1: 0.8, top_k: 0.99 }, FIGURES);

const value = (source: string) => evaluateScoreFormula(parseScoreFormula(source, VARIABLES), SCOPE);

describe("score formulas: values match hand-computed ones", () => {
  // Each expected value is worked out by hand from accuracy 0.9, macro_f1 0.8, top_k 0.99,
  // params 1e6, model_bytes 4e6, latency p50 2.5 ms, p95 8 ms.
  const cases: [string, number][] = [
    ["accuracy", 0.9],
    ["accuracy - 0.02 * log10(params)", 0.9 - 0.02 * 6], // 0.78
    ["accuracy - 0.001 * latency_p95_ms", 0.9 - 0.008],
    ["0.5 * accuracy + 0.5 * macro_f1", 0.85],
    ["accuracy / (1 + model_bytes / 4000000)", 0.45],
    ["-accuracy", -0.9],
    ["2 ** 3 ** 2", 512], // right-associative, as in JavaScript and maths
    ["sqrt(latency_p50_ms * 10)", 5],
    ["min(accuracy, macro_f1, top_k)", 0.8],
    ["max(accuracy, top_k)", 0.99],
    ["abs(macro_f1 - accuracy)", 0.1],
    ["pow(2, 10)", 1024],
    ["log(exp(2))", 2],
    ["ln(exp(1))", 1],
    ["log2(1024)", 10],
  ];
  it.each(cases)("%s = %d", (source, expected) => {
    expect(value(source)).toBeCloseTo(expected, 12);
  });

  it("lists one variable per metric and one per efficiency figure", () => {
    expect(VARIABLES).toEqual(["accuracy", "macro_f1", "top_k", "params", "model_bytes", "latency_p50_ms", "latency_p95_ms"]);
    expect(FORMULA_FIGURES.map((figure) => figure.name)).toEqual(["params", "model_bytes", "latency_p50_ms", "latency_p95_ms"]);
  });

  it("without a formula, a split's score is the rank metric's value; with one, the formula's", () => {
    const scoring = { rankMetric: "macro_f1", metrics: METRICS, scoreFormula: null };
    expect(splitScore(scoring, { accuracy: 0.9, macro_f1: 0.8 }, FIGURES)).toBe(0.8);
    expect(splitScore({ ...scoring, scoreFormula: "accuracy - 0.02 * log10(params)" }, { accuracy: 0.9, macro_f1: 0.8 }, FIGURES)).toBeCloseTo(0.78, 12);
  });
});

describe("score formulas: hostile or broken input is refused", () => {
  const refused: [string, string, RegExp][] = [
    ["constructor", "constructor", /unknown variable "constructor"/],
    ["__proto__", "__proto__", /unknown variable "__proto__"/],
    ["prototype chain through a variable", "accuracy.constructor", /member access/],
    ["computed member access", 'accuracy["constructor"]', /member access|only numbers/],
    ["process.exit()", "process.exit()", /only these functions may be called/],
    ["a global function", "eval('1')", /only these functions may be called/],
    ["Function constructor", "Function('return 1')()", /only these functions may be called/],
    ["this", "this", /`this` is not allowed/],
    ["this member", "this.constructor", /member access/],
    ["a string", "'abc'", /only numbers/],
    ["an array", "[1, 2]", /ArrayExpression is not allowed/],
    ["a comparison", "accuracy > 0.5", /operator > is not allowed/],
    ["a logical operator", "accuracy || 1", /operator \|\| is not allowed/],
    ["a conditional", "accuracy ? 1 : 0", /ConditionalExpression is not allowed/],
    ["two expressions", "accuracy; params", /Compound is not allowed/],
    ["a sequence", "(accuracy, params)", /is not allowed/],
    ["bitwise not", "~accuracy", /operator ~ is not allowed/],
    ["logical not", "!accuracy", /operator ! is not allowed/],
    ["a function name alone", "log10", /log10 is a function/],
    ["a function with too many arguments", "log10(params, 2)", /log10 takes 1 argument/],
    ["a metric the task does not compute", "mse", /unknown variable "mse"/],
    ["a syntax error", "accuracy -", /syntax error/],
    ["unbalanced parentheses", "(accuracy", /syntax error/],
    ["an empty formula", "   ", /empty/],
    ["a boolean", "true", /only numbers/],
    ["an overflowing number", "1e400 * accuracy", /too large/],
    ["very long input", `accuracy${" + accuracy".repeat(40)}`, new RegExp(`longer than ${MAX_FORMULA_LENGTH}`)],
  ];
  it.each(refused)("%s: %s", (_what, source, message) => {
    expect(() => parseScoreFormula(source, VARIABLES)).toThrow(FormulaError);
    expect(() => parseScoreFormula(source, VARIABLES)).toThrow(message);
  });

  it("deep nesting within the length cap is parsed and evaluated without harm", () => {
    expect(value(`${"(".repeat(140)}accuracy${")".repeat(140)}`)).toBe(0.9);
  });

  it("a refused formula never touched a global", () => {
    const before = Object.getOwnPropertyNames(Object.prototype).length;
    expect(() => parseScoreFormula("__proto__.polluted", VARIABLES)).toThrow(FormulaError);
    expect(Object.getOwnPropertyNames(Object.prototype).length).toBe(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("score formulas: values that cannot be computed are refused, never stored as NaN", () => {
  const failing: [string, RegExp][] = [
    ["accuracy / (params - 1000000)", /division by zero/],
    ["log10(params - 1000000)", /infinite/],
    ["sqrt(-accuracy)", /not a number/],
    ["log(accuracy - 1)", /not a number/],
    ["10 ** params", /infinite/],
  ];
  it.each(failing)("%s", (source, message) => {
    expect(() => value(source)).toThrow(FormulaError);
    expect(() => value(source)).toThrow(message);
  });
});

describe("scoring versions: what changes the meaning of a score", () => {
  const base: ScoringSettings = {
    datasetVersion: "abc",
    splitSeed: 7,
    publicFraction: 0.5,
    metrics: ["accuracy", "macro_f1"],
    rankMetric: "accuracy",
    direction: "MAXIMIZE",
    topK: 5,
    scoreFormula: null,
  };
  const cases: [string, Partial<ScoringSettings>, string[]][] = [
    ["nothing", {}, []],
    ["the public fraction", { publicFraction: 0.6 }, ["publicFraction"]],
    ["the dataset", { datasetVersion: "def" }, ["datasetVersion"]],
    ["the rank metric", { rankMetric: "macro_f1" }, ["rankMetric"]],
    ["the direction", { direction: "MINIMIZE" }, ["direction"]],
    ["the metric list", { metrics: ["accuracy"] }, ["metrics"]],
    ["the formula", { scoreFormula: "accuracy - 0.02 * log10(params)" }, ["scoreFormula"]],
    ["the formula's spacing only", { scoreFormula: "  " }, []],
    ["top-k when top_k is not computed", { topK: 3 }, []],
    ["top-k when top_k is computed", { metrics: ["accuracy", "top_k"], topK: 3 }, ["metrics", "topK"]],
    ["two settings", { publicFraction: 0.6, direction: "MINIMIZE" }, ["publicFraction", "direction"]],
  ];
  it.each(cases)("changing %s", (_what, change, fields) => {
    expect(scoringChanges(base, { ...base, ...change }).map((each) => each.field)).toEqual(fields);
  });
});

describe("a public fraction must leave rows on both sides of the split", () => {
  const cases: [number, number, "ok" | "public" | "private"][] = [
    [100, 0.5, "ok"],
    [100, 0.0001, "public"],
    [100, 0.004, "public"], // round(0.4) = 0
    [100, 0.005, "ok"], // round(0.5) = 1
    [100, 0.995, "private"], // round(99.5) = 100
    [100, 0.994, "ok"],
    [1, 0.5, "private"], // the one row rounds to public
    [3, 0.2, "ok"], // round(0.6) = 1 public, 2 private
    [10_000, 0.0001, "ok"], // one public row
  ];
  it.each(cases)("%d rows at %d: %s", (rows, fraction, expected) => {
    const problem = emptySplitProblem(rows, fraction);
    if (expected === "ok") expect(problem).toBeNull();
    else expect(problem).toContain(`leaves the ${expected} leaderboard no rows`);
    // The check agrees with the split the worker makes.
    const split = publicPrivateSplit(rows, fraction, 1);
    expect(split.publicRows.length > 0 && split.privateRows.length > 0).toBe(expected === "ok");
  });
});
