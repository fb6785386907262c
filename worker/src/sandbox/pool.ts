import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { loadDatasetInputs } from "@goat/contracts/dataset/task-dataset";
import { usableCores } from "@goat/contracts/usable-cores";
import { ParticipantFault, PlatformFault } from "../faults";
import { evaluationDevice, knownGoodModelFails, mayBeTheHosts } from "./host-check";
import { NvidiaSmi, type GpuProcessProbe } from "../gpu/nvidia-smi";
import { prepareChildLaunch, sandboxChildEntry, type ChildLaunch } from "./child-bundle";
import { childMallocEnv, hostTransparentHugePages, type HugePagesSetting } from "./huge-pages";
import { planIsolation, sandboxChildEnv, type IsolationPlan, type UidRange } from "./isolation";
import type { MemoryFigures, SandboxLimits } from "./limit-watch";
import { onnxruntimePackageDir, type ExecutionProviderConfig } from "../onnx/execution-provider";
import { buildWarmupModel, warmupInputs } from "../onnx/warmup-model";
import { createPrivateRoot, stageInputs, stageModel, stageWarmUp, type WarmUpFiles } from "./staging";
import type { ChildEvaluateRequest, EvaluateRequest, OutputBatch, SandboxResult, TaskInputs } from "./protocol";
import { ChildSpawner } from "./spawner";
import { SandboxProcess, type KeyedInputs } from "./sandbox-process";

export type { SandboxLimits } from "./limit-watch";

/**
 * Runs each evaluation in its own child process (child.ts) under a time limit (its own time: own-time-deadline.ts) and a memory
 * limit, so a model that crashes, hangs or allocates without bound fails its submission
 * only. One process per evaluation: nothing a hostile model does survives it.
 *
 * Speed: starting Node + onnxruntime (~100 ms), the first session (~36 ms), opening the test
 * inputs (files staged once per dataset version) and reading their first batch are paid by a SPARE
 * process; an evaluation that finds a spare ready pays only for its own session and inference
 * (the next batches are read while the model runs: input-batches.ts).
 *
 * This module is the pool: which child an evaluation gets, when the next spare starts, the test
 * inputs keyed by dataset version. One child's start, IPC and evaluation are sandbox-process.ts;
 * the limits watched while it runs, limit-watch.ts; the model's private copy, model-staging.ts.
 */

export type SandboxRun = SandboxResult &
  MemoryFigures & {
    /** How long the evaluation waited for a ready sandbox (0 when a warm spare was there). */
    sandboxWaitMs: number;
  };

export interface EvaluationHooks {
  /**
   * Called once the child has been told to evaluate: work of the caller's that need not delay the
   * evaluation (an event, a log line) runs from here while the model runs, on this process's thread.
   */
  onEvaluating?: () => void;
  /**
   * Each batch's outputs as the child sends them, in row order, while the model runs the next one
   * (the caller checks and scores them there). What it throws ends the evaluation with that fault.
   */
  onBatch?: (batch: OutputBatch) => void;
}

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
  /** Transparent huge pages for the child's malloc heap where the kernel has them (huge-pages.ts); `auto` by default. */
  hugePages?: HugePagesSetting;
  logger?: { warn(message: string): void };
}

const DEFAULTS = { maxSpare: 1, heapMb: 2048, startTimeoutMs: 30_000, memoryPollMs: 25, gpuMemoryPollMs: 500, spareStart: "auto" as const };
/**
 * When an evaluation's child is killed and the next spare starts (unless it started during the
 * run): when the caller says its result is stored (resultStored()), or this long after the
 * evaluation at the latest.
 */
const AFTER_RESULT_DEADLINE_MS = 1_000;

export class SandboxPool {
  private readonly opts: Required<Omit<SandboxPoolOptions, "childEntry" | "logger" | "gpuMemoryProbe" | "hidePaths" | "sandboxUser" | "hugePages">> & {
    childEntry: string;
  };
  private readonly hidePaths: string[];
  private readonly sandboxUser: string | null | undefined;
  private isolation: IsolationPlan | undefined;
  /** Each child's environment: what onnxruntime needs of the worker's (isolation.ts) and the malloc tunable (huge-pages.ts). */
  private readonly childEnv: Record<string, string>;
  /** Private folders holding each evaluation's model copy; the only model the child can open. */
  private readonly privateRoot: string;
  /** The warm-up model's file and its inputs', which every child runs its evaluation code on before it is ready. */
  private readonly warmUpFiles: WarmUpFiles;
  /** The test inputs of the last task and dataset version, read once here and staged as files for the children. */
  private inputs: (KeyedInputs & { sourceKey: string }) | undefined;
  private stagings = 0;
  private readonly gpuMemoryProbe: GpuProcessProbe;
  private readonly logger: { warn(message: string): void };
  private spares: SandboxProcess[] = [];
  private readonly all = new Set<SandboxProcess>();
  private hint: TaskInputs | undefined;
  private closed = false;
  private launch: ChildLaunch | undefined;
  /** Starts the children, so that this process never forks for them (spawner.ts). */
  private spawnerOf: ChildSpawner | undefined;
  /** the child evaluating now, for cancelRunning() */
  private evaluating: SandboxProcess | undefined;
  /** the last evaluation's child's kill and the next spare's start, held until resultStored() or AFTER_RESULT_DEADLINE_MS */
  private heldUntilStored: (() => void) | undefined;
  /** cores this process can keep busy (the container's CPU quota counted), read once */
  private readonly cores = usableCores();
  /** the execution provider on which a known-good model last failed (host-check.ts), until it runs again */
  private hostFaultOn: ExecutionProviderConfig | undefined;

  constructor(opts: SandboxPoolOptions = {}) {
    this.opts = {
      childEntry: opts.childEntry ?? sandboxChildEntry(),
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
    this.childEnv = { ...sandboxChildEnv(), ...childMallocEnv(opts.hugePages ?? "auto", hostTransparentHugePages()) };
    this.privateRoot = createPrivateRoot();
    this.warmUpFiles = stageWarmUp(this.privateRoot, buildWarmupModel(), warmupInputs());
  }

  /**
   * The task's test inputs, read in the worker (the child opens no dataset file), keyed by the
   * dataset version and the signature: a spare holding another version's inputs gets these first.
   */
  private inputsFor(task: TaskInputs): KeyedInputs {
    const source = task.dataset ? ["version", task.dataset.version] : ["folder", task.datasetDir];
    const sourceKey = createHash("sha256").update(JSON.stringify([...source, task.inputSpecs])).digest("hex").slice(0, 24);
    if (this.inputs?.sourceKey !== sourceKey) {
      // Each staging gets its own key: a child told to read an earlier staging's files (removed
      // below) is told again, never taken as holding these.
      const key = `${sourceKey}.${++this.stagings}`;
      const loaded = task.dataset
        ? task.dataset.loadInputs()
        : task.datasetDir !== undefined
          ? loadDatasetInputs(task.datasetDir, task.inputSpecs)
          : Promise.reject(new Error("no test inputs given"));
      // Only the staged files are kept: the arrays are garbage once written (the child reads the files).
      const staged = loaded.then(
        (arrays) => stageInputs(this.privateRoot, arrays),
        (e: unknown) => {
          if (e instanceof PlatformFault) throw e;
          const from = task.dataset ? `version ${task.dataset.version.slice(0, 12)}` : task.datasetDir;
          throw new PlatformFault("DATASET_UNAVAILABLE", `cannot read test inputs from ${from}: ${(e as Error).message}`, { cause: e });
        },
      );
      staged.catch(() => undefined); // reported by the evaluation that needs them
      // The previous version's files go: a spare told to read them and then these reads these.
      void this.inputs?.staged.then((old) => old.remove(), () => undefined);
      this.inputs = { sourceKey, key, staged };
    }
    // The latest batch size asked for: a spare told a different one sets its buffers aside again in the evaluation.
    if (task.batchSize !== undefined) this.inputs.batchRows = task.batchSize;
    return this.inputs;
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
  async evaluate(request: EvaluateRequest, limits: SandboxLimits, hooks: EvaluationHooks = {}): Promise<SandboxRun> {
    if (this.closed) throw new PlatformFault("POOL_CLOSED", "the sandbox pool is closed");
    this.resultStored(); // the last evaluation's, if its caller has not said so: a new one is here
    const task: TaskInputs = { dataset: request.dataset, datasetDir: request.datasetDir, inputSpecs: request.inputSpecs, batchSize: request.batchSize };
    this.hint = task;
    const inputs = this.inputsFor(task);
    await inputs.staged;

    const model = await stageModel(this.privateRoot, request.modelPath, this.childUids());
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
    let returned = false;
    try {
      if (overlap && !sandbox.isReady) setImmediate(startNext); // cold: start both at once
      await sandbox.readyFor(inputs.key, this.opts.startTimeoutMs);
      const sandboxWaitMs = performance.now() - waitStarted;
      const running = sandbox.run(
        childRequest,
        limits,
        this.opts.memoryPollMs,
        { probe: this.gpuMemoryProbe, pollMs: this.opts.gpuMemoryPollMs, logger: this.logger },
        hooks.onBatch,
      );
      hooks.onEvaluating?.();
      // After the evaluate message is out: spawn() blocks this thread for a few ms.
      if (overlap) setImmediate(startNext);
      const { result, memory } = await running;
      returned = true;
      for (const w of result.warnings) this.logger.warn(w);
      return { ...result, inputsPreloaded, sandboxWaitMs, ...memory };
    } catch (error) {
      // The raw cause of a participant's fault (onnxruntime's own text) is for this log only.
      if (error instanceof ParticipantFault && error.logDetail) this.logger.warn(`model fault ${error.code}: ${error.logDetail.slice(0, 2000)}`);
      // A crash (or a GPU error) stands as the model's only if a known-good model still runs here.
      const device = evaluationDevice(request.executionProvider.provider, sandbox.backends);
      if (error instanceof ParticipantFault && !this.closed && mayBeTheHosts(error, device)) {
        const failure = await this.knownGoodModelFails(request.executionProvider);
        if (failure !== undefined) {
          throw new PlatformFault(
            "HOST_FAULT",
            `the model's evaluation ended with ${error.code}, and a known-good model then failed on this worker too (${failure}): the host's fault, not the model's`,
            { cause: error },
          );
        }
      }
      throw error;
    } finally {
      if (this.evaluating === sandbox) this.evaluating = undefined;
      // A child that failed, overran or crashed is killed now. One that returned its outputs sits
      // idle, its model done, until the caller has stored the result (resultStored()): killing a
      // process of 100-200 MB blocks this thread 1.5-4.5 ms, and the next spare's spawn() forks
      // this process, which blocks it 12-19 ms for a worker of ~380 MB (measured, `npm run bench`);
      // neither delays the result's transaction.
      if (!returned) sandbox.kill();
      this.holdUntilStored(() => {
        sandbox.kill();
        startNext();
      });
      model.remove().catch((error: Error) => this.logger.warn(`could not remove a staged model: ${error.message}`));
    }
  }

  /**
   * Resolves once every spare is started and holds the last task's inputs (their first batches): as
   * a spare taken at once is. One that waits on does its idle work: sparesSettled().
   */
  async sparesReady(): Promise<void> {
    this.resultStored(); // the spare a just-finished evaluation left to start
    const inputsKey = this.spareInputsKey();
    await Promise.all(this.spares.map((spare) => spare.readyFor(inputsKey, this.opts.startTimeoutMs)));
  }

  /**
   * Resolves once every spare is ready and has done what a waiting spare does (its test set read
   * whole, its allocator primed: child.ts, idleWork): no sandbox process uses CPU until the next
   * evaluation. The evaluation benchmark's quiet machine; tests of what a spare that waited holds.
   */
  async sparesSettled(): Promise<void> {
    this.resultStored();
    const inputsKey = this.spareInputsKey();
    if (inputsKey === "") return this.sparesReady(); // no inputs yet: a spare has no idle work
    await Promise.all(this.spares.map((spare) => spare.settledFor(inputsKey, this.opts.startTimeoutMs)));
  }

  /**
   * Starts a sandbox process and waits until it is ready: a spare, kept (or, for a pool without
   * spares, one that is killed once ready). Rejects as an evaluation's start would
   * (SANDBOX_START_FAILED, SANDBOX_START_TIMEOUT, SANDBOX_LOST). The check of a worker that paused
   * because its sandbox would not start (sandbox-breaker.ts). After a known-good model failed here
   * (HOST_FAULT), the check also runs it again, and rejects with HOST_FAULT while it fails.
   */
  async checkStart(): Promise<void> {
    if (this.closed) throw new PlatformFault("POOL_CLOSED", "the sandbox pool is closed");
    this.fillSpares();
    if (this.spares.length > 0) await this.sparesReady();
    else {
      const probe = this.spawn();
      try {
        await probe.readyFor(this.spareInputsKey(), this.opts.startTimeoutMs);
      } finally {
        probe.kill();
      }
    }
    const faultedOn = this.hostFaultOn;
    if (faultedOn === undefined) return;
    const failure = await this.knownGoodModelFails(faultedOn);
    if (failure !== undefined) throw new PlatformFault("HOST_FAULT", `a known-good model still fails on this worker (${failure})`);
  }

  /**
   * Runs the known-good model in a fresh sandbox process with `provider` (host-check.ts): undefined
   * when it ran, else what went wrong. Remembered until it runs again, for checkStart.
   */
  private async knownGoodModelFails(provider: ExecutionProviderConfig): Promise<string | undefined> {
    const failure = await knownGoodModelFails(this.spawn(), this.warmUpFiles, provider, {
      startTimeoutMs: this.opts.startTimeoutMs,
      memoryPollMs: this.opts.memoryPollMs,
      gpu: { probe: this.gpuMemoryProbe, pollMs: this.opts.gpuMemoryPollMs, logger: this.logger },
    });
    this.hostFaultOn = failure === undefined ? undefined : provider;
    if (failure !== undefined) this.logger.warn(`a known-good model failed on this worker (${provider.provider}): ${failure}`);
    return failure;
  }

  /** The key of the inputs the spares hold (the last task's), or "" before any. */
  private spareInputsKey(): string {
    return this.hint ? this.inputsFor(this.hint).key : "";
  }

  /**
   * The caller has stored the last evaluation's result: its child is killed and the next spare
   * starts (unless it started during the evaluation). Nothing when that was done already.
   */
  resultStored(): void {
    const held = this.heldUntilStored;
    this.heldUntilStored = undefined;
    held?.();
  }

  private holdUntilStored(work: () => void): void {
    this.heldUntilStored = work;
    setTimeout(() => {
      if (this.heldUntilStored === work) this.resultStored();
    }, AFTER_RESULT_DEADLINE_MS).unref();
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
   * A starting child burns ~0.15 s of CPU on several threads (V8, onnxruntime's first session,
   * reading the inputs). On a small CPU host that slowed a concurrent 784-512-512-10 MLP
   * evaluation by ~50% (measured on 2 cores: 300 ms instead of 200 ms), which is worse than
   * waiting ~0.2 s for the spare before the next evaluation. With cores to spare (or on a
   * GPU, which the start-up does not touch) overlapping costs nothing and hides the start. Cores
   * are counted under the container's CPU quota (usableCores): a 1-CPU worker container on a big
   * host has one.
   */
  private spareOverlapsEvaluation(request: EvaluateRequest): boolean {
    if (this.opts.spareStart !== "auto") return this.opts.spareStart === "with-evaluation";
    if (request.executionProvider.provider !== "cpu") return true;
    return this.cores >= Math.max(1, request.executionProvider.intraOpThreads) + 3;
  }

  /** Kill every child, spare or running, and wait until they are gone. */
  async close(): Promise<void> {
    this.closed = true;
    this.heldUntilStored = undefined;
    const all = [...this.all];
    this.spares = [];
    await Promise.all(all.map((p) => p.killAndWait()));
    await this.spawnerOf?.close();
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

  /** The children's launcher (spawner.ts), under the parent-death signal where the host has it. */
  private spawner(): ChildSpawner {
    this.spawnerOf ??= new ChildSpawner((node, args) => this.isolationPlan().wrapLauncher(node, args));
    return this.spawnerOf;
  }

  /** The launcher's pid while it runs (tests). */
  get launcherPid(): number | undefined {
    return this.spawnerOf?.launcherPid;
  }

  /** How the children start (the bundled child script), prepared once. */
  private childLaunch(): ChildLaunch {
    if (!this.launch) {
      this.launch = prepareChildLaunch(this.opts.childEntry);
      if (this.launch.fallback) this.logger.warn(`sandbox: the child could not be bundled (${this.launch.fallback}); it runs under tsx, ~0.5 s slower to start`);
    }
    return this.launch;
  }

  private isolationPlan(): IsolationPlan {
    if (!this.isolation) {
      const launch = this.childLaunch();
      this.isolation = planIsolation({
        hidePaths: this.hidePaths,
        keepPaths: [
          launch.entry,
          this.opts.childEntry,
          onnxruntimePackageDir(),
          process.execPath,
          this.privateRoot,
        ],
        user: this.sandboxUser,
      });
      for (const warning of this.isolation.warnings) this.logger.warn(warning);
    }
    return this.isolation;
  }

  /** Whether the children's malloc heap asks for transparent huge pages (huge-pages.ts): the setting, and the kernel's THP. */
  get childHugePages(): boolean {
    return this.childEnv.GLIBC_TUNABLES !== undefined;
  }

  /** The uids the children run as (isolation.ts drops root to one of CHILD_UIDS per child; else the worker's own). */
  private childUids(): UidRange | undefined {
    const own = process.getuid?.();
    return this.isolationPlan().uids ?? (own === undefined ? undefined : { first: own, count: 1 });
  }

  private spawn(): SandboxProcess {
    const sandbox = new SandboxProcess(this.spawner(), this.childLaunch(), this.opts.heapMb, this.isolationPlan(), this.privateRoot, this.warmUpFiles, this.childEnv);
    this.all.add(sandbox);
    sandbox.onExit(() => {
      this.all.delete(sandbox);
      this.spares = this.spares.filter((s) => s !== sandbox);
    });
    return sandbox;
  }
}
