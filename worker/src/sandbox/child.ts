/**
 * The sandbox child process: runs ONE evaluation, then is killed by its parent.
 * Started by `SandboxPool` (IPC, advanced serialization; isolation.ts says as whom and with
 * what hidden); see protocol.ts.
 *
 * Warm start: onnxruntime is loaded and the evaluation's own code runs on a built-in model before
 * `ready` is announced, and `prepare` names the task's test inputs ahead (files it reads), so the
 * evaluation itself pays only for the participant's session and inference.
 *
 * Every participant message is a template (contracts/src/participant-message.ts): shapes and
 * onnxruntime errors depend on the hidden inputs, so they are summarised, never quoted.
 */
import { Worker } from "node:worker_threads";
import * as ort from "onnxruntime-node";
import { readFileSync } from "node:fs";
import { parseNpy, type NdArray } from "@goat/contracts/dataset/npy";
import { boundedName } from "@goat/contracts/participant-message";
import { ParticipantFault, PlatformFault } from "../faults";
import {
  chooseExecutionProvider,
  cpuFallback,
  detectAvailableBackends,
  type ExecutionProviderChoice,
} from "../onnx/execution-provider";
import { describeLoadError, describeRunError } from "../onnx/runtime-errors";
import { WARMUP_FEATURES, WARMUP_INPUT } from "../onnx/warmup-model";
import { OutputSender } from "./output-sender";
import {
  DIES_WITH_PARENT,
  WARM_UP_MODEL_ARG,
  type ChildEvaluateRequest,
  type ChildMessage,
  type ChildResult,
  type OutputTensor,
  type ParentMessage,
} from "./protocol";

if (typeof process.send !== "function") {
  console.error("sandbox child: must be started by SandboxPool (no IPC channel)");
  process.exit(2);
}

function send(message: ChildMessage): void {
  process.send?.(message);
}

// --- never outlive the parent -------------------------------------------------------------
// A closed IPC channel means the parent is gone (or gave up on us): leave at once.
process.on("disconnect", () => process.exit(0));
// But a model inside a synchronous `session.run` blocks this event loop for as long as it
// likes, so 'disconnect' would never be handled. Where setpriv set a parent-death signal, the
// kernel kills us with the parent (DIES_WITH_PARENT). Elsewhere a watchdog thread, which runs
// whatever the main thread does, kills the process when the parent dies (we are re-parented).
if (!process.argv.includes(DIES_WITH_PARENT)) {
  const watchdog = new Worker(
    `const { workerData } = require("node:worker_threads");
     setInterval(() => { if (process.ppid !== workerData.ppid) process.kill(process.pid, "SIGKILL"); }, 200);`,
    { eval: true, workerData: { ppid: process.ppid }, resourceLimits: { maxOldGenerationSizeMb: 16 } },
  );
  watchdog.unref();
}

// --- test inputs ---------------------------------------------------------------------------
// Staged by the parent as .npy files (`prepare` names them): the child opens no dataset file.
let prepared: { key: string; inputs: Record<string, NdArray> } | undefined;

/**
 * Each file read whole (from the page cache) and viewed in place: the arrays share its buffer. Each
 * 4 KB page of it is then read once from here, while this process is a spare: on the CI machine
 * (a VM) the first access to each page of a freshly read buffer costs ~6.5 us even after read()
 * filled it, so onnxruntime paid ~50 ms per 31 MB of inputs inside the evaluation (a linear
 * 784-10 model's inference over 10,000 rows took 73 ms instead of 7; `npm run bench`, (a)).
 */
function readInputs(files: { name: string; path: string }[]): Record<string, NdArray> {
  const inputs: Record<string, NdArray> = {};
  for (const { name, path } of files) {
    const bytes = readFileSync(path);
    touchEveryPage(bytes);
    inputs[name] = parseNpy(bytes);
  }
  return inputs;
}

const PAGE_BYTES = 4096;
function touchEveryPage(bytes: Uint8Array): void {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += PAGE_BYTES) sum += bytes[i];
  if (sum < 0) throw new Error("unreachable"); // keeps the reads from being optimised away
}

const gc = () => (globalThis as { gc?: () => void }).gc?.();

/**
 * Primes glibc's allocator for the participant's session: freeing one large (mmapped) block raises
 * malloc's mmap and trim thresholds, so the 30 MB of small blocks freed after it stay in the heap,
 * already faulted in, for onnxruntime's allocations. Without it, creating the session of a
 * 784-512-512-10 MLP took ~8-10 ms instead of ~3.5 ms (page faults); receiving the inputs through
 * the IPC channel used to do the same by accident. The heap it leaves is part of the baseline.
 *
 * It costs ~25-30 ms of CPU, which a tiny model's session never needed: a spare primes only once it
 * has waited PRIME_AFTER_IDLE_MS for its evaluation (a quiet worker: every spare), in slices that
 * stop when the evaluation comes. Back-to-back jobs take their spares sooner and skip it, so a
 * burst's CPU goes to the evaluations (`npm run bench`, (b)); their sessions pay their own faults.
 * Again after another dataset version's inputs come (reading them may take the primed heap).
 */
const PRIME_AFTER_IDLE_MS = 100;
const PRIME_BLOCKS = 480;
const PRIME_BLOCKS_PER_SLICE = 60;
let primeTimer: NodeJS.Timeout | undefined;
let priming = false;

/** Schedules the priming PRIME_AFTER_IDLE_MS from now (again, when inputs come again). */
function primeWhenIdle(): void {
  clearTimeout(primeTimer);
  primeTimer = setTimeout(() => void primeAllocator(() => evaluating), PRIME_AFTER_IDLE_MS);
}

/** Primes slice by slice, one priming at a time; stops (the blocks left as garbage, for the evaluation's first collection) once `stop()` says so. */
async function primeAllocator(stop: () => boolean): Promise<void> {
  if (stop() || priming) return;
  priming = true;
  try {
    let blocks: Buffer[] | undefined = [Buffer.allocUnsafeSlow(40 << 20)];
    blocks = undefined;
    gc();
    blocks = [];
    for (let i = 0; i < PRIME_BLOCKS; i++) {
      if (i % PRIME_BLOCKS_PER_SLICE === 0) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (stop()) return;
      }
      blocks.push(Buffer.allocUnsafeSlow(64 << 10).fill(0));
    }
    blocks = undefined;
    gc(); // the blocks go back to the heap, faulted in, for the session
  } finally {
    priming = false;
  }
}

// --- evaluation ----------------------------------------------------------------------------
function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function modelLoadFault(e: unknown): ParticipantFault {
  const { code, message } = describeLoadError(errorText(e));
  return new ParticipantFault(code, message, { cause: e, logDetail: errorText(e) });
}

async function createSession(
  request: ChildEvaluateRequest,
  warnings: string[],
): Promise<{ session: ort.InferenceSession; choice: ExecutionProviderChoice }> {
  const available = detectAvailableBackends(ort.listSupportedBackends());
  let choice = chooseExecutionProvider(request.executionProvider, available);
  if (choice.warning) warnings.push(choice.warning);
  try {
    return { session: await ort.InferenceSession.create(request.modelPath, choice.sessionOptions), choice };
  } catch (e) {
    if (choice.provider !== "cuda") throw modelLoadFault(e);
    // The CUDA EP is listed and its library present, but the session failed: either the
    // model is bad or CUDA is (driver, cuDNN, out of GPU memory). The CPU tells which.
    // The warning is for the operator's log, so onnxruntime's own first line is kept.
    choice = cpuFallback(request.executionProvider, errorText(e).split("\n")[0].slice(0, 400));
    warnings.push(choice.warning!);
    try {
      return { session: await ort.InferenceSession.create(request.modelPath, choice.sessionOptions), choice };
    } catch (e2) {
      throw modelLoadFault(e2);
    }
  }
}

/**
 * One output, batch by batch: checks that each batch has one row per input row and rows of the
 * first batch's shape, and gives its values as float32 (float32 outputs) or float64 (every other
 * numeric type) to send to the parent.
 */
class BatchedOutput {
  private rowDims: number[] | undefined;

  constructor(readonly name: string) {}

  take(tensor: ort.Tensor, batchRows: number): OutputTensor {
    const dims = tensor.dims;
    // The sizes the model returned are computed from the hidden inputs: never quoted.
    if (dims.length === 0 || dims[0] !== batchRows) {
      const got = dims.length === 0 ? "a scalar" : "a different number of rows";
      throw new ParticipantFault(
        "WRONG_OUTPUT_ROWS",
        `The model returned ${got} in output ${boundedName(this.name)} for a batch of ${batchRows} rows; it must return one row per input row.`,
      );
    }
    const rowDims = dims.slice(1);
    if (this.rowDims === undefined) this.rowDims = rowDims;
    else if (rowDims.length !== this.rowDims.length || rowDims.some((d, i) => d !== this.rowDims![i])) {
      throw new ParticipantFault(
        "WRONG_OUTPUT",
        `The model's output ${boundedName(this.name)} changed shape between batches; every batch must return rows of one fixed shape.`,
      );
    }
    return { name: this.name, dims: [batchRows, ...rowDims], data: numericValues(tensor, this.name) };
  }
}

/** The tensor's values as a float32 array of their own (float32 tensors) or float64 (other numeric types). */
function numericValues(tensor: ort.Tensor, name: string): Float32Array | Float64Array {
  const src = tensor.data;
  if (src instanceof Float32Array) {
    // A view of a larger buffer would send the whole buffer: only its own bytes go.
    return src.byteOffset === 0 && src.byteLength === src.buffer.byteLength ? src : src.slice();
  }
  if (tensor.type === "string" || typeof src[0] === "string") {
    throw new ParticipantFault("WRONG_OUTPUT", `The model's output ${boundedName(name)} holds strings; a numeric tensor is expected.`);
  }
  const target = new Float64Array(src.length);
  if (tensor.type === "float16" && src instanceof Uint16Array) {
    for (let i = 0; i < src.length; i++) target[i] = halfToFloat(src[i]);
  } else if (src instanceof BigInt64Array || src instanceof BigUint64Array) {
    for (let i = 0; i < src.length; i++) target[i] = Number(src[i]);
  } else target.set(src as ArrayLike<number>);
  return target;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** getrusage's maxRSS (kB on Linux) in bytes: the most this process has ever held resident. */
function maxRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

async function evaluate(request: ChildEvaluateRequest): Promise<ChildResult> {
  const maxRssAtStart = maxRssBytes();
  if (prepared?.key !== request.inputsKey) {
    throw new PlatformFault("SANDBOX_PROTOCOL", "evaluate arrived before the test inputs were prepared");
  }
  const sender = new OutputSender((batch) => send({ type: "batch", ...batch }));
  const { result } = await runModel(request, prepared.inputs, sender);
  sender.flush(); // the last rows go before the result
  return { ...result, maxRssBytes: { atStart: maxRssAtStart, atEnd: maxRssBytes() } };
}

/**
 * The evaluation's work: the model file checked, its session, every batch run and its outputs
 * checked and handed to `sender` (output-sender.ts: sent to the parent alone or with the next
 * batches' rows, so the tensors can go and the copy runs while the next batches do). The warm-up
 * runs this same code on a built-in model, so an evaluation runs code that is compiled already.
 */
async function runModel(
  request: ChildEvaluateRequest,
  inputs: Record<string, NdArray>,
  sender: OutputSender,
): Promise<{ result: Omit<ChildResult, "maxRssBytes">; session: ort.InferenceSession }> {
  const warnings: string[] = [];
  // The model was checked for external data when it was staged (staging.ts, refuseExternalData).

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
        `The model expects an input named ${boundedName(name)}; the task provides ${specs.slice(0, 4).map((s) => boundedName(s.name)).join(", ")}.`,
      );
    }
  }
  const outputNames = request.outputNames?.length ? request.outputNames : [...session.outputNames];
  for (const name of outputNames) {
    if (!session.outputNames.includes(name)) {
      throw new ParticipantFault("WRONG_OUTPUT", `The model has no output named ${boundedName(name)}.`);
    }
  }

  const feedSpecs = specs
    .filter((s) => session.inputNames.includes(s.name))
    .map((s) => {
      const arr = inputs[s.name];
      return { name: s.name, arr, rowWidth: arr.shape.slice(1).reduce((a, b) => a * b, 1) };
    });
  const batchedOutputs = outputNames.map((name) => new BatchedOutput(name));
  const batchSize = Math.max(1, Math.floor(request.batchSize));
  const batchLatenciesMs: number[] = [];

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
      const { code, message } = describeRunError(errorText(e));
      throw new ParticipantFault(code, message, { cause: e, logDetail: errorText(e) });
    }
    batchLatenciesMs.push(performance.now() - t);
    sender.add({ start, outputs: batchedOutputs.map((output) => output.take(out[output.name], n)) }, t);
    for (const tensor of Object.values(out)) tensor.dispose();
  }
  const inferenceMs = performance.now() - inferenceStart;

  const result = {
    rows,
    outputNames,
    batchLatenciesMs,
    sessionMs,
    inferenceMs,
    provider: choice.provider,
    device: choice.device,
    onnxruntimeVersion: ort.env.versions.node ?? "unknown",
    warnings,
    inputsPreloaded: true, // the parent reports whether a spare had them before the evaluation
  };
  return { result, session };
}

// --- message loop ----------------------------------------------------------------------------
let evaluating = false;

process.on("message", (raw: ParentMessage) => {
  if (raw.type === "prepare") {
    prepared = undefined;
    let failure: string | undefined;
    try {
      prepared = { key: raw.inputsKey, inputs: readInputs(raw.files) };
    } catch (e) {
      failure = errorText(e).slice(0, 500);
    }
    // Frees any inputs held before, so the resident memory the parent reads next is the baseline
    // (runtime + these inputs; + the primed heap once primed). The pool starts us with --expose-gc.
    gc();
    send({ type: "prepared", inputsKey: raw.inputsKey, failure });
    primeWhenIdle();
    return;
  }
  if (raw.type === "evaluate") {
    if (evaluating) return; // one evaluation per process; the parent never sends two
    evaluating = true;
    evaluate(raw.request).then(
      (result) => send({ type: "result", result }),
      (e: unknown) => {
        if (e instanceof ParticipantFault) {
          send({ type: "error", error: { kind: "participant", code: e.code, message: e.displayMessage, logDetail: e.logDetail } });
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
/**
 * The first session in a process costs ~36 ms (environment, thread pools, kernel registries), and
 * the first run of each function of this file compiles it: both are paid here, while the child
 * waits as a spare. The evaluation's own code (runModel: the external-data check, the session from
 * a file, two batches and their outputs) runs on the built-in warm-up model, which the pool writes
 * once for its children (WARM_UP_MODEL_ARG).
 */
async function warmUp(): Promise<number> {
  const started = performance.now();
  ort.env.logLevel = "error"; // ORT's warnings go to stderr; the parent keeps only a tail
  const modelPath = process.argv.find((arg) => arg.startsWith(WARM_UP_MODEL_ARG))?.slice(WARM_UP_MODEL_ARG.length);
  if (!modelPath) throw new Error(`no warm-up model (${WARM_UP_MODEL_ARG}<file>)`);
  const rows = 2;
  // Its two batches go to a sender that sends nowhere, so the sender's code is compiled too (joined
  // unless the first run took SEND_AFTER_MS).
  const sender = new OutputSender(() => undefined);
  const { session } = await runModel(
    {
      modelPath,
      inputsKey: "warm-up",
      inputSpecs: [{ name: WARMUP_INPUT, dtype: "float32", shape: [-1, WARMUP_FEATURES] }],
      batchSize: 1,
      executionProvider: { provider: "cpu", deviceId: 0, intraOpThreads: 1 },
    },
    { [WARMUP_INPUT]: { dtype: "float32", shape: [rows, WARMUP_FEATURES], data: new Float32Array(rows * WARMUP_FEATURES).fill(0.5) } },
    sender,
  );
  sender.flush();
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
