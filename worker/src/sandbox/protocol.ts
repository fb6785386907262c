import type { NdArray } from "@goat/contracts/dataset/npy";
import type { TensorSpec } from "@goat/contracts/tensor-spec";
import type { ExecutionProviderConfig } from "../onnx/execution-provider";

/**
 * Messages between the worker (parent) and one sandbox child process, sent over Node's IPC
 * channel with `serialization: "advanced"` (structured clone), so typed arrays cross as
 * typed arrays, copied once, without JSON.
 *
 * Life of a child: start -> `ready` -> `prepare` -> `prepared` (-> `settled`, once a spare that
 * waited has done its idle work) -> `evaluate` -> `batch`
 * (the rows of one batch, or of a few consecutive small ones: output-sender.ts; in row order) ...
 * -> `result` | `error` -> killed. The outputs go out as onnxruntime returns them, so their copy
 * through the channel overlaps the next batches' inference and the child never holds the whole
 * test set's outputs (output-assembly.ts puts them together in the parent). A spare may get a second `prepare` (another task or dataset
 * version) before its `evaluate`; the files it held open are closed. After `prepared` the child's
 * resident memory is its baseline (runtime + two batches' read buffers per input, + the whole test
 * set once the spare has read it while waiting: input-batches.ts): the memory limit
 * and the peak memory count what the model adds to it. One evaluation per process: a hostile model leaves nothing
 * behind for the next one.
 *
 * The child sees its own model (a copy in a private directory) and the test INPUTS, which the
 * parent reads, verifies and writes once per dataset version as `.npy` files in a private
 * directory (staging.ts); `prepare` gives their paths, and the child reads them batch by batch
 * (input-batches.ts). The child opens no dataset file, and the
 * dataset folder (with the labels) is hidden from it where the host allows (isolation.ts). Labels
 * never leave the parent, which computes the metrics from the raw outputs the child returns.
 */

/**
 * The child's one argument: the kernel kills it when its parent dies (isolation.ts), so it starts no
 * watchdog thread (which costs each child ~90 ms of CPU to start).
 */
export const DIES_WITH_PARENT = "--dies-with-parent";

/**
 * The child's argument naming the warm-up model's file (onnx/warmup-model.ts, written once per pool
 * under its private root): the child runs its evaluation code on it before it says it is ready.
 */
export const WARM_UP_MODEL_ARG = "--warm-up-model=";
/** The child's argument naming the warm-up's test inputs (a `.npy` file written with the model). */
export const WARM_UP_INPUTS_ARG = "--warm-up-inputs=";

/** Where a task's test inputs come from, and how the model is fed. */
export interface TaskInputs {
  /**
   * The worker's verified dataset version (task-datasets.ts): the inputs are keyed by the version,
   * so a child holding another version's inputs never evaluates with them.
   */
  dataset?: { version: string; loadInputs(): Promise<Record<string, NdArray>> };
  /** Without `dataset`: a folder read as it is (the sandbox's own tests and benchmarks). */
  datasetDir?: string;
  inputSpecs: TensorSpec[];
  /**
   * Rows per `session.run`, where known ahead: a spare sets aside its read buffers for batches of
   * this size and reads the first one while it waits (input-batches.ts).
   */
  batchSize?: number;
}

export interface EvaluateRequest extends TaskInputs {
  /** The stored model; the child gets a private copy of it, never this path. */
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

/** One message's outputs (one batch's, or consecutive batches' joined): rows `start` .. `start + dims[0] - 1` of each output, in the order asked for. */
export interface OutputBatch {
  start: number;
  outputs: OutputTensor[];
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
  /** Whether the test inputs were opened (and their first batch read) before the evaluation started (by `prepare`). */
  inputsPreloaded: boolean;
  /**
   * The child's own high-water mark of resident memory (getrusage maxRSS), in bytes, when the
   * evaluation started and when it ended: a peak between two of the parent's samples shows here.
   */
  maxRssBytes: { atStart: number; atEnd: number };
}

/** What the child is told: no server path but its private model copy. */
export interface ChildEvaluateRequest extends Omit<EvaluateRequest, "datasetDir" | "dataset" | "modelPath"> {
  modelPath: string;
  /** Which prepared inputs to use (an opaque key from the parent). */
  inputsKey: string;
}

export interface SandboxErrorPayload {
  kind: "participant" | "platform";
  code: string;
  /** Participant errors: a bounded template (contracts/src/participant-message.ts). Platform errors: for the logs. */
  message: string;
  /** Participant errors: the raw cause (onnxruntime's text) for the worker log; never shown. */
  logDetail?: string;
}

export type ParentMessage =
  /** `batchRows`: the batch size the evaluation will most likely use (the spare reads its first batch). */
  | { type: "prepare"; inputsKey: string; files: { name: string; path: string }[]; batchRows?: number }
  | { type: "evaluate"; request: ChildEvaluateRequest };

/**
 * What the child reports at the end of an evaluation: the outputs came as batches; `rows` is the
 * test set's and `outputNames` the outputs', so that the parent can check it got them all.
 */
export interface ChildResult extends Omit<SandboxResult, "outputs"> {
  rows: number;
  outputNames: string[];
}

export type ChildMessage =
  /** `backends`: the execution providers onnxruntime can run on this host (detectAvailableBackends); absent from test children. */
  | { type: "ready"; onnxruntimeVersion: string; warmupMs: number; backends?: string[] }
  /** `failure`: the files could not be read (the child holds no inputs for this key). */
  | { type: "prepared"; inputsKey: string; failure?: string }
  /** A spare that waited is done with its idle work for these inputs (the test set read whole, the allocator primed): it uses no more CPU until its evaluation. */
  | { type: "settled"; inputsKey: string }
  | ({ type: "batch" } & OutputBatch)
  | { type: "result"; result: ChildResult }
  | { type: "error"; error: SandboxErrorPayload };
