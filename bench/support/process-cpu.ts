// Where a burst's CPU goes: the CPU time of the processes that take part (Linux /proc), summed by
// role between two snapshots. Clock ticks (USER_HZ, 100 per second on Linux): 10 ms resolution.
import { readdirSync, readFileSync } from "node:fs";

const TICK_MS = 10;

interface ProcessTimes {
  pid: number;
  ppid: number;
  comm: string;
  /** the process's own user + system time, ms */
  ownMs: number;
  /** the user + system time of its children that exited and were waited for, ms */
  reapedChildrenMs: number;
}

function readProcess(pid: number): ProcessTimes | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined; // exited between the listing and the read
  }
  const close = stat.lastIndexOf(")");
  const comm = stat.slice(stat.indexOf("(") + 1, close);
  // Fields after the command, from field 3 (state): ppid is field 4, utime..cstime fields 14-17.
  const fields = stat.slice(close + 2).split(" ");
  const field = (n: number) => Number(fields[n - 3]);
  return { pid, ppid: field(4), comm, ownMs: (field(14) + field(15)) * TICK_MS, reapedChildrenMs: (field(16) + field(17)) * TICK_MS };
}

function allProcesses(): ProcessTimes[] {
  const found: ProcessTimes[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const times = readProcess(Number(entry));
    if (times) found.push(times);
  }
  return found;
}

/** Busy time of the whole machine (every CPU, all but idle and iowait), ms. */
function machineBusyMs(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0];
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + steal) * TICK_MS;
}

export interface CpuSnapshot {
  /** worker processes: their own time */
  workers: number;
  /** their descendants (sandbox children): reaped ones plus the living */
  sandboxes: number;
  postgres: number;
  redis: number;
  machine: number;
}

/** CPU time so far of the given worker processes, their sandbox children, Postgres and Redis. */
export function cpuSnapshot(workerPids: readonly number[]): CpuSnapshot {
  const processes = allProcesses();
  const byParent = new Map<number, ProcessTimes[]>();
  for (const p of processes) byParent.set(p.ppid, [...(byParent.get(p.ppid) ?? []), p]);
  const descendantsMs = (pid: number): number =>
    (byParent.get(pid) ?? []).reduce((sum, child) => sum + child.ownMs + child.reapedChildrenMs + descendantsMs(child.pid), 0);
  const snapshot: CpuSnapshot = { workers: 0, sandboxes: 0, postgres: 0, redis: 0, machine: machineBusyMs() };
  for (const p of processes) {
    if (workerPids.includes(p.pid)) {
      snapshot.workers += p.ownMs;
      snapshot.sandboxes += p.reapedChildrenMs + descendantsMs(p.pid);
    } else if (p.comm === "postgres") snapshot.postgres += p.ownMs + p.reapedChildrenMs;
    else if (p.comm.startsWith("redis-server")) snapshot.redis += p.ownMs;
  }
  return snapshot;
}

/** CPU ms per unit of work between two snapshots, by role; `other` is the rest of the machine's busy time. */
export function cpuPerUnit(before: CpuSnapshot, after: CpuSnapshot, units: number): Record<keyof CpuSnapshot | "other", number> {
  const delta = (key: keyof CpuSnapshot) => (after[key] - before[key]) / units;
  const known = delta("workers") + delta("sandboxes") + delta("postgres") + delta("redis");
  return {
    workers: delta("workers"),
    sandboxes: delta("sandboxes"),
    postgres: delta("postgres"),
    redis: delta("redis"),
    other: delta("machine") - known,
    machine: delta("machine"),
  };
}
