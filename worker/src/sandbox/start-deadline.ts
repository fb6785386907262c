import { readFileSync } from "node:fs";

/**
 * How long a sandbox child may take to start (SandboxProcess.readyFor). A wall-clock timeout alone
 * took a starved machine for a broken child: on CI's 2 cores, with the chaos suite's workers
 * restarting at once, a just-started worker's first child was not ready within 30 s, and each such
 * SANDBOX_START_TIMEOUT cost an attempt and counted toward the sandbox breaker's pause (three in a
 * row pause the worker), so an overloaded host could pause its workers when it most needed them.
 *
 * The time the child spent ready to run but waiting for a CPU (its run-queue wait, from
 * /proc/<pid>/schedstat) is not its fault, and is added to the deadline, up to MAX_START_STRETCH
 * times the timeout. A child that is stuck (blocked, stopped, spinning on nothing the kernel
 * counts as waiting) accrues none and times out as before.
 */
export const MAX_START_STRETCH = 4;

/** The deadline, in ms from the start of the wait, of a start given `timeoutMs` of its own time and `waitedMs` spent waiting for a CPU. */
export function startDeadlineMs(timeoutMs: number, waitedMs: number): number {
  return Math.min(timeoutMs + Math.max(0, waitedMs), timeoutMs * MAX_START_STRETCH);
}

/**
 * The run-queue wait of a process's main thread so far, in ms: the second field of
 * /proc/<pid>/schedstat (nanoseconds; the kernel's CONFIG_SCHED_INFO). Undefined where it cannot
 * be read (no pid yet, the process gone, another kernel): the deadline is then the timeout alone.
 */
export function runQueueWaitMs(pid: number | undefined, read: (file: string) => string = (file) => readFileSync(file, "utf8")): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const waitedNs = Number(read(`/proc/${pid}/schedstat`).trim().split(/\s+/)[1]);
    return Number.isFinite(waitedNs) ? waitedNs / 1e6 : undefined;
  } catch {
    return undefined;
  }
}
