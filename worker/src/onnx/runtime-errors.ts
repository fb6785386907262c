import { boundedName, participantMessage, roundedBytes } from "@goat/contracts/participant-message";

/**
 * onnxruntime's errors, turned into a sentence a participant can act on. The raw text goes to
 * the worker's log only: it names C++ internals and server paths, and at run time it may quote
 * tensor shapes and index values computed from the hidden test inputs (a Reshape to a shape read
 * from the inputs fails with "requested shape:{53,59}"). So nothing of it is copied, except what
 * the patterns below extract and bound: an operator name matching a safe pattern, opset and IR
 * version numbers (fixed in the file, not computed), a rounded allocation size.
 *
 * The patterns follow the messages onnxruntime-node 1.30 gives (tests/security/runtime-errors.test.ts
 * triggers each with a real model); an unknown message gets a generic sentence.
 */
export interface RuntimeErrorDescription {
  code: string;
  message: string;
}

/** Default-domain opsets onnxruntime calls legacy below this (model.cc: "opset 7 or above"). */
const OLDEST_SUPPORTED_OPSET = 7;

function versionNumber(text: string | undefined): number | undefined {
  const n = Number(text);
  return Number.isSafeInteger(n) && n >= 0 && n < 1e6 ? n : undefined;
}

/** The op type of the node named in "while running <Op> node": a bounded, quoted name or nothing. */
function failingOperator(raw: string): string {
  const op = /while running (\S+) node/.exec(raw)?.[1];
  return op && /^[A-Za-z][A-Za-z0-9_]{0,39}$/.test(op) ? boundedName(op) : "";
}

export function describeLoadError(raw: string): RuntimeErrorDescription {
  let m = /Opset (\d+) is under development[\s\S]*?domain (\S+) is till opset (\d+)/.exec(raw);
  if (m) {
    const asked = versionNumber(m[1]);
    const newest = versionNumber(m[3]);
    return {
      code: "UNSUPPORTED_OPSET",
      message: participantMessage(
        `The model is stamped with opset ${asked ?? "?"} of the standard ONNX domain; the evaluator's onnxruntime runs opsets ` +
          `${OLDEST_SUPPORTED_OPSET} to ${newest ?? "?"}. Export again with opset_version=${newest ?? 17} or lower.`,
      ),
    };
  }
  m = /Unsupported model IR version: (\d+), max supported IR version: (\d+)/.exec(raw);
  if (m) {
    return {
      code: "UNSUPPORTED_IR_VERSION",
      message: participantMessage(
        `The model has IR version ${versionNumber(m[1]) ?? "?"}; the evaluator's onnxruntime reads IR versions up to ${versionNumber(m[2]) ?? "?"}. ` +
          "Export with an older onnx package, or set model.ir_version to a supported version.",
      ),
    };
  }
  m = /No Op registered for (\S+) with domain_version of (\d+)/.exec(raw);
  if (m) {
    const op = /^[A-Za-z][A-Za-z0-9_]{0,39}$/.test(m[1]) ? boundedName(m[1]) : "an operator";
    return {
      code: "UNKNOWN_OPERATOR",
      message: participantMessage(
        `The model uses ${op}, which onnxruntime does not implement at opset ${versionNumber(m[2]) ?? "?"}. ` +
          "Replace it with standard ONNX operators, or export with an opset where it exists.",
      ),
    };
  }
  m = /Type Error: [\s\S]*?(?:Optype|operator) \((\w+)\)/.exec(raw);
  if (m) {
    const op = /^[A-Za-z][A-Za-z0-9_]{0,39}$/.test(m[1]) ? boundedName(m[1]) : "an operator";
    return {
      code: "TYPE_MISMATCH",
      message: participantMessage(
        `The model feeds ${op} inputs of element types it does not accept together (for example float32 with int64). ` +
          "Cast the inputs to one type before that operator and export again.",
      ),
    };
  }
  if (/Protobuf parsing failed/.test(raw)) {
    return { code: "NOT_ONNX", message: participantMessage("onnxruntime could not parse the file as an ONNX model. Export it again and upload the .onnx file.") };
  }
  if (/ShapeInferenceError|shape inference|Shape mismatch/i.test(raw)) {
    return {
      code: "INVALID_MODEL",
      message: participantMessage("The model fails onnxruntime's shape checks when it loads: two connected values disagree on their shape. Run onnx.checker.check_model(model, full_check=True) to find where."),
    };
  }
  return {
    code: "MODEL_LOAD_FAILED",
    message: participantMessage(
      "onnxruntime could not load the model. Check it with onnx.checker.check_model(model, full_check=True) and onnxruntime on your machine; the organisers can see the runtime's own error in the worker log.",
    ),
  };
}

export function describeRunError(raw: string): RuntimeErrorDescription {
  const op = failingOperator(raw);
  const where = op ? `the ${op} node` : "a node";
  const size = /Failed to allocate memory for requested buffer of size (\d+)/.exec(raw);
  if (size) {
    return {
      code: "MEMORY_LIMIT",
      message: participantMessage(
        `While running ${where}, the model asked for ${roundedBytes(Number(size[1]))} of memory in one allocation, more than the evaluation can give. Reduce the size of that tensor.`,
      ),
    };
  }
  let what = "onnxruntime stopped with an error";
  if (/cannot be reshaped to the requested shape/.test(raw)) what = "the shape it was asked to reshape to does not fit its input";
  else if (/out of (?:data )?bounds|out of range|must be within the inclusive range/i.test(raw)) what = "an index is out of range";
  else if (/Got invalid dimensions for input|Invalid rank for input/.test(raw)) what = "the task's input does not fit the shape the model declares";
  else if (/Incompatible dimensions|not broadcastable|broadcast/i.test(raw)) what = "two tensors have shapes that cannot be combined";
  return {
    code: "MODEL_RUN_FAILED",
    message: participantMessage(`The model failed while running ${where}: ${what}. The organisers can see the runtime's own error in the worker log.`),
  };
}
