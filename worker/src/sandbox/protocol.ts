import type { TensorSpec } from "@goat/contracts/tensor-spec";
import type { ExecutionProviderConfig } from "../onnx/execution-provider";

/**
 * Messages between the worker (parent) and one sandbox child process, sent over Node's IPC
 * channel with `serialization: "advanced"` (structured clone), so typed arrays cross as
 * typed arrays, copied once, without JSON.
 *
 * Life of a child: start -> `ready` -> (`prepare` -> `prepared`)? -> `evaluate` ->
 * `result` | `error` -> killed. One evaluation per process: a hostile model leaves nothing
 * behind for the next one.
 *
 * The child sees the model and the test INPUTS only. Labels never leave the parent, which
 * computes the metrics from the raw outputs the child returns.
 */

/** Where a task's test inputs are, and how the model is fed. */
export interface TaskInputs {
  datasetDir: string;
  inputSpecs: TensorSpec[];
}

export interface EvaluateRequest extends TaskInputs {
  modelPath: string;
  /** Outputs to fetch, in this order; all the model's outputs when absent. */
  outputNames?: string[];
  /** Rows per `session.run`. */
  batchSize: number;
  executionProvider: ExecutionProviderConfig;
}

export interface OutputTensor {
  name: string;
  /** [rows, ...] of the whole test set, batches concatenated in row order. */
  dims: number[];
  /** float32 outputs stay Float32Array; every other numeric type comes back as Float64Array. */
  data: Float32Array | Float64Array;
}

export interface SandboxResult {
  outputs: OutputTensor[];
  batchLatenciesMs: number[];
  /** `InferenceSession.create` for the participant's model. */
  sessionMs: number;
  /** All batches, feeds built and outputs copied included. */
  inferenceMs: number;
  provider: "cuda" | "cpu";
  device: string;
  onnxruntimeVersion: string;
  /** Something the operator should know (CUDA asked for but unavailable, ...). */
  warnings: string[];
  /** Whether the test inputs were read before the evaluation started (by `prepare`). */
  inputsPreloaded: boolean;
}

export interface SandboxErrorPayload {
  kind: "participant" | "platform";
  code: string;
  /** Participant errors: fit to show (first line, no paths). Platform errors: for the logs. */
  message: string;
}

export type ParentMessage =
  | { type: "prepare"; task: TaskInputs }
  | { type: "evaluate"; request: EvaluateRequest };

export type ChildMessage =
  | { type: "ready"; onnxruntimeVersion: string; warmupMs: number }
  | { type: "prepared"; datasetDir: string; ms: number }
  | { type: "prepare-failed"; datasetDir: string; message: string }
  | { type: "result"; result: SandboxResult }
  | { type: "error"; error: SandboxErrorPayload };
