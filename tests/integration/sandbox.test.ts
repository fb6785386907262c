import { execFileSync, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeNpyFile } from "@goat/contracts/dataset/npy";
import type { TensorSpec } from "@goat/contracts/tensor-spec";
import { buildModel, buildMlp } from "../../tools/onnx/build-model";
import { buildAllocatingModel, buildHangingModel, buildThrowingModel, buildWrongOutputRowsModel } from "@/tests/support/onnx/failing-models";
import { ParticipantFault, PlatformFault } from "../../worker/src/faults";
import { parseProcStat } from "../../worker/src/process-tree-cpu";
import { chooseExecutionProvider, type ExecutionProviderConfig } from "../../worker/src/onnx/execution-provider";
import { hostTransparentHugePages } from "../../worker/src/sandbox/huge-pages";
import { prepareChildLaunch, sandboxChildEntry } from "../../worker/src/sandbox/child-bundle";
import { SandboxPool, type SandboxLimits } from "../../worker/src/sandbox/pool";
import { runQueueWaitMs } from "../../worker/src/sandbox/own-time-deadline";
import type { EvaluateRequest } from "../../worker/src/sandbox/protocol";

/**
 * Real child processes, real onnxruntime-node: the sandbox turns every way a model can fail
 * into that submission's fault, and the same pool goes on scoring the next model.
 */

const ROWS = 300;
const FEATURES = 784;
const inputSpecs: TensorSpec[] = [{ name: "input", dtype: "float32", shape: [-1, FEATURES] }];
const cpu: ExecutionProviderConfig = { provider: "cpu", deviceId: 0, intraOpThreads: 1 };
const limits: SandboxLimits = { timeoutMs: 20_000, memoryMb: 1024 };
const MiB = 1024 * 1024;

let dir: string;
let datasetDir: string;
let inputs: Float32Array;
let pool: SandboxPool;
const model: Record<string, string> = {};

function request(name: string, extra: Partial<EvaluateRequest> = {}): EvaluateRequest {
  return { modelPath: model[name], datasetDir, inputSpecs, batchSize: 128, executionProvider: cpu, ...extra };
}

async function inProcessOutputs(modelPath: string): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(modelPath, chooseExecutionProvider(cpu, ["cpu"]).sessionOptions);
  const out = await session.run({ input: new ort.Tensor("float32", inputs, [ROWS, FEATURES]) });
  await session.release();
  return out[session.outputNames[0]].data as Float32Array;
}

/** The next model after a failure is scored normally by the same pool. */
async function expectMlpScoresFine(): Promise<void> {
  const run = await pool.evaluate(request("mlp"), limits);
  expect(run.outputs[0].dims).toEqual([ROWS, 10]);
  expect(Array.from(run.outputs[0].data)).toEqual(Array.from(await inProcessOutputs(model.mlp)));
}

/**
 * Waits until the pool holds a warm spare: a child that has sent `ready` (runtime loaded) and
 * `prepared` for the current task's inputs. Read through the pool's private fields: the test waits
 * on the child's own messages instead of guessing how long a start takes on a loaded machine.
 */
async function waitForSpare(timeoutMs = 30_000, of: SandboxPool = pool): Promise<void> {
  type Spare = { isReady: boolean; hasPrepared(key: string): boolean };
  const internals = of as unknown as { spares: Spare[]; inputs?: { key: string } };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const key = internals.inputs?.key;
    if (key && internals.spares.some((spare) => spare.isReady && spare.hasPrepared(key))) return;
    if (Date.now() > deadline) throw new Error(`no warm spare after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "goat-sandbox-"));
  // The sandbox child runs as "nobody" when the tests run as root: it must reach the test's own child scripts.
  chmodSync(dir, 0o755);
  datasetDir = path.join(dir, "task");
  const { mkdirSync } = await import("node:fs");
  mkdirSync(datasetDir);
  inputs = new Float32Array(ROWS * FEATURES);
  for (let i = 0; i < inputs.length; i++) inputs[i] = ((i * 7919) % 1000) / 1000;
  await writeNpyFile(path.join(datasetDir, "inputs.npy"), { dtype: "float32", shape: [ROWS, FEATURES], data: inputs });

  const models: Record<string, Uint8Array> = {
    mlp: buildMlp({ sizes: [FEATURES, 64, 10], seed: 1 }),
    mlp2: buildMlp({ sizes: [FEATURES, 32, 10], seed: 2, softmax: true }),
    throwing: buildThrowingModel(),
    hanging: buildHangingModel(),
    // ~0.1-0.5 s of computing on this test set, then a normal classifier's outputs.
    bounded: buildHangingModel({ tripCount: 50_000n }),
    allocating: buildAllocatingModel({ bytes: 3 * 1024 ** 3 }),
    allocating256: buildAllocatingModel({ bytes: 256 * MiB }),
    wrongRows: buildWrongOutputRowsModel(),
    garbage: new TextEncoder().encode("this is not an onnx model"),
    // The input's first 3 columns as float32, float64, float16 and (x 1000, rounded down) int64.
    castOutputs: buildModel({
      name: "cast-outputs",
      inputs: [{ name: "input", dtype: "float32", shape: ["N", FEATURES] }],
      outputs: [
        { name: "as_float", dtype: "float32", shape: ["N", 3] },
        { name: "as_double", dtype: "float64", shape: ["N", 3] },
        { name: "as_half", dtype: "float16", shape: ["N", 3] },
        { name: "as_int", dtype: "int64", shape: ["N", 3] },
      ],
      initializers: [
        { name: "columns", dtype: "int64", dims: [3], data: [0, 1, 2] },
        { name: "thousand", dtype: "float32", dims: [], data: [1000] },
      ],
      nodes: [
        { opType: "Gather", inputs: ["input", "columns"], outputs: ["as_float"], attributes: { axis: { i: 1 } } },
        { opType: "Cast", inputs: ["as_float"], outputs: ["as_double"], attributes: { to: { i: 11 } } },
        { opType: "Cast", inputs: ["as_float"], outputs: ["as_half"], attributes: { to: { i: 10 } } },
        { opType: "Mul", inputs: ["as_float", "thousand"], outputs: ["scaled"] },
        { opType: "Floor", inputs: ["scaled"], outputs: ["floored"] },
        { opType: "Cast", inputs: ["floored"], outputs: ["as_int"], attributes: { to: { i: 7 } } },
      ],
    }),
  };
  for (const [name, bytes] of Object.entries(models)) {
    model[name] = path.join(dir, `${name}.onnx`);
    writeFileSync(model[name], bytes);
  }
  pool = new SandboxPool({ maxSpare: 1, logger: { warn: () => undefined } });
  pool.warmUp({ datasetDir, inputSpecs });
});

afterAll(async () => {
  await pool?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("SandboxPool", () => {
  it("returns, from a child process, exactly the outputs of an in-process onnxruntime run", async () => {
    const run = await pool.evaluate(request("mlp"), limits);
    expect(run.outputs).toHaveLength(1);
    expect(run.outputs[0].name).toBe("output");
    expect(run.outputs[0].dims).toEqual([ROWS, 10]);
    expect(run.outputs[0].data).toBeInstanceOf(Float32Array);
    expect(Array.from(run.outputs[0].data)).toEqual(Array.from(await inProcessOutputs(model.mlp)));
    expect(run.batchLatenciesMs).toHaveLength(Math.ceil(ROWS / 128));
    expect(run.provider).toBe("cpu");
    expect(run.device).toBe("cpu");
    expect(run.onnxruntimeVersion).toBe("1.30.0");
    expect(run.sessionMs).toBeGreaterThan(0);
    expect(run.inferenceMs).toBeGreaterThanOrEqual(run.batchLatenciesMs.reduce((a, b) => a + b, 0) - 0.01);
  });

  it("reuses a warm spare for the next evaluation: no wait, inputs already read", async () => {
    await waitForSpare();
    const run = await pool.evaluate(request("mlp2"), limits);
    // A cold start takes 100 ms or more; taking a warm spare is a few promise turns.
    expect(run.sandboxWaitMs).toBeLessThan(50);
    expect(run.inputsPreloaded).toBe(true);
    const expected = await inProcessOutputs(model.mlp2);
    expect(Array.from(run.outputs[0].data)).toEqual(Array.from(expected));
  });

  it("reports a model that throws inside onnxruntime as the participant's fault, in a plain sentence naming the operator", async () => {
    const error = await pool.evaluate(request("throwing"), limits).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParticipantFault);
    const fault = error as ParticipantFault;
    expect(fault.code).toBe("MODEL_RUN_FAILED");
    expect(fault.displayMessage).toMatch(/^The model failed while running the "Gather" node: an index is out of range\./);
    expect(fault.logDetail).toMatch(/indices element out of data bounds/);
    expect(fault.displayMessage).not.toContain("\n");
    expect(fault.displayMessage).not.toContain(dir);
    await expectMlpScoresFine();
  });

  it("reports a file that is not ONNX as a load failure without server paths", async () => {
    const error = await pool.evaluate(request("garbage"), limits).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParticipantFault);
    expect((error as ParticipantFault).code).toBe("NOT_ONNX");
    expect((error as ParticipantFault).displayMessage).toMatch(/^onnxruntime could not parse the file as an ONNX model/);
    expect((error as ParticipantFault).displayMessage).not.toContain(dir);
    await expectMlpScoresFine();
  });

  it("kills a model that hangs at its time limit (TIMEOUT) and goes on", async () => {
    await waitForSpare();
    const started = performance.now();
    const error = await pool.evaluate(request("hanging"), { timeoutMs: 2000, memoryMb: 1024 }).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(ParticipantFault);
    expect((error as ParticipantFault).code).toBe("TIMEOUT");
    expect((error as ParticipantFault).displayMessage).toBe("The model took longer than the 2 s limit");
    // Never cut short; the upper bound only shows the child was killed rather than left to the
    // test's own timeout (a kill and exit take far less than 10 s, even on a loaded machine).
    expect(elapsed).toBeGreaterThanOrEqual(1990);
    expect(elapsed).toBeLessThan(2000 + 10_000);
    await expectMlpScoresFine();
  });

  it("kills a model that allocates past the memory limit (MEMORY_LIMIT) and goes on", async () => {
    const error = await pool.evaluate(request("allocating"), { timeoutMs: 20_000, memoryMb: 512 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParticipantFault);
    expect((error as ParticipantFault).code).toBe("MEMORY_LIMIT");
    expect((error as ParticipantFault).displayMessage).toBe("The model used more than 512 MB of memory");
    await expectMlpScoresFine();
  });

  it("measures each model's peak memory over the sandbox's baseline (runtime and inputs loaded)", async () => {
    const small = await pool.evaluate(request("mlp"), limits);
    // The baseline holds the runtime and the 300 x 784 float32 inputs (~0.9 MB) at least.
    expect(small.baselineRssBytes).toBeGreaterThan(20 * MiB);
    expect(small.peakMemoryBytes).toBeGreaterThanOrEqual(0);
    expect(small.peakMemoryBytes).toBeLessThan(64 * MiB);
    expect(small.peakGpuMemoryBytes).toBeNull(); // CPU: nvidia-smi is not asked

    // 256 MB allocated by every batch: the peak shows it, and the allowance was not used up.
    const big = await pool.evaluate(request("allocating256"), limits);
    expect(big.peakMemoryBytes).toBeGreaterThanOrEqual(256 * MiB);
    expect(big.peakMemoryBytes).toBeLessThan(limits.memoryMb * MiB);
  });

  it("returns every output of the test set, batch after batch in row order, as float32 (float32 outputs) or float64 (other numeric types)", async () => {
    const messages: { start: number; rows: number }[] = [];
    const run = await pool.evaluate(request("castOutputs", { batchSize: 64 }), limits, {
      onBatch: (batch) => messages.push({ start: batch.start, rows: batch.outputs[0].dims[0] }),
    }); // 300 rows: 5 batches, the last of 44
    const firstColumns = Array.from({ length: ROWS * 3 }, (_, i) => inputs[Math.floor(i / 3) * FEATURES + (i % 3)]);
    const byName = Object.fromEntries(run.outputs.map((output) => [output.name, output]));
    expect(Object.keys(byName)).toEqual(["as_float", "as_double", "as_half", "as_int"]);
    for (const output of run.outputs) expect(output.dims).toEqual([ROWS, 3]);
    expect(byName.as_float.data).toBeInstanceOf(Float32Array);
    expect(Array.from(byName.as_float.data)).toEqual(firstColumns);
    expect(byName.as_double.data).toBeInstanceOf(Float64Array);
    expect(Array.from(byName.as_double.data)).toEqual(firstColumns);
    expect(byName.as_half.data).toBeInstanceOf(Float64Array);
    Array.from(byName.as_half.data).forEach((value, i) => expect(Math.abs(value - firstColumns[i])).toBeLessThan(1e-3));
    expect(byName.as_int.data).toBeInstanceOf(Float64Array);
    expect(Array.from(byName.as_int.data)).toEqual(firstColumns.map((value) => Math.floor(Math.fround(value * 1000))));
    expect(run.batchLatenciesMs).toHaveLength(5);
    // The batches' outputs (~1 KB each) came joined, in fewer messages than batches (output-sender.ts),
    // each starting where the last ended.
    expect(messages.length).toBeLessThan(5);
    expect(messages.map((message) => message.start)).toEqual(messages.map((_, i) => messages.slice(0, i).reduce((rows, m) => rows + m.rows, 0)));
    expect(messages.reduce((rows, message) => rows + message.rows, 0)).toBe(ROWS);
  });

  it("refuses outputs whose row count is not the batch's (WRONG_OUTPUT_ROWS) and goes on", async () => {
    const error = await pool.evaluate(request("wrongRows"), limits).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParticipantFault);
    expect((error as ParticipantFault).code).toBe("WRONG_OUTPUT_ROWS");
    // The count the model returned is computed from the inputs: not quoted (tests/security/failure-messages.test.ts).
    expect((error as ParticipantFault).displayMessage).toBe(
      'The model returned a different number of rows in output "output" for a batch of 128 rows; it must return one row per input row.',
    );
    await expectMlpScoresFine();
  });

  it("treats a missing test set as a platform fault (retried), not the participant's", async () => {
    const error = await pool
      .evaluate(request("mlp", { datasetDir: path.join(dir, "no-such-task") }), limits)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlatformFault);
    expect((error as PlatformFault).code).toBe("DATASET_UNAVAILABLE");
    await expectMlpScoresFine();
  });
});

/** utime + stime of a process, in clock ticks; undefined once it is gone or a zombie. */
function cpuTicks(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return fields[0] === "Z" ? undefined : Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The parent pid in /proc/<pid>/stat (process-tree-cpu.ts's parser). */
function parentPid(pid: number): number | undefined {
  return parseProcStat(readFileSync(`/proc/${pid}/stat`, "utf8"))?.ppid;
}

describe("sandbox children are started by a launcher, not by the worker (spawner.ts)", () => {
  it("the worker's only child is the launcher, whose environment holds none of the worker's; every sandbox child is the launcher's", async () => {
    const own = new SandboxPool({ maxSpare: 2, logger: { warn: () => undefined } });
    try {
      own.warmUp({ datasetDir, inputSpecs });
      await own.sparesReady();
      await own.evaluate(request("mlp"), limits);
      own.resultStored();
      const launcher = own.launcherPid!;
      expect(parentPid(launcher)).toBe(process.pid);
      // setpriv (the parent-death signal) execs node: the launcher is node itself.
      expect(readFileSync(`/proc/${launcher}/cmdline`, "utf8").split("\0")).toContain("-e");
      // Only what Node's spawn adds for the launcher's own IPC channel: no secret, no PATH.
      const environ = readFileSync(`/proc/${launcher}/environ`, "utf8").split("\0").filter(Boolean);
      expect(environ.map((entry) => entry.split("=")[0]).sort()).toEqual(["NODE_CHANNEL_FD", "NODE_CHANNEL_SERIALIZATION_MODE"]);
      // The evaluated child is being killed by the launcher (resultStored): once its exit is seen,
      // the pool lists only the two spares, which stay (its /proc entry could vanish mid-check before).
      await own.sparesReady();
      for (const deadline = Date.now() + 10_000; own.processIds.length !== 2 && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(own.processIds.length).toBeGreaterThanOrEqual(2);
      for (const pid of own.processIds) expect(parentPid(pid)).toBe(launcher);
    } finally {
      await own.close();
    }
  });

  // Namespaces need root (or CAP_SYS_ADMIN); a worker without them is warned (isolation.ts).
  it.skipIf(process.getuid?.() !== 0)("the children share their launcher's namespaces: a network of their own, and mounts in which the hidden folders are covered", async () => {
    const hidden = mkdtempSync(path.join(os.tmpdir(), "goat-hidden-"));
    const own = new SandboxPool({ maxSpare: 2, spareStart: "after-evaluation", hidePaths: [hidden], logger: { warn: () => undefined } });
    const namespace = (pid: number | "self", kind: "mnt" | "net") => readlinkSync(`/proc/${pid}/ns/${kind}`);
    try {
      own.warmUp({ datasetDir, inputSpecs });
      await own.sparesReady();
      const launcher = own.launcherPid!;
      const children = own.processIds;
      expect(children).toHaveLength(2);
      for (const kind of ["mnt", "net"] as const) {
        expect(namespace(launcher, kind)).not.toBe(namespace("self", kind));
        for (const pid of children) expect(namespace(pid, kind)).toBe(namespace(launcher, kind));
      }
      // Its network: a loopback only, left down (tests/security/sandbox-isolation.test.ts: no connection gets out).
      expect(readFileSync(`/proc/${launcher}/net/dev`, "utf8").split("\n").slice(2).filter(Boolean).map((line) => line.trim().split(":")[0])).toEqual(["lo"]);
      const covers = readFileSync(`/proc/${launcher}/mountinfo`, "utf8").split("\n").filter((line) => line.includes(" goat-hidden "));
      expect(covers.map((line) => line.split(" ")[4])).toEqual([hidden]);
      // The worker's own view is untouched.
      expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(" goat-hidden ");
    } finally {
      await own.close();
      rmSync(hidden, { recursive: true, force: true });
    }
  });

  it("a launcher that dies takes the evaluation's child with it: a platform fault (retried), and the next evaluation gets a new launcher", async () => {
    const own = new SandboxPool({ maxSpare: 1, logger: { warn: () => undefined } });
    try {
      own.warmUp({ datasetDir, inputSpecs });
      await own.sparesReady();
      const [child] = own.processIds;
      const launcher = own.launcherPid!;
      const before = cpuTicks(child)!;
      const evaluation = own.evaluate(request("hanging"), { timeoutMs: 60_000, memoryMb: 1024 }).catch((e: unknown) => e);
      await until("the model to spin", () => ((cpuTicks(child) ?? 0) - before > 30 ? true : undefined), 30_000);
      process.kill(launcher, "SIGKILL");
      const error = await evaluation;
      expect(error).toBeInstanceOf(PlatformFault);
      expect((error as PlatformFault).code).toBe("SANDBOX_LOST");
      await until("the child to die", () => (cpuTicks(child) === undefined ? true : undefined), 10_000);
      own.resultStored();
      const run = await own.evaluate(request("mlp"), limits);
      expect(run.outputs[0].dims).toEqual([ROWS, 10]);
      expect(own.launcherPid).toBeGreaterThan(0);
      expect(own.launcherPid).not.toBe(launcher);
    } finally {
      await own.close();
    }
  });
});

describe("a sandbox child never outlives its worker", () => {
  it("dies with a worker killed while the model is inside a synchronous session.run", async () => {
    const holder = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "support/sandbox-holder.ts"), model.hanging, datasetDir], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      let out = "";
      holder.stdout!.on("data", (chunk) => (out += chunk));
      const childPid = await until("the holder's child pid", () => /"childPid":(\d+)/.exec(out)?.[1], 60_000).then(Number);
      const launcherPid = Number(/"launcherPid":(\d+)/.exec(out)?.[1]);
      expect(parentPid(childPid)).toBe(launcherPid);
      // Spinning in the model's Loop: its event loop is blocked, so only the kernel or a thread can end it.
      const before = await until("the child's first CPU reading", () => cpuTicks(childPid), 5_000);
      await until("the model to spin", () => ((cpuTicks(childPid) ?? 0) - before > 30 ? true : undefined), 60_000);
      holder.kill("SIGKILL");
      await until("the child to die", () => (cpuTicks(childPid) === undefined ? true : undefined), 10_000);
      await until("the launcher to die", () => (cpuTicks(launcherPid) === undefined ? true : undefined), 10_000);
    } finally {
      holder.kill("SIGKILL");
    }
  }, 120_000);
});

describe("the memory limit counts what the model allocates, not the sandbox's baseline", () => {
  // 20,000 x 784 float32: 63 MB of test inputs, more than a 48 MB limit.
  const bigRows = 20_000;
  let bigDir: string;
  beforeAll(async () => {
    bigDir = path.join(dir, "big-task");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(bigDir);
    const data = new Float32Array(bigRows * FEATURES);
    for (let i = 0; i < data.length; i++) data[i] = ((i * 31) % 97) / 97;
    await writeNpyFile(path.join(bigDir, "inputs.npy"), { dtype: "float32", shape: [bigRows, FEATURES], data });
  });

  it("scores a small model on a task whose test inputs alone are larger than the limit, and still stops a model that allocates past it", async () => {
    const tight: SandboxLimits = { timeoutMs: 60_000, memoryMb: 48 };
    const own = new SandboxPool({ maxSpare: 1, logger: { warn: () => undefined } });
    try {
      own.warmUp({ datasetDir: bigDir, inputSpecs });
      await own.sparesSettled(); // a spare that waited holds the whole test set
      const run = await own.evaluate(request("mlp", { datasetDir: bigDir }), tight);
      expect(run.outputs[0].dims).toEqual([bigRows, 10]);
      // The rule before: the whole child's RSS against the limit, which the inputs alone exceed.
      expect(run.baselineRssBytes).toBeGreaterThan(bigRows * FEATURES * 4);
      expect(run.baselineRssBytes).toBeGreaterThan(tight.memoryMb * MiB);
      expect(run.peakMemoryBytes).toBeLessThan(tight.memoryMb * MiB);

      const error = await own.evaluate(request("allocating256", { datasetDir: bigDir }), tight).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ParticipantFault);
      expect((error as ParticipantFault).code).toBe("MEMORY_LIMIT");
      expect((error as ParticipantFault).displayMessage).toBe("The model used more than 48 MB of memory");
    } finally {
      await own.close();
    }
  }, 120_000);

  it("a spare taken at once holds two batches of the test inputs, not the test set; one that has waited reads it whole", async () => {
    const own = new SandboxPool({ maxSpare: 1, spareStart: "after-evaluation", logger: { warn: () => undefined } });
    try {
      own.warmUp({ datasetDir: bigDir, inputSpecs, batchSize: 128 });
      await own.sparesReady();
      const takenAtOnce = await own.evaluate(request("mlp", { datasetDir: bigDir }), limits);
      own.resultStored();
      await own.sparesSettled(); // 100 ms of waiting, the inputs' 1 MB slices, the priming's: the child says when it is done
      const waited = await own.evaluate(request("mlp", { datasetDir: bigDir }), limits);
      // The baselines differ by the 60 MiB of inputs (and the primed heap, ~30 MB): the child taken at
      // once had read two batches of 128 rows (~0.8 MB).
      expect(waited.baselineRssBytes - takenAtOnce.baselineRssBytes).toBeGreaterThan(bigRows * FEATURES * 4 * 0.95);
      expect(waited.outputs[0].data).toEqual(takenAtOnce.outputs[0].data);
      expect(waited.outputs[0].dims).toEqual([bigRows, 10]);
    } finally {
      await own.close();
    }
  }, 120_000);
});

describe("SandboxPool process lifecycle", () => {
  /**
   * A sandbox child that is the real one, except that it kills itself with `signal` when told to
   * evaluate a participant's model (`everyModel`: any model, the known-good one too, as on a host
   * whose GPU or runtime has failed).
   */
  function childKilledBy(signal: "SIGSEGV" | "SIGKILL", everyModel = false): string {
    return realChildThat(
      `${signal.toLowerCase()}${everyModel ? "-every" : ""}`,
      `if (m.type === "evaluate" && (${everyModel} || !m.request.modelPath.endsWith("warm-up.onnx"))) process.kill(process.pid, "${signal}");`,
    );
  }

  /**
   * The real sandbox child, with `onMessage` (code run on each message `m` from the worker, before
   * the child's own handler) and, with `saysGpu`, a ready message that lists onnxruntime's CUDA
   * provider as on a GPU host (the model still runs on the CPU: the child chooses from what it finds).
   */
  function realChildThat(name: string, onMessage: string, saysGpu = false): string {
    const entry = path.join(dir, `${name}${saysGpu ? "-gpu" : ""}-child.mjs`);
    const real = prepareChildLaunch(sandboxChildEntry());
    writeFileSync(
      entry,
      `import { createRequire } from "node:module";
       if (${saysGpu}) {
         const send = process.send.bind(process);
         process.send = (m, ...rest) => send(m.type === "ready" ? { ...m, backends: [...m.backends, "cuda"] } : m, ...rest);
       }
       process.on("message", (m) => { ${onMessage} });
       createRequire(import.meta.url)(${JSON.stringify(real.entry)});`,
    );
    return entry;
  }

  async function evaluationOf(entry: string, then?: (pool: SandboxPool) => Promise<void>): Promise<unknown> {
    const warnings: string[] = [];
    const own = new SandboxPool({ childEntry: entry, maxSpare: 1, logger: { warn: (m) => warnings.push(m) } });
    try {
      const outcome = await own.evaluate(request("mlp"), limits).catch((e: unknown) => e);
      await then?.(own);
      return outcome;
    } finally {
      await own.close();
    }
  }

  it("reports a sandbox that dies mid-evaluation as CRASHED when a known-good model still runs there, and one that cannot start as a platform fault", async () => {
    const crashed = await evaluationOf(childKilledBy("SIGSEGV"), async (own) => {
      await own.checkStart(); // the known-good model ran: nothing holds the worker back
    });
    expect(crashed).toBeInstanceOf(ParticipantFault);
    expect((crashed as ParticipantFault).code).toBe("CRASHED");
    expect((crashed as ParticipantFault).displayMessage).toBe("The model crashed the evaluation process (signal SIGSEGV)");
    // A SIGKILL the worker did not send, while the OOM killer killed nothing in its cgroup: still
    // the model's crash (the kernel's OOM verdicts: host-memory.test.ts).
    const killed = await evaluationOf(childKilledBy("SIGKILL"));
    expect(killed).toBeInstanceOf(ParticipantFault);
    expect((killed as ParticipantFault).displayMessage).toBe("The model crashed the evaluation process (signal SIGKILL, likely out of memory)");

    const broken = path.join(dir, "broken-child.mjs");
    writeFileSync(broken, `console.error("cannot load the runtime"); process.exit(3);`);
    const brokenPool = new SandboxPool({ childEntry: broken, maxSpare: 1 });
    try {
      const error = await brokenPool.evaluate(request("mlp"), limits).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PlatformFault);
      expect((error as PlatformFault).code).toBe("SANDBOX_START_FAILED");
      expect((error as PlatformFault).message).toContain("exit code 3");
      expect((error as PlatformFault).message).toContain("cannot load the runtime");
    } finally {
      await brokenPool.close();
    }
  });

  it("takes a crash for the host's when the known-good model crashes there too: HOST_FAULT, retried, and the check fails until it runs", async () => {
    let checked: unknown;
    const crashed = await evaluationOf(childKilledBy("SIGSEGV", true), async (own) => {
      checked = await own.checkStart().then(
        () => "passed",
        (e: unknown) => e,
      );
    });
    expect(crashed).toBeInstanceOf(PlatformFault);
    expect((crashed as PlatformFault).code).toBe("HOST_FAULT");
    expect((crashed as PlatformFault).message).toBe(
      "the model's evaluation ended with CRASHED, and a known-good model then failed on this worker too (CRASHED: The model crashed the evaluation process (signal SIGSEGV)): the host's fault, not the model's",
    );
    expect((crashed as PlatformFault).retryable).toBe(true);
    // The sandbox breaker's check (sandbox-breaker.ts) runs the known-good model again, and fails while it crashes.
    expect(checked).toBeInstanceOf(PlatformFault);
    expect((checked as PlatformFault).code).toBe("HOST_FAULT");
  });

  it("checks the host after a time-out on the GPU only: a hung GPU is the host's, a slow model on the CPU the model's", async () => {
    // The known-good model crashes in these children: where the check runs, the verdict is HOST_FAULT.
    const knownGoodCrashes = `if (m.type === "evaluate" && m.request.modelPath.endsWith("warm-up.onnx")) process.kill(process.pid, "SIGSEGV");`;
    const timedOut = async (entry: string) => {
      const own = new SandboxPool({ childEntry: entry, maxSpare: 1, logger: { warn: () => undefined } });
      try {
        return await own.evaluate(request("hanging", { executionProvider: { ...cpu, provider: "auto" } }), { timeoutMs: 1000, memoryMb: 1024 }).catch((e: unknown) => e);
      } finally {
        await own.close();
      }
    };
    const onGpu = await timedOut(realChildThat("known-good-crashes", knownGoodCrashes, true));
    expect(onGpu).toBeInstanceOf(PlatformFault);
    expect((onGpu as PlatformFault).code).toBe("HOST_FAULT");
    expect((onGpu as PlatformFault).message).toMatch(/^the model's evaluation ended with TIMEOUT, and a known-good model then failed on this worker too \(CRASHED: /);
    // The same child on a host without the CUDA provider: no check, the model's TIMEOUT.
    const onCpu = await timedOut(realChildThat("known-good-crashes", knownGoodCrashes));
    expect(onCpu).toBeInstanceOf(ParticipantFault);
    expect((onCpu as ParticipantFault).code).toBe("TIMEOUT");
    // On the GPU with a known-good model that runs: the model's TIMEOUT.
    const healthyGpu = await timedOut(realChildThat("healthy", "", true));
    expect(healthyGpu).toBeInstanceOf(ParticipantFault);
    expect((healthyGpu as ParticipantFault).code).toBe("TIMEOUT");
  });

  it("does not count the time a starting child waited for a CPU against its start timeout: a starved machine is not a broken child", async () => {
    // A child whose start takes 300 ms of its own CPU, on core 0 beside three busy loops: about four
    // times that on the wall, past its 600 ms timeout, while its own time stays well within it.
    const entry = path.join(dir, "starved-child.mjs");
    writeFileSync(
      entry,
      `import { execFileSync } from "node:child_process";
       execFileSync("taskset", ["-a", "-p", "-c", "0", String(process.pid)], { stdio: "ignore" });
       const start = process.cpuUsage();
       for (let used = 0; used < 300_000; ) { const u = process.cpuUsage(start); used = u.user + u.system; }
       process.send({ type: "ready", onnxruntimeVersion: "x", warmupMs: 0 });
       process.on("message", (m) => { if (m.type === "prepare") process.send({ type: "prepared", inputsKey: m.inputsKey }); });`,
    );
    const hogs = [1, 2, 3].map(() => spawn("taskset", ["-c", "0", "sh", "-c", "while :; do :; done"], { stdio: "ignore" }));
    const own = new SandboxPool({ childEntry: entry, maxSpare: 1, startTimeoutMs: 600, logger: { warn: () => undefined } });
    try {
      const startedAt = performance.now();
      own.warmUp({ datasetDir, inputSpecs });
      await own.sparesReady();
      const wallMs = performance.now() - startedAt;
      // Past the timeout on the wall: a wall-clock rule would have failed this start (and counted it toward the breaker).
      expect(wallMs).toBeGreaterThan(600);
      const [child] = own.processIds;
      expect(runQueueWaitMs(child)).toBeGreaterThan(wallMs - 600);
    } finally {
      for (const hog of hogs) hog.kill("SIGKILL");
      await own.close();
    }
  });

  it("does not count the time a model waited for a CPU against its time limit: a loaded host is not a slow model", async () => {
    const own = new SandboxPool({ maxSpare: 1, logger: { warn: () => undefined } });
    const hogs: ReturnType<typeof spawn>[] = [];
    try {
      own.warmUp({ datasetDir, inputSpecs });
      await own.sparesReady();
      // The model's own time on a free core, here and now.
      const free = await own.evaluate(request("bounded"), { timeoutMs: 60_000, memoryMb: 1024 });
      own.resultStored();
      await own.sparesReady();
      const timeoutMs = Math.round(2 * (free.sessionMs + free.inferenceMs)) + 200;
      // The next evaluation's child on core 0, beside three busy loops: ~4 times its own time on the wall.
      const [child] = own.processIds;
      execFileSync("taskset", ["-a", "-p", "-c", "0", String(child)], { stdio: "ignore" });
      hogs.push(...[1, 2, 3].map(() => spawn("taskset", ["-c", "0", "sh", "-c", "while :; do :; done"], { stdio: "ignore" })));
      const startedAt = performance.now();
      const starved = await own.evaluate(request("bounded"), { timeoutMs, memoryMb: 1024 });
      const wallMs = performance.now() - startedAt;
      // Past its limit on the wall: a wall-clock limit would have failed it as the team's TIMEOUT.
      expect(wallMs).toBeGreaterThan(timeoutMs);
      expect(starved.outputs[0].dims).toEqual([ROWS, 10]);
      expect(Array.from(starved.outputs[0].data as Float32Array)).toEqual(Array.from(free.outputs[0].data as Float32Array));
    } finally {
      for (const hog of hogs) hog.kill("SIGKILL");
      await own.close();
    }
  });

  it("still times out a starting child that makes no progress, at its timeout", async () => {
    // Never ready, and asleep: it waits for no CPU (beyond a little while Node boots), so its timeout is barely stretched.
    const entry = path.join(dir, "stuck-child.mjs");
    writeFileSync(entry, `process.on("message", () => undefined); setInterval(() => undefined, 1_000);`);
    const own = new SandboxPool({ childEntry: entry, maxSpare: 1, startTimeoutMs: 800, logger: { warn: () => undefined } });
    try {
      const startedAt = performance.now();
      own.warmUp({ datasetDir, inputSpecs });
      const error = await own.sparesReady().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PlatformFault);
      expect((error as PlatformFault).code).toBe("SANDBOX_START_TIMEOUT");
      expect((error as PlatformFault).message).toMatch(/^sandbox process not ready after \d+ ms \(timeout 800 ms(, \d+ ms of it waiting for a CPU)?\)/);
      expect(performance.now() - startedAt).toBeLessThan(800 * 2);
    } finally {
      await own.close();
    }
  });

  it("kills the evaluated child and starts the next spare once the caller has stored its result (resultStored), or a second after the evaluation without the call", async () => {
    const own = new SandboxPool({ maxSpare: 1, spareStart: "after-evaluation", logger: { warn: () => undefined } });
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const until = async (done: () => boolean) => {
      for (const started = Date.now(); !done() && Date.now() - started < 5_000; ) await pause(20);
    };
    try {
      own.warmUp({ datasetDir, inputSpecs });
      await own.sparesReady();
      const [first] = own.processIds;
      await own.evaluate(request("mlp"), limits);
      await pause(300);
      // The evaluated child waits, idle, and no other has started: its kill and the next fork would
      // have blocked the result's transaction.
      expect(own.processIds).toEqual([first]);
      own.resultStored();
      // The next spare's pid comes from the launcher (spawner.ts) once it has started it.
      await until(() => own.processIds.length === 1 && own.processIds[0] !== first);
      const [second] = own.processIds;
      expect(second).toBeGreaterThan(0);
      expect(second).not.toBe(first); // the evaluated child is gone, the next one is there
      own.resultStored(); // nothing more to do
      expect(own.processIds).toEqual([second]);

      await own.evaluate(request("mlp"), limits);
      await pause(300);
      expect(own.processIds).toEqual([second]);
      const started = Date.now();
      await until(() => own.processIds.length === 1 && own.processIds[0] !== second);
      expect(own.processIds).toHaveLength(1);
      expect(own.processIds[0]).not.toBe(second);
      expect(Date.now() - started).toBeLessThan(1_500); // the deadline: a second after the evaluation
    } finally {
      await own.close();
    }
  });

  it("kills a child whose model failed at once, without waiting for the caller", async () => {
    const own = new SandboxPool({ maxSpare: 1, spareStart: "after-evaluation", logger: { warn: () => undefined } });
    try {
      own.warmUp({ datasetDir, inputSpecs });
      await own.sparesReady();
      const [first] = own.processIds;
      const error = await own.evaluate(request("throwing"), limits).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ParticipantFault);
      for (const started = Date.now(); own.processIds.includes(first) && Date.now() - started < 2_000; ) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(own.processIds).toEqual([]);
    } finally {
      await own.close();
    }
  });

  it("keeps two spares when asked (SANDBOX_SPARES=2): back-to-back evaluations each take a process that was ready, and each is replaced", async () => {
    const own = new SandboxPool({ maxSpare: 2, spareStart: "after-evaluation", logger: { warn: () => undefined } });
    try {
      own.warmUp({ datasetDir, inputSpecs });
      await own.sparesReady();
      const ready = [...own.processIds];
      expect(ready).toHaveLength(2);
      const first = await own.evaluate(request("mlp"), limits);
      expect(first.inputsPreloaded).toBe(true);
      // The child that ran it waits, idle, for resultStored() (its kill, its replacement's start);
      // the other waits, ready.
      expect([...own.processIds].sort()).toEqual([...ready].sort());
      // The next evaluation first does what the last one left (kill, replacement), then takes the other ready process.
      const second = await own.evaluate(request("mlp"), limits);
      expect(second.inputsPreloaded).toBe(true);
      expect(second.outputs[0].data).toEqual(first.outputs[0].data);
      own.resultStored();
      for (const started = Date.now(); own.processIds.some((pid) => ready.includes(pid)) && Date.now() - started < 5_000; ) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(own.processIds.some((pid) => ready.includes(pid))).toBe(false);
      await own.sparesReady();
      expect(own.processIds).toHaveLength(2);
    } finally {
      await own.close();
    }
  });

  it("a spare primes its allocator (~30 MB of heap faulted in for the session) once it has waited for work; one taken at once has not", async () => {
    const own = new SandboxPool({ maxSpare: 1, spareStart: "after-evaluation", logger: { warn: () => undefined } });
    try {
      own.warmUp({ datasetDir, inputSpecs });
      await own.sparesReady();
      const takenAtOnce = await own.evaluate(request("mlp"), limits);
      own.resultStored();
      await own.sparesSettled(); // 100 ms of waiting, the inputs read whole, then the priming's slices (~30 ms)
      const waited = await own.evaluate(request("mlp"), limits);
      // The baseline is the child's resident memory as its evaluation starts: the primed heap is in it.
      expect(waited.baselineRssBytes - takenAtOnce.baselineRssBytes).toBeGreaterThan(20 * MiB);
      expect(waited.outputs[0].data).toEqual(takenAtOnce.outputs[0].data);
    } finally {
      await own.close();
    }
  });

  // A kernel without transparent huge pages (or with them set to never) has none to give: nothing to see there.
  const thp = hostTransparentHugePages();
  it.skipIf(thp === undefined || thp === "never")(
    "gives a child's malloc heap transparent huge pages (SANDBOX_HUGE_PAGES=auto), and not with off",
    async () => {
      for (const hugePages of ["auto", "off"] as const) {
        const own = new SandboxPool({ maxSpare: 1, hugePages, spareStart: "after-evaluation", logger: { warn: () => undefined } });
        try {
          own.warmUp({ datasetDir, inputSpecs });
          await own.sparesSettled(); // the allocator primed: ~30 MB of malloc heap faulted in
          expect(own.childHugePages).toBe(hugePages === "auto");
          const [pid] = own.processIds;
          const environment = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
          const hugeKb = Number(/^AnonHugePages:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"))?.[1]);
          if (hugePages === "auto") {
            expect(environment).toContain("GLIBC_TUNABLES=glibc.malloc.hugetlb=1");
            expect(hugeKb).toBeGreaterThanOrEqual(2048); // at least one 2 MB page
          } else {
            expect(environment.filter((entry) => entry.startsWith("GLIBC_TUNABLES="))).toEqual([]);
            // With THP on madvise only what asks gets huge pages, and nothing in the child asks now.
            if (thp === "madvise") expect(hugeKb).toBe(0);
          }
          const run = await own.evaluate(request("mlp"), limits);
          expect(Array.from(run.outputs[0].data)).toEqual(Array.from(await inProcessOutputs(model.mlp)));
        } finally {
          await own.close();
        }
      }
    },
  );

  it("leaves no child process behind after close(), nor the children's launcher", async () => {
    const own = new SandboxPool({ maxSpare: 1 });
    own.warmUp({ datasetDir, inputSpecs });
    await own.evaluate(request("mlp"), limits);
    own.resultStored();
    const pids = [...own.processIds, own.launcherPid!];
    expect(pids.length).toBeGreaterThan(1);
    await own.close();
    expect(own.processIds).toEqual([]);
    for (const pid of pids) {
      // Gone, or at most a zombie awaiting its reaper (state Z): never running.
      const statusFile = `/proc/${pid}/status`;
      if (existsSync(statusFile)) {
        expect(readFileSync(statusFile, "utf8")).toMatch(/State:\s+Z/);
      }
    }
  });
});
