/**
 * The sandbox child process: runs ONE evaluation, then is killed by its parent.
 * Started by `SandboxPool` (IPC, advanced serialization; isolation.ts says as whom and with
 * what hidden); see protocol.ts.
 *
 * Warm start: onnxruntime is loaded and the evaluation's own code runs on a built-in model before
 * `ready` is announced, and `prepare` names the task's test inputs ahead (files it opens and reads
 * the first batch of), so the evaluation itself pays only for the participant's session and
 * inference (the next batches are read while the model runs: input-batches.ts).
 *
 * Every participant message is a template (contracts/src/participant-message.ts): shapes and
 * onnxruntime errors depend on the hidden inputs, so they are summarised, never quoted.
 */
import { writeFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import * as ort from "onnxruntime-node";
import { boundedName } from "@goat/contracts/participant-message";
import { ParticipantFault, PlatformFault } from "../faults";
import {
  chooseExecutionProvider,
  cpuFallback,
  detectAvailableBackends,
  type ExecutionProviderChoice,
} from "../onnx/execution-provider";
import { describeLoadError, describeRunError } from "../onnx/runtime-errors";
import { WARMUP_INPUT, WARMUP_INPUT_SPECS } from "../onnx/warmup-model";
import { StagedInputFiles } from "./input-batches";
import { OutputSender } from "./output-sender";
import {
  DIES_WITH_PARENT,
  WARM_UP_INPUTS_ARG,
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

// --- the kernel's first choice when memory runs out ------------------------------------------
// Where the worker's container or host runs out of memory, the OOM killer should stop a model's
// process, never the worker (or a database on the same host): the highest oom_score_adj. Raising
// one's own needs no privilege; a host without /proc/self/oom_score_adj keeps the default.
try {
  writeFileSync("/proc/self/oom_score_adj", "1000");
} catch {
  // not Linux, or /proc is not mounted
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
// Staged by the parent as .npy files (`prepare` names them): a spare reads their first two batches
// into reused buffers, and the whole test set only once it has waited (idleWork), since reading it
// whole costs ~7,600 page faults per 31 MB, which every child of a burst of evaluations paid;
// what was not read ahead is read batch by batch as the model runs (input-batches.ts). The child
// opens no dataset file.
let prepared: { key: string; inputs: StagedInputFiles } | undefined;

const gc = () => (globalThis as { gc?: () => void }).gc?.();

/**
 * Primes glibc's allocator for the participant's session: freeing one large (mmapped) block raises
 * malloc's mmap and trim thresholds, so the 30 MB of small blocks freed after it stay in the heap,
 * already faulted in, for onnxruntime's allocations. Without it, creating the session of a
 * 784-512-512-10 MLP took ~8-10 ms instead of ~3.5 ms (page faults); receiving the inputs through
 * the IPC channel used to do the same by accident. The heap it leaves is part of the baseline.
 *
 * It costs ~25-30 ms of CPU, which a tiny model's session never needed: a spare primes only once it
 * has waited IDLE_WORK_AFTER_MS for its evaluation (a quiet worker: every spare), in slices that
 * stop when the evaluation comes, after reading the whole test set (the same rule: idleWork).
 * Back-to-back jobs take their spares sooner and skip both, so a burst's CPU goes to the
 * evaluations (`npm run bench`, (b)); their sessions pay their own faults, and their inputs are
 * read batch by batch. Again after another dataset version's inputs come.
 */
const IDLE_WORK_AFTER_MS = 100;
const PRIME_BLOCKS = 480;
const PRIME_BLOCKS_PER_SLICE = 60;
let idleTimer: NodeJS.Timeout | undefined;
let priming: Promise<void> | undefined;

/** Schedules a spare's idle work IDLE_WORK_AFTER_MS from now (again, when inputs come again). */
function idleWorkWhenIdle(): void {
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => void idleWork(), IDLE_WORK_AFTER_MS);
}

/**
 * What a spare that has waited does for its evaluation, each step stopping once it comes: the test
 * set read whole, then the allocator primed; then it tells the parent it is `settled`.
 */
async function idleWork(): Promise<void> {
  const stop = () => evaluating;
  const inputs = prepared;
  await inputs?.inputs.loadWhileIdle(stop).catch(() => undefined); // the evaluation's own reads report a failing file
  await primeAllocator(stop);
  if (inputs !== undefined && inputs === prepared && !stop()) send({ type: "settled", inputsKey: inputs.key });
}

/** Primes once at a time (a second caller waits for the priming in progress). */
function primeAllocator(stop: () => boolean): Promise<void> {
  priming ??= primeInSlices(stop).finally(() => {
    priming = undefined;
  });
  return priming;
}

/** Primes slice by slice; stops (the blocks left as garbage, for the evaluation's first collection) once `stop()` says so. */
async function primeInSlices(stop: () => boolean): Promise<void> {
  if (stop()) return;
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
}

// --- evaluation ----------------------------------------------------------------------------
function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function modelLoadFault(e: unknown): ParticipantFault {
  const { code, message } = describeLoadError(errorText(e));
  return new ParticipantFault(code, message, { cause: e, logDetail: errorText(e) });
}

/** The execution providers onnxruntime can run on this host, read once: the ready message says them, the evaluation's session chooses from them. */
let backends: string[] | undefined;
function hostBackends(): string[] {
  return (backends ??= detectAvailableBackends(ort.listSupportedBackends()));
}

async function createSession(
  request: ChildEvaluateRequest,
  warnings: string[],
): Promise<{ session: ort.InferenceSession; choice: ExecutionProviderChoice }> {
  const available = hostBackends();
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
  inputs: StagedInputFiles,
  sender: OutputSender,
): Promise<{ result: Omit<ChildResult, "maxRssBytes">; session: ort.InferenceSession }> {
  const warnings: string[] = [];
  // The model was checked for external data when it was staged (staging.ts, refuseExternalData).

  const specs = request.inputSpecs;
  const rows = inputs.shapeOf(specs[0].name)?.[0] ?? 0;
  for (const spec of specs) {
    const shape = inputs.shapeOf(spec.name);
    if (!shape || shape[0] !== rows) {
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

  const fed = specs.filter((s) => session.inputNames.includes(s.name)).map((s) => s.name);
  const batchedOutputs = outputNames.map((name) => new BatchedOutput(name));
  const batchSize = Math.max(1, Math.floor(request.batchSize));
  const batchLatenciesMs: number[] = [];

  const inferenceStart = performance.now();
  // Each batch's rows are read while the model runs the one before (input-batches.ts).
  for await (const { start, rows: n, arrays } of inputs.batches(fed, batchSize)) {
    const feeds: Record<string, ort.Tensor> = {};
    // Views of the read buffers, no copy; onnxruntime reads them in place.
    for (const [name, { dtype, dims, data }] of arrays) feeds[name] = new ort.Tensor(dtype, data as Float32Array, dims);
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
    prepared?.inputs.close();
    prepared = undefined;
    let failure: string | undefined;
    try {
      prepared = { key: raw.inputsKey, inputs: StagedInputFiles.open(raw.files, raw.batchRows) };
    } catch (e) {
      failure = errorText(e).slice(0, 500);
    }
    // Frees any buffers held before, so the resident memory the parent reads next is the baseline
    // (runtime + these read buffers; + the primed heap once primed). The pool starts us with --expose-gc.
    gc();
    send({ type: "prepared", inputsKey: raw.inputsKey, failure });
    idleWorkWhenIdle();
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
 * waits as a spare. The evaluation's own code (runModel: the session from a file, four batches read
 * from a file, ahead and during the run, and their outputs) runs on the built-in warm-up model and
 * its inputs, which the pool writes once for its children (WARM_UP_MODEL_ARG, WARM_UP_INPUTS_ARG).
 */
async function warmUp(): Promise<number> {
  const started = performance.now();
  ort.env.logLevel = "error"; // ORT's warnings go to stderr; the parent keeps only a tail
  const argument = (prefix: string) => {
    const value = process.argv.find((arg) => arg.startsWith(prefix))?.slice(prefix.length);
    if (!value) throw new Error(`no warm-up file (${prefix}<file>)`);
    return value;
  };
  const modelPath = argument(WARM_UP_MODEL_ARG);
  const inputs = StagedInputFiles.open([{ name: WARMUP_INPUT, path: argument(WARM_UP_INPUTS_ARG) }], 1);
  // Its batches go to a sender that sends nowhere, so the sender's code is compiled too (joined
  // unless a run took SEND_AFTER_MS).
  const sender = new OutputSender(() => undefined);
  const { session } = await runModel(
    {
      modelPath,
      inputsKey: "warm-up",
      inputSpecs: WARMUP_INPUT_SPECS,
      batchSize: 1,
      executionProvider: { provider: "cpu", deviceId: 0, intraOpThreads: 1 },
    },
    inputs,
    sender,
  );
  sender.flush();
  inputs.close();
  await session.release();
  return performance.now() - started;
}

warmUp().then(
  (warmupMs) =>
    send({ type: "ready", onnxruntimeVersion: ort.env.versions.node ?? "unknown", warmupMs, backends: hostBackends() }),
  (e: Error) => {
    console.error(`sandbox child: warm-up failed: ${e.stack ?? e.message}`);
    process.exit(3);
  },
);
