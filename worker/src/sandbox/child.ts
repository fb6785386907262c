/**
 * The sandbox child process: runs ONE evaluation, then is killed by its parent.
 * Started by `SandboxPool` with `fork()` (IPC, advanced serialization); see protocol.ts.
 *
 * Warm start: onnxruntime is loaded and a throwaway session is created and run before
 * `ready` is announced, and `prepare` reads the task's test inputs ahead, so the
 * evaluation itself pays only for the participant's session and inference.
 */
import { stat } from "node:fs/promises";
import { Worker } from "node:worker_threads";
import * as ort from "onnxruntime-node";
import type { NdArray } from "@goat/contracts/dataset/npy";
import { loadDatasetInputs } from "@goat/contracts/dataset/task-dataset";
import { ParticipantFault, PlatformFault, participantSafeMessage } from "../faults";
import {
  chooseExecutionProvider,
  cpuFallback,
  detectAvailableBackends,
  type ExecutionProviderChoice,
} from "../onnx/execution-provider";
import { buildWarmupModel, WARMUP_FEATURES, WARMUP_INPUT } from "../onnx/warmup-model";
import type { ChildMessage, EvaluateRequest, OutputTensor, ParentMessage, SandboxResult, TaskInputs } from "./protocol";

if (typeof process.send !== "function") {
  console.error("sandbox child: must be started with fork() (no IPC channel)");
  process.exit(2);
}

function send(message: ChildMessage): void {
  process.send?.(message);
}

// --- never outlive the parent -------------------------------------------------------------
// A closed IPC channel means the parent is gone (or gave up on us): leave at once.
process.on("disconnect", () => process.exit(0));
// But a model inside a synchronous `session.run` blocks this event loop for as long as it
// likes, so 'disconnect' would never be handled. A watchdog thread, which runs whatever the
// main thread does, kills the process when the parent dies (we are re-parented).
const watchdog = new Worker(
  `const { workerData } = require("node:worker_threads");
   setInterval(() => { if (process.ppid !== workerData.ppid) process.kill(process.pid, "SIGKILL"); }, 200);`,
  { eval: true, workerData: { ppid: process.ppid }, resourceLimits: { maxOldGenerationSizeMb: 16 } },
);
watchdog.unref();

// --- test inputs ---------------------------------------------------------------------------
interface LoadedInputs {
  key: string;
  inputs: Promise<Record<string, NdArray>>;
}
let loaded: LoadedInputs | undefined;

function inputsKey(task: TaskInputs): string {
  return JSON.stringify([task.datasetDir, task.inputSpecs]);
}

function loadInputs(task: TaskInputs): LoadedInputs {
  const key = inputsKey(task);
  if (loaded?.key !== key) {
    const inputs = loadDatasetInputs(task.datasetDir, task.inputSpecs);
    inputs.catch(() => undefined); // reported when used
    loaded = { key, inputs };
  }
  return loaded;
}

// --- evaluation ----------------------------------------------------------------------------
function modelLoadFault(e: unknown, redact: string[]): ParticipantFault {
  const first = participantSafeMessage(e instanceof Error ? e.message : String(e), redact);
  return new ParticipantFault("MODEL_LOAD_FAILED", `onnxruntime could not load the model: ${first}`, { cause: e });
}

async function createSession(
  request: EvaluateRequest,
  warnings: string[],
): Promise<{ session: ort.InferenceSession; choice: ExecutionProviderChoice }> {
  const available = detectAvailableBackends(ort.listSupportedBackends());
  let choice = chooseExecutionProvider(request.executionProvider, available);
  if (choice.warning) warnings.push(choice.warning);
  const redact = [request.modelPath, request.datasetDir];
  try {
    return { session: await ort.InferenceSession.create(request.modelPath, choice.sessionOptions), choice };
  } catch (e) {
    if (choice.provider !== "cuda") throw modelLoadFault(e, redact);
    // The CUDA EP is listed and its library present, but the session failed: either the
    // model is bad or CUDA is (driver, cuDNN, out of GPU memory). The CPU tells which.
    choice = cpuFallback(request.executionProvider, participantSafeMessage(String((e as Error).message ?? e), redact));
    warnings.push(choice.warning!);
    try {
      return { session: await ort.InferenceSession.create(request.modelPath, choice.sessionOptions), choice };
    } catch (e2) {
      throw modelLoadFault(e2, redact);
    }
  }
}

/** Grows one output's buffer batch by batch, in row order. */
class OutputAccumulator {
  private data: Float32Array | Float64Array | undefined;
  private rowDims: number[] | undefined;
  private rowWidth = 0;

  constructor(
    readonly name: string,
    private readonly totalRows: number,
  ) {}

  add(tensor: ort.Tensor, startRow: number, batchRows: number): void {
    const dims = tensor.dims;
    if (dims.length === 0 || dims[0] !== batchRows) {
      const got = dims.length === 0 ? "a scalar" : `${dims[0]} rows`;
      throw new ParticipantFault(
        "WRONG_OUTPUT_ROWS",
        `The model returned ${got} in output "${this.name}" for a batch of ${batchRows} rows`,
      );
    }
    const rowDims = dims.slice(1);
    if (this.rowDims === undefined) {
      this.rowDims = rowDims;
      this.rowWidth = rowDims.reduce((a, b) => a * b, 1);
      this.data = tensor.type === "float32" ? new Float32Array(this.totalRows * this.rowWidth) : new Float64Array(this.totalRows * this.rowWidth);
    } else if (rowDims.length !== this.rowDims.length || rowDims.some((d, i) => d !== this.rowDims![i])) {
      throw new ParticipantFault(
        "WRONG_OUTPUT",
        `The model's output "${this.name}" changed shape between batches ([N, ${this.rowDims.join(", ")}] then [N, ${rowDims.join(", ")}])`,
      );
    }
    copyInto(this.data!, startRow * this.rowWidth, tensor, this.name);
  }

  finish(): OutputTensor {
    return {
      name: this.name,
      dims: [this.totalRows, ...(this.rowDims ?? [])],
      data: this.data ?? new Float32Array(0),
    };
  }
}

function copyInto(target: Float32Array | Float64Array, offset: number, tensor: ort.Tensor, name: string): void {
  const src = tensor.data;
  if (target instanceof Float32Array && src instanceof Float32Array) {
    target.set(src, offset);
    return;
  }
  if (tensor.type === "string" || typeof src[0] === "string") {
    throw new ParticipantFault("WRONG_OUTPUT", `The model's output "${name}" holds strings; a numeric tensor is expected`);
  }
  if (tensor.type === "float16" && src instanceof Uint16Array) {
    for (let i = 0; i < src.length; i++) target[offset + i] = halfToFloat(src[i]);
    return;
  }
  if (src instanceof BigInt64Array || src instanceof BigUint64Array) {
    for (let i = 0; i < src.length; i++) target[offset + i] = Number(src[i]);
    return;
  }
  (target as Float64Array).set(src as ArrayLike<number>, offset);
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

async function evaluate(request: EvaluateRequest): Promise<SandboxResult> {
  const warnings: string[] = [];
  const preloaded = loaded?.key === inputsKey(request);
  let inputs: Record<string, NdArray>;
  try {
    inputs = await loadInputs(request).inputs;
  } catch (e) {
    throw new PlatformFault("DATASET_UNAVAILABLE", `cannot read test inputs from ${request.datasetDir}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  try {
    await stat(request.modelPath);
  } catch (e) {
    throw new PlatformFault("MODEL_UNAVAILABLE", `cannot read model file ${request.modelPath}: ${(e as Error).message}`, { cause: e });
  }

  const specs = request.inputSpecs;
  const rows = inputs[specs[0].name]?.shape[0];
  for (const spec of specs) {
    const arr = inputs[spec.name];
    if (!arr || arr.shape.length === 0 || arr.shape[0] !== rows) {
      throw new PlatformFault("DATASET_UNAVAILABLE", `test input "${spec.name}" is missing or its row count differs from the others`);
    }
  }

  const sessionStart = performance.now();
  const { session, choice } = await createSession(request, warnings);
  const sessionMs = performance.now() - sessionStart;

  for (const name of session.inputNames) {
    if (!specs.some((s) => s.name === name)) {
      throw new ParticipantFault(
        "WRONG_INPUT",
        `The model expects an input named "${name}"; the task provides ${specs.map((s) => `"${s.name}"`).join(", ")}`,
      );
    }
  }
  const outputNames = request.outputNames?.length ? request.outputNames : [...session.outputNames];
  for (const name of outputNames) {
    if (!session.outputNames.includes(name)) {
      throw new ParticipantFault("WRONG_OUTPUT", `The model has no output named "${name}"`);
    }
  }

  const feedSpecs = specs
    .filter((s) => session.inputNames.includes(s.name))
    .map((s) => {
      const arr = inputs[s.name];
      return { name: s.name, arr, rowWidth: arr.shape.slice(1).reduce((a, b) => a * b, 1) };
    });
  const accumulators = outputNames.map((name) => new OutputAccumulator(name, rows));
  const batchSize = Math.max(1, Math.floor(request.batchSize));
  const batchLatenciesMs: number[] = [];
  const redact = [request.modelPath, request.datasetDir];

  const inferenceStart = performance.now();
  for (let start = 0; start < rows; start += batchSize) {
    const n = Math.min(batchSize, rows - start);
    const feeds: Record<string, ort.Tensor> = {};
    for (const { name, arr, rowWidth } of feedSpecs) {
      // subarray: a view, no copy; onnxruntime reads it in place.
      const data = arr.data.subarray(start * rowWidth, (start + n) * rowWidth);
      feeds[name] = new ort.Tensor(arr.dtype, data as Float32Array, [n, ...arr.shape.slice(1)]);
    }
    const t = performance.now();
    let out: ort.InferenceSession.ReturnType;
    try {
      out = await session.run(feeds, outputNames);
    } catch (e) {
      const first = participantSafeMessage(e instanceof Error ? e.message : String(e), redact);
      throw new ParticipantFault("MODEL_RUN_FAILED", `onnxruntime failed to run the model: ${first}`, { cause: e });
    }
    batchLatenciesMs.push(performance.now() - t);
    for (const acc of accumulators) acc.add(out[acc.name], start, n);
    for (const tensor of Object.values(out)) tensor.dispose();
  }
  const inferenceMs = performance.now() - inferenceStart;

  return {
    outputs: accumulators.map((a) => a.finish()),
    batchLatenciesMs,
    sessionMs,
    inferenceMs,
    provider: choice.provider,
    device: choice.device,
    onnxruntimeVersion: ort.env.versions.node ?? "unknown",
    warnings,
    inputsPreloaded: preloaded,
  };
}

// --- message loop ----------------------------------------------------------------------------
let evaluating = false;

process.on("message", (raw: ParentMessage) => {
  if (raw.type === "prepare") {
    const started = performance.now();
    const { datasetDir } = raw.task;
    loadInputs(raw.task).inputs.then(
      () => send({ type: "prepared", datasetDir, ms: performance.now() - started }),
      (e: Error) => send({ type: "prepare-failed", datasetDir, message: e.message }),
    );
    return;
  }
  if (raw.type === "evaluate") {
    if (evaluating) return; // one evaluation per process; the parent never sends two
    evaluating = true;
    evaluate(raw.request).then(
      (result) => send({ type: "result", result }),
      (e: unknown) => {
        if (e instanceof ParticipantFault) {
          send({ type: "error", error: { kind: "participant", code: e.code, message: e.displayMessage } });
        } else if (e instanceof PlatformFault) {
          send({ type: "error", error: { kind: "platform", code: e.code, message: e.message } });
        } else {
          const message = e instanceof Error ? (e.stack ?? e.message) : String(e);
          send({ type: "error", error: { kind: "platform", code: "SANDBOX_INTERNAL", message } });
        }
      },
    );
  }
});

// --- warm-up ---------------------------------------------------------------------------------
async function warmUp(): Promise<number> {
  const started = performance.now();
  ort.env.logLevel = "error"; // ORT's warnings go to stderr; the parent keeps only a tail
  const session = await ort.InferenceSession.create(buildWarmupModel(), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
    executionProviders: ["cpu"],
  });
  const x = new Float32Array(2 * WARMUP_FEATURES).fill(0.5);
  await session.run({ [WARMUP_INPUT]: new ort.Tensor("float32", x, [2, WARMUP_FEATURES]) });
  await session.release();
  return performance.now() - started;
}

warmUp().then(
  (warmupMs) => send({ type: "ready", onnxruntimeVersion: ort.env.versions.node ?? "unknown", warmupMs }),
  (e: Error) => {
    console.error(`sandbox child: warm-up failed: ${e.stack ?? e.message}`);
    process.exit(3);
  },
);
