import { readFileSync } from "node:fs";
import type { ComputeApp, GpuProcessProbe } from "./nvidia-smi";

/**
 * Holds one process to a GPU memory limit by asking nvidia-smi what it uses, and reports each
 * reading (the sandbox keeps the highest as the model's peak GPU memory).
 *
 * Why not onnxruntime's own `gpu_mem_limit`: onnxruntime-node 1.30 passes only `deviceId`
 * to the CUDA execution provider and drops every other option (see
 * onnx/execution-provider.ts), so the limit would be silently ignored. The sandbox pool does
 * the same for resident memory with /proc; this is its GPU counterpart.
 *
 * What nvidia-smi counts per process is everything the process holds on the device: the CUDA
 * context (a few hundred MiB, before the model allocates anything), cuDNN/cuBLAS workspaces
 * and onnxruntime's arena. A limit must leave room for the context.
 *
 * Polling, not an event: a model can overshoot between two polls, and a single allocation
 * larger than the free memory fails inside CUDA (the evaluation then reports the model's
 * error) before the watch sees it. The watch is what stops a model from squeezing the
 * six other workers on a shared GPU.
 *
 * PIDs: the driver reports host PIDs, whatever PID namespace nvidia-smi runs in
 * (https://github.com/NVIDIA/nvidia-docker/issues/1483). A worker in a container with its own
 * PID namespace never finds its child in the list, so the limit is not enforced there; run
 * such containers with `--pid=host` (compose: `pid: host`) to enforce it.
 */

export interface GpuMemoryWatchOptions {
  /** The process held to the limit; its descendants' memory counts too. */
  pid: number;
  /** No limit: the watch only reports what it reads (the evaluation's peak GPU memory). */
  limitBytes?: number;
  smi: GpuProcessProbe;
  intervalMs?: number;
  /** Called once, with the bytes in use, the first time the use is over the limit. */
  onExceeded(usedBytes: number): void;
  /** Called with the bytes in use after each answer that reports them (0: no context on any GPU). */
  onReading?(usedBytes: number): void;
  logger?: { warn(message: string): void };
  /** Parent of a process (Linux: /proc/<pid>/stat); injected by tests. */
  parentPid?: (pid: number) => number | undefined;
}

const MIB = 1024 * 1024;
/** How far up the process tree a GPU process may be from the watched one. */
const MAX_DEPTH = 8;

/** What was last logged per probe, so a host without nvidia-smi says so once, not per evaluation. */
const loggedFor = new WeakMap<GpuProcessProbe, string>();

function warnOnce(probe: GpuProcessProbe, logger: { warn(message: string): void }, message: string): void {
  if (loggedFor.get(probe) === message) return;
  loggedFor.set(probe, message);
  logger.warn(message);
}

/** Start watching; returns `stop()`, which ends the watch (a poll in flight is then ignored). */
export function watchGpuMemory(opts: GpuMemoryWatchOptions): () => void {
  const intervalMs = opts.intervalMs ?? 500;
  const logger = opts.logger ?? { warn: (m: string) => console.warn(`[gpu] ${m}`) };
  const parentPid = opts.parentPid ?? procParentPid;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const notDone = opts.limitBytes === undefined ? "GPU memory not measured" : "GPU memory limit not enforced";

  const stop = () => {
    stopped = true;
    clearTimeout(timer);
  };

  const poll = async () => {
    let apps: ComputeApp[] | null;
    try {
      apps = await opts.smi.queryComputeApps();
    } catch (e) {
      // NvidiaSmi does not throw; a probe that does is treated as unavailable.
      apps = null;
      if (!stopped) warnOnce(opts.smi, logger, `${notDone}: ${(e as Error).message ?? e}`);
    }
    if (stopped) return;
    if (apps === null) {
      warnOnce(opts.smi, logger, `${notDone}: ${opts.smi.lastFailure ?? "nvidia-smi unavailable"}`);
    } else {
      const used = usedBytesOf(opts.pid, apps, parentPid);
      if (used.unreported) {
        warnOnce(opts.smi, logger, `${notDone}: nvidia-smi does not report per-process memory on this host (MIG?)`);
      }
      if (!used.unreported) opts.onReading?.(used.bytes);
      if (opts.limitBytes !== undefined && used.bytes > opts.limitBytes) {
        stop();
        opts.onExceeded(used.bytes);
        return;
      }
    }
    timer = setTimeout(poll, intervalMs);
    timer.unref();
  };

  void poll();
  return stop;
}

/** GPU memory of `pid` and its descendants, summed over every GPU. */
export function usedBytesOf(
  pid: number,
  apps: readonly ComputeApp[],
  parentPid: (pid: number) => number | undefined = procParentPid,
): { bytes: number; unreported: boolean } {
  let bytes = 0;
  let unreported = false;
  for (const app of apps) {
    if (!isSelfOrDescendant(app.pid, pid, parentPid)) continue;
    if (app.usedMemoryMiB === null) unreported = true;
    else bytes += app.usedMemoryMiB * MIB;
  }
  return { bytes, unreported };
}

function isSelfOrDescendant(candidate: number, ancestor: number, parentPid: (pid: number) => number | undefined): boolean {
  let p: number | undefined = candidate;
  for (let depth = 0; p !== undefined && p > 1 && depth <= MAX_DEPTH; depth++) {
    if (p === ancestor) return true;
    p = parentPid(p);
  }
  return false;
}

/** The parent of a process, from /proc/<pid>/stat (Linux); undefined when unreadable. */
export function procParentPid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ppid = Number(fields[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined;
  }
}
