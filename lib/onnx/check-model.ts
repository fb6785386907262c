import "server-only";
import { boundedName, boundedShape, participantMessage } from "@goat/contracts/participant-message";
import { describeShape, FREE_DIM, type TensorSpec } from "@goat/contracts/tensor-spec";
import type { OnnxModelInfo, OnnxValueInfo } from "./inspect-model";

/**
 * Does an inspected model fit a task? The intake check, run before a model is stored and
 * queued. It looks at what the file declares only; the worker checks the real outputs.
 */
export type ModelCheckCode = "SIGNATURE_MISMATCH" | "EXTERNAL_DATA" | "UNSUPPORTED_OPERATOR_DOMAIN";

export interface ModelCheckProblem {
  code: ModelCheckCode;
  /** For the participant: what is wrong, expected vs found. */
  message: string;
  expected?: unknown;
  found?: unknown;
}

export interface TaskSignature {
  inputSpec: TensorSpec[];
  outputSpec: TensorSpec[];
}

/** Operator domains onnxruntime's standard build implements and a model may use. */
export const ALLOWED_OPERATOR_DOMAINS: readonly string[] = ["", "ai.onnx", "ai.onnx.ml"];

type Kind = "input" | "output";

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function describeSpec(spec: TensorSpec): string {
  return `${describeShape(spec.shape)} (${spec.dtype})`;
}

/** What the file declares, bounded: names, shapes and lists are the uploader's to make as long as they like. */
function describeFound(v: OnnxValueInfo): string {
  return v.rankKnown ? boundedShape(v.shape) : "(no shape)";
}

const FOUND_SHOWN = 8;

function found(v: OnnxValueInfo) {
  return { name: v.name.slice(0, 64), dtype: v.dtype.slice(0, 32), shape: v.rankKnown ? v.shape.slice(0, FOUND_SHOWN).map((d) => (typeof d === "string" ? d.slice(0, 16) : d)) : null };
}

function foundList(values: readonly OnnxValueInfo[]) {
  return values.slice(0, FOUND_SHOWN).map(found);
}

/** Compares one model input/output with its spec; null when it fits. */
function compareValue(kind: Kind, spec: TensorSpec, value: OnnxValueInfo): ModelCheckProblem | null {
  const mismatch = (message: string): ModelCheckProblem => ({
    code: "SIGNATURE_MISMATCH",
    message: participantMessage(message),
    expected: spec,
    found: found(value),
  });
  const label = `${kind} ${boundedName(value.name)}`;

  if (value.dtype !== spec.dtype) {
    return mismatch(`${label} has element type ${value.dtype}; the task expects ${spec.dtype} ${describeShape(spec.shape)}.`);
  }
  // A value without any declared shape cannot be checked here: the worker's run will tell.
  if (!value.rankKnown) return null;

  const shapeMessage = `${label} has shape ${describeFound(value)}; the task expects ${describeSpec(spec)}`;
  if (value.shape.length !== spec.shape.length) {
    return mismatch(`${shapeMessage}: ${plural(value.shape.length, "dimension")} instead of ${spec.shape.length}.`);
  }
  for (let i = 0; i < spec.shape.length; i++) {
    const want = spec.shape[i];
    const have = value.shape[i];
    if (want === FREE_DIM) {
      if (typeof have === "number") {
        const which = i === 0 ? "the batch dimension" : `dimension ${i}`;
        return mismatch(
          `${label} has a fixed size ${have} in ${which} (shape ${describeFound(value)}); the task expects ${describeSpec(spec)}: ` +
            `${which} must be dynamic (symbolic, such as "N"). With torch.onnx.export, pass dynamic_axes={${boundedName(value.name, '"input"')}: {${i}: "N"}}.`,
        );
      }
    } else if (typeof have === "number" && have !== want) {
      return mismatch(`${shapeMessage}: dimension ${i} is ${have}, not ${want}.`);
    }
    // A symbolic or unknown dim where the task fixes a size is accepted: it may well be that size.
  }
  return null;
}

function compareList(kind: Kind, specs: TensorSpec[], values: OnnxValueInfo[]): ModelCheckProblem | null {
  const kinds = `${kind}s`;
  if (values.length !== specs.length) {
    const expectedList = specs.map((s) => `"${s.name}" ${describeSpec(s)}`).join(", ");
    const shown = values.slice(0, 3).map((v) => `${boundedName(v.name)} ${describeFound(v)} (${v.dtype.slice(0, 16)})`).join(", ") + (values.length > 3 ? ", …" : "");
    return {
      code: "SIGNATURE_MISMATCH",
      message: participantMessage(
        `The model has ${plural(values.length, kind)}${values.length ? `: ${shown}` : ""}; ` +
          `the task expects ${plural(specs.length, kind)}: ${expectedList}.`,
      ),
      expected: specs,
      found: foundList(values),
    };
  }
  if (specs.length === 1) return compareValue(kind, specs[0], values[0]);

  // Several inputs/outputs: they are matched by name, so the names must be the task's.
  for (const spec of specs) {
    const value = values.find((v) => v.name === spec.name);
    if (!value) {
      return {
        code: "SIGNATURE_MISMATCH",
        message: participantMessage(
          `The task expects an ${kind} named "${spec.name}" ${describeSpec(spec)}; the model's ${kinds} are ` +
            `${values.slice(0, 4).map((v) => boundedName(v.name)).join(", ")}${values.length > 4 ? ", …" : ""}. With several ${kinds}, the names must be the task's.`,
        ),
        expected: specs,
        found: foundList(values),
      };
    }
    const problem = compareValue(kind, spec, value);
    if (problem) return problem;
  }
  return null;
}

/**
 * Checks an inspected model against a task's declared inputs and outputs. Returns the first
 * problem found, or null when the model fits.
 *
 * - No tensor may live in external data (the upload is the one file).
 * - Nodes may only use the domains "" / "ai.onnx" and "ai.onnx.ml".
 * - Same number of inputs and outputs as the task; with one of a kind its name is free, with
 *   several the names must match the task's.
 * - Element types must match, and ranks (when the model declares a shape).
 * - A free task dim (-1, the batch) needs a symbolic or unknown model dim: a fixed size is refused.
 *   A fixed task dim needs the same size, or a symbolic/unknown dim.
 */
export function checkModelForTask(info: OnnxModelInfo, task: TaskSignature): ModelCheckProblem | null {
  if (info.externalDataTensors.length > 0) {
    const names = info.externalDataTensors;
    const shown = names.slice(0, 3).map((n) => boundedName(n)).join(", ") + (names.length > 3 ? ", …" : "");
    return {
      code: "EXTERNAL_DATA",
      message: participantMessage(
        `The model keeps ${plural(names.length, "tensor")} in external-data files (${shown}); only the .onnx file is evaluated. ` +
          "Save the weights inside the file: onnx.save_model(model, path, save_as_external_data=False).",
      ),
      expected: { externalDataTensors: [] },
      found: { externalDataTensors: names.slice(0, FOUND_SHOWN).map((n) => n.slice(0, 64)) },
    };
  }

  const badDomains = info.operatorDomains.filter((d) => !ALLOWED_OPERATOR_DOMAINS.includes(d));
  if (badDomains.length > 0) {
    const listed = badDomains.map((d) => `"${d}"`).join(", ");
    return {
      code: "UNSUPPORTED_OPERATOR_DOMAIN",
      message:
        `The model uses operators from the domain${badDomains.length === 1 ? "" : "s"} ${listed}, which the evaluator does not run. ` +
        'Only standard ONNX operators (domain "" / "ai.onnx") and "ai.onnx.ml" are allowed; export without custom operators.',
      expected: { operatorDomains: ALLOWED_OPERATOR_DOMAINS },
      found: { operatorDomains: info.operatorDomains, unsupported: badDomains },
    };
  }

  return compareList("input", task.inputSpec, info.inputs) ?? compareList("output", task.outputSpec, info.outputs);
}
