import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import fs from "node:fs/promises";
import os, { availableParallelism } from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { NdArray } from "@goat/contracts/dataset/npy";
import { loadDatasetInputs } from "@goat/contracts/dataset/task-dataset";
import { ParticipantFault, PlatformFault } from "../faults";
import { watchGpuMemory } from "../gpu/gpu-memory-watch";
import { NvidiaSmi, type GpuProcessProbe } from "../gpu/nvidia-smi";
import { prepareChildLaunch, type ChildLaunch } from "./child-bundle";
import { planIsolation, sandboxChildEnv, type IsolationPlan } from "./isolation";
import type { ChildEvaluateRequest, ChildMessage, EvaluateRequest, ParentMessage, SandboxResult, TaskInputs } from "./protocol";

/**
 * Runs each evaluation in its own child process (child.ts) under a wall-clock and a memory
 * limit, so a model that crashes, hangs or allocates without bound fails its submission
 * only. One process per evaluation: nothing a hostile model does survives it.
 *
 * Speed: starting Node + onnxruntime (~100 ms), the first session (~36 ms) and reading the
 * test inputs (~45 ms for 31 MB) are paid by a SPARE process while the previous evaluation
 * runs; an evaluation that finds a spare ready pays only for its own session and inference.
 */

export interface SandboxLimits {
  /** Wall-clock limit of the evaluation (session creation + inference), not of the sandbox start. */
  timeoutMs: number;
  /**
   * What the MODEL may add to the child's resident memory (onnxruntime's native allocations
   * included): counted over the child's baseline, its RSS with the runtime loaded and the test
   * inputs received, read right before the evaluation starts. A task with large inputs does not
   * eat into its models' allowance.
   */
  memoryMb: number;
}

export type SandboxRun = SandboxResult & {
  /** How long the evaluation waited for a ready sandbox (0 when a warm spare was there). */
  sandboxWaitMs: number;
  /** The child's resident memory when the evaluation started: runtime and test inputs. */
  baselineRssBytes: number;
  /**
   * The most resident memory the model added over the baseline while its session was created and
   * it ran: the parent's samples, or the child's own high-water mark when that was set during the
   * evaluation (it catches a peak between two samples).
   */
  peakMemoryBytes: number;
  /** The most GPU memory nvidia-smi reported for the child (CUDA asked for); null when not read. */
  peakGpuMemoryBytes: number | null;
};

export interface SandboxPoolOptions {
  /** The child's entry file; child.ts next to this module by default. */
  childEntry?: string;
  /** Warm processes kept ready for the next evaluation. */
  maxSpare?: number;
  /**
   * V8 heap cap of a child (`--max-old-space-size`). The child's own JavaScript objects only: the
   * test inputs and outputs are typed arrays (outside V8's old space) and onnxruntime's memory is
   * native, so the task's memory limit is enforced on RSS over the baseline instead, by polling.
   */
  heapMb?: number;
  /** A child that is not ready by then is a platform fault. */
  startTimeoutMs?: number;
  /** How often the child's RSS is read while a model runs. */
  memoryPollMs?: number;
  /**
   * When the next spare starts: while an evaluation runs (hides its start-up), after it
   * (the evaluation has the CPU to itself), or `auto`: overlap only where the CPU has room.
   */
  spareStart?: "with-evaluation" | "after-evaluation" | "auto";
  /**
   * Reads the child's GPU memory when the evaluation asks for CUDA with `gpuMemLimitBytes`
   * (onnxruntime-node ignores `gpu_mem_limit`, so the pool enforces it). nvidia-smi by default.
   */
  gpuMemoryProbe?: GpuProcessProbe;
  /** How often the child's GPU memory is read (each read starts an nvidia-smi process). */
  gpuMemoryPollMs?: number;
  /**
   * Folders the child must not see (isolation.ts): the worker passes its dataset folder (with
   * the labels) and the model storage folder. Hidden where the kernel allows a mount namespace.
   */
  hidePaths?: string[];
  /** The user the child runs as when the worker is root; null keeps root (tests of the fallback). */
  sandboxUser?: string | null;
  logger?: { warn(message: string): void };
}

const DEFAULTS = { maxSpare: 1, heapMb: 2048, startTimeoutMs: 30_000, memoryPollMs: 25, gpuMemoryPollMs: 500, spareStart: "auto" as const };

export class SandboxPool {
  private readonly opts: Required<Omit<SandboxPoolOptions, "childEntry" | "logger" | "gpuMemoryProbe" | "hidePaths" | "sandboxUser">> & {
    childEntry: string;
  };
  private readonly hidePaths: string[];
  private readonly sandboxUser: string | null | undefined;
  private isolation: IsolationPlan | undefined;
  /** Private folders holding each evaluation's model copy; the only model the child can open. */
  private readonly privateRoot: string;
  /** The test inputs of the last task and dataset version, read once here and sent to each child. */
  private inputs: { key: string; value: Promise<Record<string, NdArray>> } | undefined;
  private readonly gpuMemoryProbe: GpuProcessProbe;
  private readonly logger: { warn(message: string): void };
  private spares: SandboxProcess[] = [];
  private readonly all = new Set<SandboxProcess>();
  private hint: TaskInputs | undefined;
  private closed = false;
  private launch: ChildLaunch | undefined;
  /** the child evaluating now, for cancelRunning() */
  private evaluating: SandboxProcess | undefined;

  constructor(opts: SandboxPoolOptions = {}) {
    this.opts = {
      childEntry: opts.childEntry ?? fileURLToPath(new URL("./child.ts", import.meta.url)),
      maxSpare: opts.maxSpare ?? DEFAULTS.maxSpare,
      heapMb: opts.heapMb ?? DEFAULTS.heapMb,
      startTimeoutMs: opts.startTimeoutMs ?? DEFAULTS.startTimeoutMs,
      memoryPollMs: opts.memoryPollMs ?? DEFAULTS.memoryPollMs,
      spareStart: opts.spareStart ?? DEFAULTS.spareStart,
      gpuMemoryPollMs: opts.gpuMemoryPollMs ?? DEFAULTS.gpuMemoryPollMs,
    };
    this.logger = opts.logger ?? { warn: (m) => console.warn(`[sandbox] ${m}`) };
    this.gpuMemoryProbe = opts.gpuMemoryProbe ?? new NvidiaSmi();
    this.hidePaths = opts.hidePaths ?? [];
    this.sandboxUser = opts.sandboxUser;
    // 0711: the child may enter its own (randomly named) folder but list none of the others.
    this.privateRoot = mkdtempSync(path.join(os.tmpdir(), "goat-sandbox-"));
    chmodSync(this.privateRoot, 0o711);
  }

  /**
   * The task's test inputs, read in the worker (the child opens no dataset file), keyed by the
   * dataset version and the signature: a spare holding another version's inputs gets these first.
   */
  private inputsFor(task: TaskInputs): { key: string; value: Promise<Record<string, NdArray>> } {
    const source = task.dataset ? ["version", task.dataset.version] : ["folder", task.datasetDir];
    const key = createHash("sha256").update(JSON.stringify([...source, task.inputSpecs])).digest("hex").slice(0, 24);
    if (this.inputs?.key !== key) {
      const value = task.dataset
        ? task.dataset.loadInputs()
        : task.datasetDir !== undefined
          ? loadDatasetInputs(task.datasetDir, task.inputSpecs)
          : Promise.reject(new Error("no test inputs given"));
      value.catch(() => undefined); // reported by the evaluation that needs them
      this.inputs = { key, value };
    }
    return this.inputs;
  }

  /**
   * A private folder holding the model, readable by the child's user: a hard link when the
   * stored file is readable to everyone already, else a copy. The child never learns the
   * storage path, and external-data paths resolve inside this folder only.
   */
  private async stageModel(modelPath: string): Promise<{ path: string; remove(): Promise<void> }> {
    const dir = path.join(this.privateRoot, randomUUID().replaceAll("-", ""));
    await fs.mkdir(dir, { mode: 0o711 });
    const remove = () => fs.rm(dir, { recursive: true, force: true });
    const target = path.join(dir, "model.onnx");
    try {
      const { mode } = await fs.stat(modelPath);
      let linked = false;
      if (mode & 0o004) linked = await fs.link(modelPath, target).then(() => true, () => false);
      if (!linked) {
        await fs.copyFile(modelPath, target);
        await fs.chmod(target, 0o444);
      }
    } catch (error) {
      await remove();
      throw new PlatformFault("MODEL_UNAVAILABLE", `cannot stage the model for the sandbox: ${(error as Error).message}`, { cause: error });
    }
    return { path: target, remove };
  }

  /** Start spare processes now; with a task, have them read its test inputs too. */
  warmUp(taskHint?: TaskInputs): void {
    if (this.closed) return;
    if (taskHint) this.hint = taskHint;
    this.fillSpares();
    if (this.hint) for (const spare of this.spares) spare.prepare(this.inputsFor(this.hint));
  }

  /**
   * Evaluate one model in a fresh sandbox. Rejects with `ParticipantFault` (TIMEOUT,
   * MEMORY_LIMIT, CRASHED, MODEL_LOAD_FAILED, MODEL_RUN_FAILED, WRONG_OUTPUT_ROWS, ...) when
   * the model is at fault, `PlatformFault` when we are.
   */
  async evaluate(request: EvaluateRequest, limits: SandboxLimits): Promise<SandboxRun> {
    if (this.closed) throw new PlatformFault("POOL_CLOSED", "the sandbox pool is closed");
    const task: TaskInputs = { dataset: request.dataset, datasetDir: request.datasetDir, inputSpecs: request.inputSpecs };
    this.hint = task;
    const inputs = this.inputsFor(task);
    try {
      await inputs.value;
    } catch (e) {
      if (e instanceof PlatformFault) throw e;
      const from = task.dataset ? `version ${task.dataset.version.slice(0, 12)}` : task.datasetDir;
      throw new PlatformFault("DATASET_UNAVAILABLE", `cannot read test inputs from ${from}: ${(e as Error).message}`, { cause: e });
    }

    const model = await this.stageModel(request.modelPath);
    const waitStarted = performance.now();
    const spare = this.takeSpare();
    const inputsPreloaded = spare?.hasPrepared(inputs.key) ?? false;
    const sandbox = spare ?? this.spawn();
    sandbox.prepare(inputs);
    let startedNext = false;
    const startNext = () => {
      if (startedNext || this.closed) return;
      startedNext = true;
      this.fillSpares();
      for (const next of this.spares) next.prepare(inputs);
    };
    const overlap = this.spareOverlapsEvaluation(request);
    const childRequest: ChildEvaluateRequest = {
      modelPath: model.path,
      inputsKey: inputs.key,
      inputSpecs: request.inputSpecs,
      outputNames: request.outputNames,
      batchSize: request.batchSize,
      executionProvider: request.executionProvider,
    };

    this.evaluating = sandbox;
    try {
      if (overlap && !sandbox.isReady) setImmediate(startNext); // cold: start both at once
      await sandbox.readyFor(inputs.key, this.opts.startTimeoutMs);
      const sandboxWaitMs = performance.now() - waitStarted;
      const running = sandbox.run(childRequest, limits, this.opts.memoryPollMs, {
        probe: this.gpuMemoryProbe,
        pollMs: this.opts.gpuMemoryPollMs,
        logger: this.logger,
      });
      // After the evaluate message is out: spawn() blocks this thread for a few ms.
      if (overlap) setImmediate(startNext);
      const { result, memory } = await running;
      for (const w of result.warnings) this.logger.warn(w);
      return { ...result, inputsPreloaded, sandboxWaitMs, ...memory };
    } catch (error) {
      // The raw cause of a participant's fault (onnxruntime's own text) is for this log only.
      if (error instanceof ParticipantFault && error.logDetail) this.logger.warn(`model fault ${error.code}: ${error.logDetail.slice(0, 2000)}`);
      throw error;
    } finally {
      if (this.evaluating === sandbox) this.evaluating = undefined;
      sandbox.kill();
      setImmediate(startNext); // spawn() takes a few ms: after the caller has its result
      await model.remove();
    }
  }

  /**
   * Resolves once every spare is started and holds the last task's inputs: nothing of the pool is
   * busy any more (the evaluation benchmark measures raw onnxruntime on a quiet machine this way).
   */
  async sparesReady(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve)); // the spare a just-finished evaluation starts
    const inputsKey = this.hint ? this.inputsFor(this.hint).key : "";
    await Promise.all(this.spares.map((spare) => spare.readyFor(inputsKey, this.opts.startTimeoutMs)));
  }

  /**
   * Kills the child of the evaluation in progress at once (its submission was cancelled): the
   * evaluation rejects as CRASHED, which the caller knows to be the cancel. False when none runs.
   */
  cancelRunning(): boolean {
    if (!this.evaluating) return false;
    this.evaluating.kill();
    return true;
  }

  /**
   * Whether the next spare starts while this evaluation runs, or when it ends.
   * A starting child burns ~0.2 s of CPU on several threads (V8, onnxruntime's thread pools,
   * reading the inputs). On a small CPU host that slowed a concurrent 784-512-512-10 MLP
   * evaluation by ~50% (measured on 2 cores: 300 ms instead of 200 ms), which is worse than
   * waiting ~0.2 s for the spare before the next evaluation. With cores to spare (or on a
   * GPU, which the start-up does not touch) overlapping costs nothing and hides the start.
   */
  private spareOverlapsEvaluation(request: EvaluateRequest): boolean {
    if (this.opts.spareStart !== "auto") return this.opts.spareStart === "with-evaluation";
    if (request.executionProvider.provider !== "cpu") return true;
    return availableParallelism() >= Math.max(1, request.executionProvider.intraOpThreads) + 3;
  }

  /** Kill every child, spare or running, and wait until they are gone. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.all];
    this.spares = [];
    await Promise.all(all.map((p) => p.killAndWait()));
    rmSync(this.privateRoot, { recursive: true, force: true });
  }

  /** Processes alive right now (spares and running), for tests and heartbeats. */
  get processIds(): number[] {
    return [...this.all].filter((p) => !p.exited && p.pid !== undefined).map((p) => p.pid!);
  }

  private takeSpare(): SandboxProcess | undefined {
    while (this.spares.length > 0) {
      const spare = this.spares.shift()!;
      if (!spare.exited) return spare;
    }
    return undefined;
  }

  private fillSpares(): void {
    this.spares = this.spares.filter((s) => !s.exited);
    while (!this.closed && this.spares.length < this.opts.maxSpare) {
      const spare = this.spawn();
      if (this.hint) spare.prepare(this.inputsFor(this.hint));
      this.spares.push(spare);
    }
  }

  private isolationPlan(launch: ChildLaunch): IsolationPlan {
    if (!this.isolation) {
      const require = createRequire(import.meta.url);
      this.isolation = planIsolation({
        hidePaths: this.hidePaths,
        keepPaths: [
          launch.entry,
          this.opts.childEntry,
          path.dirname(require.resolve("onnxruntime-node/package.json")),
          process.execPath,
          this.privateRoot,
        ],
        user: this.sandboxUser,
      });
      for (const warning of this.isolation.warnings) this.logger.warn(warning);
    }
    return this.isolation;
  }

  private spawn(): SandboxProcess {
    this.launch ??= prepareChildLaunch(this.opts.childEntry);
    const sandbox = new SandboxProcess(this.launch, this.opts.heapMb, this.isolationPlan(this.launch), this.privateRoot);
    this.all.add(sandbox);
    sandbox.onExit(() => {
      this.all.delete(sandbox);
      this.spares = this.spares.filter((s) => s !== sandbox);
    });
    return sandbox;
  }
}

// ---------------------------------------------------------------------------------------------

interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Children alive in this process, killed if the worker exits without `close()`. */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const child of liveChildren) child.kill("SIGKILL");
  });
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}

/**
 * The model's peak memory: the highest RSS sampled, or the child's own high-water mark when it rose
 * during the evaluation (before it, the mark may come from reading the inputs), over the baseline.
 * The child's figure can only raise the parent's own, never lower it.
 */
export function peakOverBaseline(baseline: number, sampledPeak: number, childMaxRss?: { atStart: number; atEnd: number }): number {
  const fromChild = childMaxRss && childMaxRss.atEnd > childMaxRss.atStart ? childMaxRss.atEnd : 0;
  return Math.max(0, Math.max(sampledPeak, fromChild) - baseline);
}

/** Resident set size of a process in bytes, from /proc (Linux); undefined when unreadable. */
export function residentBytes(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "latin1");
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

class SandboxProcess {
  private readonly child: ChildProcess;
  private readonly readyPromise: Promise<void>;
  isReady = false;
  private preparedKey: string | undefined;
  private readonly prepared = new Map<string, Promise<void>>();
  private readonly preparedDone = new Set<string>();
  private prepareWaiters = new Map<string, () => void>();
  private messageHandler: ((m: ChildMessage) => void) | undefined;
  private readonly exitHandlers: ((info: ExitInfo) => void)[] = [];
  private stderrTail = "";
  exitInfo: ExitInfo | undefined;
  private killedByUs = false;

  constructor(launch: ChildLaunch, heapMb: number, isolation: IsolationPlan, cwd: string) {
    installExitHook();
    // spawn with an IPC channel, as fork() would, through the isolation wrappers (which exec, so
    // the pid is the node process's: the memory watch reads the right /proc entry).
    // --expose-gc: the child collects after receiving its inputs, so its baseline RSS holds no garbage.
    const { command, args } = isolation.wrap(process.execPath, [...launch.execArgv, `--max-old-space-size=${heapMb}`, "--expose-gc", launch.entry]);
    this.child = spawn(command, args, {
      serialization: "advanced",
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      cwd,
      env: sandboxChildEnv() as NodeJS.ProcessEnv, // Next.js types make NODE_ENV required; the child does not need it
    });
    liveChildren.add(this.child);
    // A spare waiting for work must not keep the worker alive on its own.
    this.child.unref();
    this.child.channel?.unref();
    this.child.stderr?.on("data", (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString("utf8")).slice(-4000);
    });
    (this.child.stderr as unknown as { unref?: () => void } | null)?.unref?.();

    let onReady!: () => void;
    let onFail!: (e: Error) => void;
    this.readyPromise = new Promise<void>((resolve, reject) => {
      onReady = resolve;
      onFail = reject;
    });
    this.readyPromise.catch(() => undefined);

    this.child.on("message", (m: ChildMessage) => {
      if (m.type === "ready") {
        this.isReady = true;
        onReady();
      }
      else if (m.type === "prepared") {
        this.preparedDone.add(m.inputsKey);
        this.prepareWaiters.get(m.inputsKey)?.();
      }
      else this.messageHandler?.(m);
    });
    const onGone = (info: ExitInfo, error?: Error) => {
      if (this.exitInfo) return;
      this.exitInfo = info;
      liveChildren.delete(this.child);
      const how = error ? error.message : info.signal ? `signal ${info.signal}` : `exit code ${info.code}`;
      onFail(new PlatformFault("SANDBOX_START_FAILED", `sandbox process ended before it was ready (${how})${this.stderrSuffix()}`));
      for (const w of this.prepareWaiters.values()) w();
      for (const h of this.exitHandlers) h(info);
    };
    this.child.on("exit", (code, signal) => onGone({ code, signal }));
    this.child.on("error", (error) => {
      // Spawn failed (no exit event will follow) or a kill/send failed (exit will follow).
      if (this.child.pid === undefined) onGone({ code: null, signal: null }, error);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get exited(): boolean {
    return this.exitInfo !== undefined;
  }

  onExit(handler: (info: ExitInfo) => void): void {
    if (this.exitInfo) handler(this.exitInfo);
    else this.exitHandlers.push(handler);
  }

  private stderrSuffix(): string {
    const tail = this.stderrTail.trim();
    return tail ? `; stderr: ${tail.slice(-1500)}` : "";
  }

  /** Hand the child this task's test inputs (once per task), as soon as they are read. */
  prepare(inputs: { key: string; value: Promise<Record<string, NdArray>> }): void {
    const { key } = inputs;
    if (this.exited || this.preparedKey === key) return;
    this.preparedKey = key;
    this.prepared.set(key, new Promise<void>((resolve) => this.prepareWaiters.set(key, resolve)));
    inputs.value.then(
      (value) => this.send({ type: "prepare", inputsKey: key, inputs: value }),
      () => this.prepareWaiters.get(key)?.(), // the evaluation reports the failed read
    );
  }

  /** Whether the child holds these inputs already (a warm spare). */
  hasPrepared(key: string): boolean {
    return this.preparedDone.has(key);
  }

  /** Ready (runtime warm) and holding the task's inputs. */
  async readyFor(inputsKey: string, startTimeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new PlatformFault("SANDBOX_START_TIMEOUT", `sandbox process not ready after ${startTimeoutMs} ms${this.stderrSuffix()}`));
      }, startTimeoutMs);
    });
    try {
      await Promise.race([this.readyPromise, timeout]);
      await Promise.race([this.prepared.get(inputsKey) ?? Promise.resolve(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  run(
    request: ChildEvaluateRequest,
    limits: SandboxLimits,
    pollMs: number,
    gpu: { probe: GpuProcessProbe; pollMs: number; logger: { warn(message: string): void } },
  ): Promise<{ result: SandboxResult; memory: Pick<SandboxRun, "baselineRssBytes" | "peakMemoryBytes" | "peakGpuMemoryBytes"> }> {
    return new Promise((resolve, reject) => {
      if (this.exited) {
        reject(new PlatformFault("SANDBOX_START_FAILED", "sandbox process ended before the evaluation started"));
        return;
      }
      const limitBytes = limits.memoryMb * 1024 * 1024;
      const pid = this.child.pid!;
      // The child is ready and holds its inputs: what it holds now is not the model's.
      const baseline = residentBytes(pid) ?? 0;
      let peak = baseline;
      let peakGpu: number | null = null;
      /** Reads the child's RSS now and keeps the highest; undefined once it is gone. */
      const sample = (): number | undefined => {
        const rss = this.exited ? undefined : residentBytes(pid);
        if (rss !== undefined && rss > peak) peak = rss;
        return rss;
      };
      let settled = false;
      const finish = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        sample();
        clearTimeout(timer);
        clearInterval(poll);
        stopGpuWatch?.();
        this.messageHandler = undefined;
        outcome();
      };

      const timer = setTimeout(() => {
        this.kill();
        finish(() => reject(new ParticipantFault("TIMEOUT", `The model took longer than the ${formatSeconds(limits.timeoutMs)} limit`)));
      }, limits.timeoutMs);

      const poll = setInterval(() => {
        const rss = sample();
        if (rss !== undefined && rss - baseline > limitBytes) {
          this.kill();
          finish(() => reject(new ParticipantFault("MEMORY_LIMIT", `The model used more than ${limits.memoryMb} MB of memory`)));
        }
      }, pollMs);

      // CUDA asked for (a CPU fallback in the child just never shows up in nvidia-smi): the watch
      // measures the peak, and holds the child to the GPU memory limit when there is one.
      const gpuLimitBytes = request.executionProvider.gpuMemLimitBytes;
      const stopGpuWatch =
        request.executionProvider.provider !== "cpu"
          ? watchGpuMemory({
              pid,
              limitBytes: gpuLimitBytes !== undefined && gpuLimitBytes > 0 ? gpuLimitBytes : undefined,
              smi: gpu.probe,
              intervalMs: gpu.pollMs,
              logger: gpu.logger,
              onReading: (usedBytes) => {
                if (peakGpu === null || usedBytes > peakGpu) peakGpu = usedBytes;
              },
              onExceeded: (usedBytes) => {
                this.kill();
                const usedMb = Math.round(usedBytes / 1048576);
                const limitMb = Math.round(gpuLimitBytes! / 1048576);
                finish(() => reject(new ParticipantFault("MEMORY_LIMIT", `The model used ${usedMb} MB of GPU memory (limit ${limitMb} MB)`)));
              },
            })
          : undefined;

      this.messageHandler = (m) => {
        if (m.type === "result") {
          sample(); // the session and the outputs are still held: the last figure of the run
          const peakMemoryBytes = peakOverBaseline(baseline, peak, m.result.maxRssBytes);
          // A peak between two samples that the child's own high-water mark shows counts too.
          if (peakMemoryBytes > limitBytes) {
            finish(() => reject(new ParticipantFault("MEMORY_LIMIT", `The model used more than ${limits.memoryMb} MB of memory`)));
            return;
          }
          finish(() => resolve({ result: m.result, memory: { baselineRssBytes: baseline, peakMemoryBytes, peakGpuMemoryBytes: peakGpu } }));
        } else if (m.type === "error") {
          const { kind, code, message, logDetail } = m.error;
          finish(() => reject(kind === "participant" ? new ParticipantFault(code, message, { logDetail }) : new PlatformFault(code, message)));
        }
      };

      this.onExit((info) => {
        finish(() => {
          const how = info.signal ? `signal ${info.signal}` : `exit code ${info.code}`;
          const oom = info.signal === "SIGKILL" && !this.killedByUs ? ", likely out of memory" : "";
          reject(
            new ParticipantFault("CRASHED", `The model crashed the evaluation process (${how}${oom})`, {
              cause: new Error(`sandbox exit: ${how}${this.stderrSuffix()}`),
            }),
          );
        });
      });

      this.send({ type: "evaluate", request });
    });
  }

  private send(message: ParentMessage): void {
    if (this.exited || !this.child.connected) return;
    this.child.send(message, (error) => {
      // The child died meanwhile: the exit handler reports it.
      if (error) this.child.kill("SIGKILL");
    });
  }

  kill(): void {
    if (this.exited) return;
    this.killedByUs = true;
    this.child.kill("SIGKILL");
  }

  killAndWait(): Promise<void> {
    return new Promise((resolve) => {
      this.onExit(() => resolve());
      // Unreferenced while spare; referenced now so the worker waits for the exit event.
      this.child.ref();
      this.kill();
    });
  }
}
