// Where a burst's CPU goes: the CPU time of the processes that take part, summed by role between two
// snapshots (and the workers' and their children's minor page faults), from /proc as the worker's
// heartbeat reads it (worker/src/process-tree-cpu.ts). Clock ticks: 10 ms resolution.
import { readFileSync } from "node:fs";
import { allProcessTimes, childrenByParent, clockTicks, descendantsIn } from "../../worker/src/process-tree-cpu";

export interface CpuSnapshot {
  /** worker processes: their own time */
  workers: number;
  /** their children's launchers (worker/src/sandbox/spawner.ts; the workers' direct children): their own time */
  launchers: number;
  /** the rest of their descendants (sandbox children): reaped ones plus the living */
  sandboxes: number;
  postgres: number;
  redis: number;
  /** the whole machine's busy time (every CPU, all but idle and iowait) */
  machine: number;
  /** minor page faults of the worker processes (their own) */
  workerFaults: number;
  /** and of their sandbox children (reaped ones plus the living) */
  sandboxFaults: number;
}

function machineBusyTicks(): number {
  const [user, nice, system, , , irq, softirq, steal] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  return user + nice + system + irq + softirq + steal;
}

/** CPU ms so far of the given worker processes, their sandbox children, Postgres and Redis, and the machine. */
export function cpuSnapshot(workerPids: readonly number[]): CpuSnapshot {
  const processes = allProcessTimes() ?? [];
  const byPid = new Map(processes.map((p) => [p.pid, p]));
  const children = childrenByParent(processes);
  const ticks = { workers: 0, launchers: 0, sandboxes: 0, postgres: 0, redis: 0, machine: machineBusyTicks() };
  const faults = { workerFaults: 0, sandboxFaults: 0 };
  for (const pid of workerPids) {
    const worker = byPid.get(pid);
    if (!worker) continue;
    ticks.workers += worker.ownTicks;
    ticks.sandboxes += worker.reapedTicks;
    faults.workerFaults += worker.ownFaults;
    faults.sandboxFaults += worker.reapedFaults;
    const launchers = new Set(children.get(pid) ?? []);
    for (const childPid of descendantsIn(children, pid)) {
      const child = byPid.get(childPid);
      // A launcher's own time is its own; what it reaped (its children) is the sandboxes'.
      const isLauncher = launchers.has(childPid);
      ticks[isLauncher ? "launchers" : "sandboxes"] += child?.ownTicks ?? 0;
      ticks.sandboxes += child?.reapedTicks ?? 0;
      faults.sandboxFaults += (isLauncher ? 0 : (child?.ownFaults ?? 0)) + (child?.reapedFaults ?? 0);
    }
  }
  for (const p of processes) {
    if (p.comm === "postgres") ticks.postgres += p.ownTicks + p.reapedTicks;
    else if (p.comm.startsWith("redis-server")) ticks.redis += p.ownTicks;
  }
  const ms = 1000 / clockTicks();
  return {
    workers: ticks.workers * ms,
    launchers: ticks.launchers * ms,
    sandboxes: ticks.sandboxes * ms,
    postgres: ticks.postgres * ms,
    redis: ticks.redis * ms,
    machine: ticks.machine * ms,
    ...faults,
  };
}

/** CPU ms per unit of work between two snapshots, by role; `other` is the rest of the machine's busy time. */
export function cpuPerUnit(before: CpuSnapshot, after: CpuSnapshot, units: number): Record<keyof CpuSnapshot | "other", number> {
  const delta = (key: keyof CpuSnapshot) => (after[key] - before[key]) / units;
  const perUnit = {
    workers: delta("workers"),
    launchers: delta("launchers"),
    sandboxes: delta("sandboxes"),
    postgres: delta("postgres"),
    redis: delta("redis"),
    machine: delta("machine"),
    workerFaults: delta("workerFaults"),
    sandboxFaults: delta("sandboxFaults"),
  };
  return { ...perUnit, other: perUnit.machine - perUnit.workers - perUnit.launchers - perUnit.sandboxes - perUnit.postgres - perUnit.redis };
}
