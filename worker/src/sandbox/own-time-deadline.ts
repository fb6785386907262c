import { readFileSync } from "node:fs";

/**
 * The deadlines of a sandbox child, counted in its own time: its start (SandboxProcess.readyFor,
 * 30 s) and its evaluation (the task's time limit: limit-watch.ts). Wall-clock timeouts took a
 * starved machine for a broken child or a slow model: on CI's 2 cores, with the chaos suite's
 * workers restarting at once, a just-started worker's first child was not ready within 30 s (a
 * SANDBOX_START_TIMEOUT, an attempt spent and a step toward the sandbox breaker's pause), and on a
 * loaded host a model that runs well within its limit failed as the team's TIMEOUT (2026-11-30,
 * tests/docker/stack.ts), at the cost of the team's quota.
 *
 * The time the child spent ready to run but waiting for a CPU (its run-queue wait, from
 * /proc/<pid>/schedstat) is not its own, and is added to the deadline, up to MAX_STRETCH times the
 * timeout on the wall. A child that is stuck, or a model that computes past its limit while a CPU
 * is free, accrues none and ends on time.
 */
export const MAX_STRETCH = 4;

/** The deadline, in ms from the start, of `timeoutMs` of the child's own time when it waited `waitedMs` for a CPU. */
export function stretchedDeadlineMs(timeoutMs: number, waitedMs: number): number {
  return Math.min(timeoutMs + Math.max(0, waitedMs), timeoutMs * MAX_STRETCH);
}

/**
 * The run-queue wait of a process's main thread so far, in ms: the second field of
 * /proc/<pid>/schedstat (nanoseconds; the kernel's CONFIG_SCHED_INFO). Undefined where it cannot
 * be read (no pid yet, the process gone, another kernel): the deadline is then the timeout alone.
 * The main thread is the one that runs the model (onnxruntime's intra-op pool has one thread: the
 * caller's) and the child's start.
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

/** How a deadline ended: the wall time since it started, and how much of it the child waited for a CPU. */
export interface DeadlineTimes {
  elapsedMs: number;
  waitedMs: number;
}

/**
 * Calls `expired` once, when `timeoutMs` of the child's own time have passed (or MAX_STRETCH x
 * `timeoutMs` on the wall), unless cancelled first. Before it calls, the worker reads its pipes
 * once: Node runs due timers before it reads them, so a message that came while the worker itself
 * waited for a CPU (the child's "ready", or its result) is read before the verdict.
 */
export function ownTimeDeadline(pid: () => number | undefined, timeoutMs: number, expired: (times: DeadlineTimes) => void): { cancel(): void } {
  const startedAt = performance.now();
  const waitedBefore = runQueueWaitMs(pid()) ?? 0;
  let timer: NodeJS.Timeout | undefined;
  let verdict: NodeJS.Immediate | undefined;
  const check = () => {
    const elapsedMs = performance.now() - startedAt;
    const waitedNow = runQueueWaitMs(pid());
    const waitedMs = waitedNow === undefined ? 0 : Math.max(0, waitedNow - waitedBefore);
    const deadline = stretchedDeadlineMs(timeoutMs, waitedMs);
    if (elapsedMs < deadline) timer = setTimeout(check, deadline - elapsedMs);
    else verdict = setImmediate(() => expired({ elapsedMs, waitedMs }));
  };
  timer = setTimeout(check, timeoutMs);
  return {
    cancel() {
      clearTimeout(timer);
      clearImmediate(verdict);
    },
  };
}
