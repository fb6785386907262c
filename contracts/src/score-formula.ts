/**
 * Score formulas (docs/ranking.md, "Score formulas"): a task may rank by an expression over its
 * metrics and the efficiency figures each result records, e.g. `accuracy - 0.02 * log10(params)`.
 * The web app validates and previews a formula on existing results; the worker computes it for
 * every new result: both call this module, so the preview is what the worker will store.
 *
 * Parsing is jsep's (a small, maintained expression parser that only builds an AST and never
 * runs anything); evaluating is the walk below, which knows numbers, the named variables, + - * /
 * ** and a fixed list of Math functions, and refuses every other node (member access, `this`,
 * strings, arrays, calls of anything but a listed function). No eval, no new Function, and
 * variables and functions are looked up in Maps, so `constructor` or `__proto__` are just unknown
 * names.
 */
import jsep from "jsep";
import type { MetricName, MetricValues } from "./metrics";

export const MAX_FORMULA_LENGTH = 300;

/** What a result records about the model's cost, in the units a formula sees. */
export interface EfficiencyFigures {
  paramCount: number;
  modelBytes: number;
  latencyP50Ms: number;
  latencyP95Ms: number;
}

/**
 * The efficiency variables a formula may use besides the task's metrics. One entry per figure: a
 * new figure (the peak memory, say) is one more entry here and one more field above.
 */
export const FORMULA_FIGURES: readonly { name: string; description: string; of: (figures: EfficiencyFigures) => number }[] = [
  { name: "params", description: "the model's parameter count", of: (figures) => figures.paramCount },
  { name: "model_bytes", description: "the model file's size in bytes", of: (figures) => figures.modelBytes },
  { name: "latency_p50_ms", description: "median batch latency in milliseconds", of: (figures) => figures.latencyP50Ms },
  { name: "latency_p95_ms", description: "95th-percentile batch latency in milliseconds", of: (figures) => figures.latencyP95Ms },
];

/** The Math functions a formula may call, with how many arguments each takes. */
const FUNCTIONS = new Map<string, { arity: [number, number]; apply: (...args: number[]) => number }>([
  ["log", { arity: [1, 1], apply: Math.log }],
  ["ln", { arity: [1, 1], apply: Math.log }],
  ["log10", { arity: [1, 1], apply: Math.log10 }],
  ["log2", { arity: [1, 1], apply: Math.log2 }],
  ["sqrt", { arity: [1, 1], apply: Math.sqrt }],
  ["exp", { arity: [1, 1], apply: Math.exp }],
  ["abs", { arity: [1, 1], apply: Math.abs }],
  ["pow", { arity: [2, 2], apply: Math.pow }],
  ["min", { arity: [2, 8], apply: Math.min }],
  ["max", { arity: [2, 8], apply: Math.max }],
]);

export const FORMULA_FUNCTIONS: readonly string[] = [...FUNCTIONS.keys()];

const BINARY = new Map<string, (left: number, right: number) => number>([
  ["+", (left, right) => left + right],
  ["-", (left, right) => left - right],
  ["*", (left, right) => left * right],
  ["/", (left, right) => left / right],
  ["**", (left, right) => left ** right],
]);

/** A formula that cannot be used, with a message fit for the organiser's form. */
export class FormulaError extends Error {}

/** A checked formula: only nodes the evaluator knows, only known variables and functions. */
export interface ScoreFormula {
  source: string;
  ast: jsep.Expression;
  variables: string[];
}

/** The variables a task's formula may use: its metrics, then the efficiency figures. */
export function formulaVariables(metrics: readonly string[]): string[] {
  return [...metrics, ...FORMULA_FIGURES.map((figure) => figure.name)];
}

function check(node: jsep.Expression, allowed: ReadonlySet<string>, used: Set<string>): void {
  switch (node.type) {
    case "Literal":
      if (typeof node.value !== "number") throw new FormulaError("only numbers may be written as values");
      if (!Number.isFinite(node.value)) throw new FormulaError("a number in the formula is too large");
      return;
    case "Identifier": {
      const name = String(node.name);
      if (!allowed.has(name)) {
        throw new FormulaError(FUNCTIONS.has(name) ? `${name} is a function: write ${name}(...)` : `unknown variable "${name.slice(0, 40)}"; use one of ${[...allowed].join(", ")}`);
      }
      used.add(name);
      return;
    }
    case "UnaryExpression":
      if (node.operator !== "-" && node.operator !== "+") throw new FormulaError(`the operator ${String(node.operator)} is not allowed`);
      check(node.argument as jsep.Expression, allowed, used);
      return;
    case "BinaryExpression":
      if (!BINARY.has(String(node.operator))) throw new FormulaError(`the operator ${String(node.operator)} is not allowed; use + - * / **`);
      check(node.left as jsep.Expression, allowed, used);
      check(node.right as jsep.Expression, allowed, used);
      return;
    case "CallExpression": {
      const callee = node.callee as jsep.Expression;
      const fn = callee.type === "Identifier" ? FUNCTIONS.get(String(callee.name)) : undefined;
      if (!fn) throw new FormulaError(`only these functions may be called: ${FORMULA_FUNCTIONS.join(", ")}`);
      const args = node.arguments as jsep.Expression[];
      if (args.length < fn.arity[0] || args.length > fn.arity[1]) {
        throw new FormulaError(`${String(callee.name)} takes ${fn.arity[0] === fn.arity[1] ? fn.arity[0] : `${fn.arity[0]} to ${fn.arity[1]}`} argument(s)`);
      }
      for (const arg of args) check(arg, allowed, used);
      return;
    }
    case "MemberExpression":
      throw new FormulaError("member access (a.b, a[b]) is not allowed");
    case "ThisExpression":
      throw new FormulaError("`this` is not allowed");
    default:
      throw new FormulaError(`a ${node.type} is not allowed; write one arithmetic expression`);
  }
}

/** Parses and checks a formula against the variables it may use; throws FormulaError. */
export function parseScoreFormula(source: string, allowedVariables: readonly string[]): ScoreFormula {
  const text = source.trim();
  if (text.length === 0) throw new FormulaError("the formula is empty");
  if (text.length > MAX_FORMULA_LENGTH) throw new FormulaError(`the formula is longer than ${MAX_FORMULA_LENGTH} characters`);
  let ast: jsep.Expression;
  try {
    ast = jsep(text);
  } catch (error) {
    const { description, index } = error as { description?: string; index?: number };
    throw new FormulaError(`syntax error${typeof index === "number" ? ` at character ${index + 1}` : ""}: ${description ?? "cannot be read"}`);
  }
  const used = new Set<string>();
  check(ast, new Set(allowedVariables), used);
  return { source: text, ast, variables: [...used] };
}

function evaluate(node: jsep.Expression, scope: ReadonlyMap<string, number>): number {
  switch (node.type) {
    case "Literal":
      return node.value as number;
    case "Identifier": {
      const value = scope.get(String(node.name));
      if (value === undefined) throw new FormulaError(`the variable "${String(node.name)}" has no value for this result`);
      return value;
    }
    case "UnaryExpression": {
      const value = evaluate(node.argument as jsep.Expression, scope);
      return node.operator === "-" ? -value : value;
    }
    case "BinaryExpression": {
      const left = evaluate(node.left as jsep.Expression, scope);
      const right = evaluate(node.right as jsep.Expression, scope);
      if (node.operator === "/" && right === 0) throw new FormulaError("division by zero");
      return finite(BINARY.get(String(node.operator))!(left, right), String(node.operator));
    }
    case "CallExpression": {
      const name = String((node.callee as jsep.Expression).name);
      const args = (node.arguments as jsep.Expression[]).map((arg) => evaluate(arg, scope));
      return finite(FUNCTIONS.get(name)!.apply(...args), `${name}(${args.map((arg) => formatNumber(arg)).join(", ")})`);
    }
    default:
      // parseScoreFormula refused every other node; a hand-made AST never reaches here.
      throw new FormulaError(`a ${node.type} is not allowed`);
  }
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(6);
}

function finite(value: number, what: string): number {
  if (!Number.isFinite(value)) throw new FormulaError(`${what} is ${Number.isNaN(value) ? "not a number" : "infinite"} for this result`);
  return value;
}

/** The formula's variables for one split of one result. */
export function formulaScope(metrics: MetricValues, figures: EfficiencyFigures): Map<string, number> {
  const scope = new Map<string, number>();
  for (const [name, value] of Object.entries(metrics)) if (typeof value === "number") scope.set(name, value);
  for (const figure of FORMULA_FIGURES) scope.set(figure.name, figure.of(figures));
  return scope;
}

/** The formula's value; throws FormulaError on a division by zero, NaN or an infinite value. */
export function evaluateScoreFormula(formula: ScoreFormula, scope: ReadonlyMap<string, number>): number {
  return evaluate(formula.ast, scope);
}

/**
 * A split's score: the formula's value when the task has one, else the rank metric's value.
 * Throws FormulaError when the formula cannot be computed for these values.
 */
export function splitScore(
  scoring: { rankMetric: string; metrics: readonly string[]; scoreFormula: string | null },
  metrics: MetricValues,
  figures: EfficiencyFigures,
): number | undefined {
  if (!scoring.scoreFormula) return metrics[scoring.rankMetric as MetricName];
  const formula = parseScoreFormula(scoring.scoreFormula, formulaVariables(scoring.metrics));
  return evaluateScoreFormula(formula, formulaScope(metrics, figures));
}
