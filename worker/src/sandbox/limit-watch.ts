import { readFileSync } from "node:fs";
import { ParticipantFault, PlatformFault } from "../faults";
import { watchGpuMemory } from "../gpu/gpu-memory-watch";
import type { GpuProcessProbe } from "../gpu/nvidia-smi";
import type { ExecutionProviderConfig } from "../onnx/execution-provider";
import { MAX_STRETCH, ownTimeDeadline, type DeadlineTimes } from "./own-time-deadline";

/**
 * The limits one evaluation runs under, watched from the parent while the child works: the time
 * limit (the child's own time: the wall less what it waited for a CPU, own-time-deadline.ts), resident memory over the child's baseline (polled from /proc), and on CUDA the
 * GPU memory nvidia-smi reports (gpu/gpu-memory-watch.ts). The same samples give the result's peak
 * memory figures. A breach is the participant's fault; the caller kills the child.
 */

export interface SandboxLimits {
  /**
   * Time limit of the evaluation (session creation + inference), not of the sandbox start: the
   * child's own time, not counting what it waited for a CPU on a loaded host (own-time-deadline.ts).
   */
  timeoutMs: number;
  /**
   * What the MODEL may add to the child's resident memory (onnxruntime's native allocations
   * included): counted over the child's baseline, its RSS with the runtime loaded and the test
   * inputs opened (two batches' read buffers, and the whole test set when the spare had the time
   * to read it: input-batches.ts), read right before the evaluation starts. Large inputs do not
   * eat into the models' allowance.
   */
  memoryMb: number;
}

/** What the watch measured, as the evaluation's result reports it. */
export interface MemoryFigures {
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
}

export interface GpuWatchSettings {
  probe: GpuProcessProbe;
  pollMs: number;
  logger: { warn(message: string): void };
}

export interface LimitWatch {
  /** Reads the child's resident memory now, stops every timer and poll; idempotent. */
  stop(): void;
  /**
   * The figures once the child reported its result, with its own high-water mark; a MEMORY_LIMIT
   * fault when that mark shows a peak over the limit that fell between two samples.
   */
  finalFigures(childMaxRss: { atStart: number; atEnd: number }): MemoryFigures | ParticipantFault;
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}

export function memoryLimitFault(limits: SandboxLimits): ParticipantFault {
  return new ParticipantFault("MEMORY_LIMIT", `The model used more than ${limits.memoryMb} MB of memory`);
}

/**
 * The model's peak memory: the highest RSS sampled, or the child's own high-water mark when it rose
 * during the evaluation (before it, the mark may come from the warm-up or the priming), over the baseline.
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

/**
 * Whose fault an evaluation that reached its deadline is: the model's TIMEOUT when it had its whole
 * time limit of its own; the platform's HOST_OVERLOADED (retried, no quota) when the wall reached
 * MAX_STRETCH x the limit first, the model having waited for a CPU most of it.
 */
export function timeLimitFault(limits: Pick<SandboxLimits, "timeoutMs">, { elapsedMs, waitedMs }: DeadlineTimes): ParticipantFault | PlatformFault {
  const ownMs = elapsedMs - waitedMs;
  if (ownMs >= limits.timeoutMs) return new ParticipantFault("TIMEOUT", `The model took longer than the ${formatSeconds(limits.timeoutMs)} limit`);
  return new PlatformFault(
    "HOST_OVERLOADED",
    `the model had run ${Math.round(ownMs)} ms of its ${limits.timeoutMs} ms when ${Math.round(elapsedMs)} ms had passed (${MAX_STRETCH} x its limit), ` +
      `${Math.round(waitedMs)} ms of them waiting for a CPU: this host is overloaded (more workers or work than cores)`,
  );
}

/**
 * Starts watching the child `pid`, which is ready and holds its inputs: what it holds now is its
 * baseline, not the model's. `onBreach` is called once, with the participant's fault, when a limit
 * is crossed (or the platform's HOST_OVERLOADED: timeLimitFault); the watch has stopped by then.
 */
export function watchLimits(opts: {
  pid: number;
  limits: SandboxLimits;
  memoryPollMs: number;
  executionProvider: ExecutionProviderConfig;
  gpu: GpuWatchSettings;
  /** The child has exited (its /proc entry may belong to another process by now). */
  isGone(): boolean;
  onBreach(fault: ParticipantFault | PlatformFault): void;
}): LimitWatch {
  const { pid, limits } = opts;
  const limitBytes = limits.memoryMb * 1024 * 1024;
  const baseline = residentBytes(pid) ?? 0;
  let peak = baseline;
  let peakGpu: number | null = null;
  /** Reads the child's RSS now and keeps the highest; undefined once it is gone. */
  const sample = (): number | undefined => {
    const rss = opts.isGone() ? undefined : residentBytes(pid);
    if (rss !== undefined && rss > peak) peak = rss;
    return rss;
  };

  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    sample();
    deadline.cancel();
    clearInterval(poll);
    stopGpuWatch?.();
  };
  const breach = (fault: ParticipantFault | PlatformFault) => {
    if (stopped) return;
    stop();
    opts.onBreach(fault);
  };

  const deadline = ownTimeDeadline(
    () => pid,
    limits.timeoutMs,
    (times) => breach(timeLimitFault(limits, times)),
  );

  const poll = setInterval(() => {
    const rss = sample();
    if (rss !== undefined && rss - baseline > limitBytes) breach(memoryLimitFault(limits));
  }, opts.memoryPollMs);

  // CUDA asked for (a CPU fallback in the child just never shows up in nvidia-smi): the watch
  // measures the peak, and holds the child to the GPU memory limit when there is one.
  const gpuLimitBytes = opts.executionProvider.gpuMemLimitBytes;
  const stopGpuWatch =
    opts.executionProvider.provider !== "cpu"
      ? watchGpuMemory({
          pid,
          limitBytes: gpuLimitBytes !== undefined && gpuLimitBytes > 0 ? gpuLimitBytes : undefined,
          smi: opts.gpu.probe,
          intervalMs: opts.gpu.pollMs,
          logger: opts.gpu.logger,
          onReading: (usedBytes) => {
            if (peakGpu === null || usedBytes > peakGpu) peakGpu = usedBytes;
          },
          onExceeded: (usedBytes) => {
            const usedMb = Math.round(usedBytes / 1048576);
            const limitMb = Math.round(gpuLimitBytes! / 1048576);
            breach(new ParticipantFault("MEMORY_LIMIT", `The model used ${usedMb} MB of GPU memory (limit ${limitMb} MB)`));
          },
        })
      : undefined;

  return {
    stop,
    finalFigures(childMaxRss) {
      stop(); // the session and the outputs are still held: the last sample of the run
      const peakMemoryBytes = peakOverBaseline(baseline, peak, childMaxRss);
      // A peak between two samples that the child's own high-water mark shows counts too.
      if (peakMemoryBytes > limitBytes) return memoryLimitFault(limits);
      return { baselineRssBytes: baseline, peakMemoryBytes, peakGpuMemoryBytes: peakGpu };
    },
  };
}
