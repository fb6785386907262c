import { ParticipantFault, PlatformFault } from "../faults";
import type { ChildLaunch } from "./child-bundle";
import type { IsolationPlan } from "./isolation";
import { memoryLimitFault, watchLimits, type GpuWatchSettings, type MemoryFigures, type SandboxLimits } from "./limit-watch";
import { judgeKernelKill, processMemoryCgroup, readMemoryRoom, type MemoryRoom } from "./memory-cgroup";
import type { StagedInputs, WarmUpFiles } from "./staging";
import { OutputAssembly } from "./output-assembly";
import { ownTimeDeadline } from "./own-time-deadline";
import type { ChildSpawner, SpawnedChild, SpawnedExit } from "./spawner";
import { DIES_WITH_PARENT, WARM_UP_INPUTS_ARG, WARM_UP_MODEL_ARG, type ChildEvaluateRequest, type ChildMessage, type OutputBatch, type OutputTensor, type ParentMessage, type SandboxResult } from "./protocol";

/**
 * One sandbox child process (child.ts), from its start to its exit: the spawn through the isolation
 * wrappers (by the pool's launcher: spawner.ts), the IPC messages of protocol.ts (ready, prepare/prepared, evaluate -> result | error),
 * and its one evaluation under the limit watch (limit-watch.ts). The pool (pool.ts) decides when a
 * child starts and which evaluation it gets; a child evaluates once and is killed.
 */

export type ExitInfo = SpawnedExit;

/** The test inputs of one task and dataset version, under an opaque key the child echoes back. */
export interface KeyedInputs {
  key: string;
  /** The inputs as files the child reads (staging.ts); rejects with the platform fault of a failed read. */
  staged: Promise<StagedInputs>;
  /** The batch size the evaluations of these inputs use, when known: a spare reads its first batch ahead. */
  batchRows?: number;
}

/**
 * Children alive in this process, killed if the worker exits without `close()` (at once, by pid: the
 * launcher would only hear of it after this process is gone; it dies with it, and they with it).
 */
const liveChildren = new Set<SpawnedChild>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const child of liveChildren) {
      try {
        if (child.pid !== undefined && child.exitInfo === undefined) process.kill(child.pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
  });
}

export class SandboxProcess {
  private readonly child: SpawnedChild;
  private readonly readyPromise: Promise<void>;
  isReady = false;
  /** The execution providers onnxruntime can run here, as the child said when ready (none until then). */
  backends: readonly string[] = [];
  private preparedKey: string | undefined;
  private readonly prepared = new Map<string, Promise<void>>();
  private readonly preparedDone = new Set<string>();
  /** Inputs the child could not read, with its reason (their files removed meanwhile: another version came). */
  private readonly prepareFailures = new Map<string, string>();
  private prepareWaiters = new Map<string, () => void>();
  /** Per inputs key: resolved once the child has done its idle work for them (`settled`), or has exited. */
  private readonly settled = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  private messageHandler: ((m: ChildMessage) => void) | undefined;
  private readonly exitHandlers: ((info: ExitInfo) => void)[] = [];
  private stderrTail = "";
  exitInfo: ExitInfo | undefined;
  private killedByUs = false;

  /** `env`: the child's whole environment (the pool's: sandboxChildEnv and the malloc tunable). */
  constructor(spawner: ChildSpawner, launch: ChildLaunch, heapMb: number, isolation: IsolationPlan, cwd: string, warmUp: WarmUpFiles, env: Record<string, string>) {
    installExitHook();
    // spawned with an IPC channel, as fork() would, through the isolation wrappers (which exec, so
    // the pid is the node process's: the memory watch reads the right /proc entry).
    // --expose-gc: the child collects after receiving its inputs, so its baseline RSS holds no garbage.
    // DIES_WITH_PARENT: the kernel kills it with the worker, so it needs no watchdog thread of its own.
    const childArgs = [`${WARM_UP_MODEL_ARG}${warmUp.model}`, `${WARM_UP_INPUTS_ARG}${warmUp.inputs}`, ...(isolation.diesWithParent ? [DIES_WITH_PARENT] : [])];
    const { command, args } = isolation.wrap(process.execPath, [...launch.execArgv, `--max-old-space-size=${heapMb}`, "--expose-gc", launch.entry, ...childArgs]);
    this.child = spawner.spawn(command, args, { cwd, env });
    liveChildren.add(this.child);
    // A spare waiting for work must not keep the worker alive on its own.
    this.child.unref();
    this.child.stderr.on("data", (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString("utf8")).slice(-4000);
    });

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
        this.backends = m.backends ?? [];
        onReady();
      }
      else if (m.type === "prepared") {
        if (m.failure === undefined) this.preparedDone.add(m.inputsKey);
        else this.prepareFailures.set(m.inputsKey, m.failure);
        this.prepareWaiters.get(m.inputsKey)?.();
      }
      else if (m.type === "settled") this.settledSignal(m.inputsKey).resolve();
      else this.messageHandler?.(m);
    });
    const onGone = (info: ExitInfo, error?: Error) => {
      if (this.exitInfo) return;
      this.exitInfo = info;
      liveChildren.delete(this.child);
      const how = error ? error.message : info.signal ? `signal ${info.signal}` : `exit code ${info.code}`;
      onFail(new PlatformFault("SANDBOX_START_FAILED", `sandbox process ended before it was ready (${how})${this.stderrSuffix()}`));
      for (const w of this.prepareWaiters.values()) w();
      for (const signal of this.settled.values()) signal.resolve();
      for (const h of this.exitHandlers) h(info);
    };
    let startError: Error | undefined;
    // The spawn failed (an exit follows at once, with no pid).
    this.child.on("error", (error: Error) => (startError = error));
    this.child.on("exit", (info: ExitInfo) => onGone(info, startError));
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
  prepare(inputs: KeyedInputs): void {
    const { key } = inputs;
    if (this.exited || this.preparedKey === key) return;
    this.preparedKey = key;
    this.prepared.set(key, new Promise<void>((resolve) => this.prepareWaiters.set(key, resolve)));
    inputs.staged.then(
      (staged) => this.send({ type: "prepare", inputsKey: key, files: staged.files, batchRows: inputs.batchRows }),
      () => this.prepareWaiters.get(key)?.(), // the evaluation reports the failed read
    );
  }

  /** Whether the child holds these inputs already (a warm spare). */
  hasPrepared(key: string): boolean {
    return this.preparedDone.has(key);
  }

  /** Ready (runtime warm) and holding the task's inputs. */
  async readyFor(inputsKey: string, startTimeoutMs: number): Promise<void> {
    // A warm spare (ready, its inputs answered) waits for nothing: no deadline to watch, no /proc
    // read on the evaluation's path.
    const answered = this.preparedDone.has(inputsKey) || this.prepareFailures.has(inputsKey);
    if (!(this.isReady && answered)) {
      await this.within(startTimeoutMs, "not ready", async (timeout) => {
        await Promise.race([this.readyPromise, timeout]);
        await Promise.race([this.prepared.get(inputsKey) ?? Promise.resolve(), timeout]);
      });
    }
    const failure = this.prepareFailures.get(inputsKey);
    if (failure !== undefined) throw new PlatformFault("SANDBOX_START_FAILED", `sandbox process could not read the test inputs: ${failure}`);
  }

  /**
   * Ready for these inputs and done with a waiting spare's idle work (the test set read whole, the
   * allocator primed): the child uses no CPU until its evaluation. For measurements on a quiet
   * machine (`npm run bench`) and tests; the evaluation path never waits for it.
   */
  async settledFor(inputsKey: string, timeoutMs: number): Promise<void> {
    await this.readyFor(inputsKey, timeoutMs);
    if (this.exited) return;
    const { promise } = this.settledSignal(inputsKey);
    await this.within(timeoutMs, "not settled", (timeout) => Promise.race([promise, timeout]));
  }

  private settledSignal(inputsKey: string): { promise: Promise<void>; resolve: () => void } {
    let signal = this.settled.get(inputsKey);
    if (!signal) {
      let resolve!: () => void;
      const promise = new Promise<void>((done) => (resolve = done));
      signal = { promise, resolve };
      this.settled.set(inputsKey, signal);
    }
    return signal;
  }

  /**
   * Runs `wait` against a timeout it is given to race with: a SANDBOX_START_TIMEOUT once `ms` of the
   * child's own time have passed, not counting the time it waited for a CPU (own-time-deadline.ts: a
   * starved machine is not a broken child), at most MAX_STRETCH x `ms` in all.
   */
  private async within(ms: number, what: string, wait: (timeout: Promise<never>) => Promise<void>): Promise<void> {
    let deadline: { cancel(): void } | undefined;
    const timeout = new Promise<never>((_, reject) => {
      deadline = ownTimeDeadline(
        () => this.child.pid,
        ms,
        ({ elapsedMs, waitedMs }) => {
          const stretch = waitedMs >= 1 ? `, ${Math.round(waitedMs)} ms of it waiting for a CPU` : "";
          reject(new PlatformFault("SANDBOX_START_TIMEOUT", `sandbox process ${what} after ${Math.round(elapsedMs)} ms (timeout ${ms} ms${stretch})${this.stderrSuffix()}`));
        },
      );
    });
    timeout.catch(() => undefined);
    try {
      await wait(timeout);
    } finally {
      deadline?.cancel();
    }
  }

  /** The one evaluation of this child, under the limits; the child's result, or the fault. */
  run(
    request: ChildEvaluateRequest,
    limits: SandboxLimits,
    memoryPollMs: number,
    gpu: GpuWatchSettings,
    onBatch?: (batch: OutputBatch) => void,
  ): Promise<{ result: SandboxResult; memory: MemoryFigures }> {
    return new Promise((resolve, reject) => {
      if (this.exited) {
        reject(new PlatformFault("SANDBOX_START_FAILED", "sandbox process ended before the evaluation started"));
        return;
      }
      let settled = false;
      // The room the model has: read below, once the child is told to start.
      let room: MemoryRoom | undefined = undefined;
      const finish = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        watch.stop();
        this.messageHandler = undefined;
        outcome();
      };
      const watch = watchLimits({
        pid: this.child.pid!,
        limits,
        memoryPollMs,
        executionProvider: request.executionProvider,
        gpu,
        isGone: () => this.exited,
        onBreach: (fault) => {
          this.kill();
          finish(() => reject(fault));
        },
      });

      const assembly = new OutputAssembly();
      this.messageHandler = (m) => {
        if (m.type === "batch") {
          try {
            assembly.add(m);
            onBatch?.(m);
          } catch (fault) {
            this.kill();
            finish(() => reject(fault));
          }
        } else if (m.type === "result") {
          const memory = watch.finalFigures(m.result.maxRssBytes);
          const { rows, outputNames, ...figures } = m.result;
          let outputs: OutputTensor[];
          try {
            outputs = assembly.finish(rows, outputNames);
          } catch (fault) {
            finish(() => reject(fault));
            return;
          }
          finish(() => (memory instanceof ParticipantFault ? reject(memory) : resolve({ result: { ...figures, outputs }, memory })));
        } else if (m.type === "error") {
          const { kind, code, message, logDetail } = m.error;
          finish(() => reject(kind === "participant" ? new ParticipantFault(code, message, { logDetail }) : new PlatformFault(code, message)));
        }
      };

      this.onExit((info) => {
        finish(() => {
          if (info.lostWithLauncher) {
            reject(new PlatformFault("SANDBOX_LOST", "the sandbox launcher died, and the evaluation process with it"));
            return;
          }
          const how = info.signal ? `signal ${info.signal}` : `exit code ${info.code}`;
          const killedByKernel = info.signal === "SIGKILL" && !this.killedByUs;
          // The OOM killer's, where the cgroup says so (memory-cgroup.ts): whose fault is told by the room the model had.
          const verdict = killedByKernel && room ? judgeKernelKill(room, processMemoryCgroup()?.read(), limits.memoryMb) : undefined;
          if (verdict?.fault === "participant") {
            reject(memoryLimitFault(limits));
            return;
          }
          if (verdict?.fault === "platform") {
            reject(
              new PlatformFault(
                "HOST_OUT_OF_MEMORY",
                `the kernel's OOM killer stopped the evaluation process: this worker's container or host had ${verdict.roomMb} MB for the model, ` +
                  `less than the task's ${limits.memoryMb} MB limit (give the worker more memory, or lower the task's limit)`,
              ),
            );
            return;
          }
          const oom = killedByKernel ? ", likely out of memory" : "";
          reject(
            new ParticipantFault("CRASHED", `The model crashed the evaluation process (${how}${oom})`, {
              cause: new Error(`sandbox exit: ${how}${this.stderrSuffix()}`),
            }),
          );
        });
      });

      this.send({ type: "evaluate", request });
      // Read while the child starts on it (for a kill by the kernel, above).
      room = readMemoryRoom();
    });
  }

  private send(message: ParentMessage): void {
    if (this.exited || !this.child.connected) return;
    this.child.send(message, (error) => {
      // The child died meanwhile: the exit handler reports it.
      if (error) this.child.kill();
    });
  }

  kill(): void {
    if (this.exited) return;
    this.killedByUs = true;
    this.child.kill();
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
