import { execFileSync } from "node:child_process";
import fs from "node:fs";

/**
 * CPU time of a process and everything it started: the worker and its sandbox children (and
 * their wrappers), from Linux's /proc. A live process counts its own time (utime + stime) and that
 * of its children it has already reaped (cutime + cstime); a child that ended between two readings
 * thus moves from "live" to its parent's cutime, and the total only grows. Where there is no /proc
 * (macOS, during development) only this process's own time is known (process.cpuUsage()).
 * See proc(5), /proc/[pid]/stat.
 */
let ticksPerSecond: number | null = null;

/** Clock ticks per second, the unit of /proc's CPU times (USER_HZ). */
export function clockTicks(): number {
  if (ticksPerSecond === null) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticksPerSecond = 100; // USER_HZ on every Linux architecture Node runs on
    }
  }
  return ticksPerSecond;
}

interface ProcStat {
  ppid: number;
  /** utime + stime + cutime + cstime, in clock ticks */
  ticks: number;
}

/** One process's CPU times from /proc/[pid]/stat, in clock ticks. */
export interface ProcessTimes {
  pid: number;
  ppid: number;
  /** the command name (field 2) */
  comm: string;
  /** utime + stime: the process's own */
  ownTicks: number;
  /** cutime + cstime: its children that ended and were waited for */
  reapedTicks: number;
  /** minor page faults (minflt): its own */
  ownFaults: number;
  /** cminflt: those of its children that ended and were waited for */
  reapedFaults: number;
}

/** Parses /proc/[pid]/stat; the command name (field 2) may hold spaces and parentheses, so fields are counted after its last ")". */
export function parseProcessTimes(pid: number, text: string): ProcessTimes | null {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return null;
  const fields = text.slice(close + 2).trim().split(/\s+/);
  // fields[0] is field 3 (state): ppid is field 4, minflt and cminflt fields 10-11, utime..cstime fields 14-17.
  const ppid = Number(fields[1]);
  const [minflt, cminflt] = [Number(fields[7]), Number(fields[8])];
  const [utime, stime, cutime, cstime] = fields.slice(11, 15).map(Number);
  if (![ppid, utime, stime, cutime, cstime].every(Number.isFinite)) return null;
  return {
    pid,
    ppid,
    comm: text.slice(open + 1, close),
    ownTicks: utime + stime,
    reapedTicks: cutime + cstime,
    ownFaults: Number.isFinite(minflt) ? minflt : 0,
    reapedFaults: Number.isFinite(cminflt) ? cminflt : 0,
  };
}

/** The parent and the whole CPU time (own and reaped children's) of /proc/[pid]/stat. */
export function parseProcStat(text: string): ProcStat | null {
  const times = parseProcessTimes(0, text);
  return times && { ppid: times.ppid, ticks: times.ownTicks + times.reapedTicks };
}

/** Every process's CPU times now; null where there is no /proc. */
export function allProcessTimes(): ProcessTimes[] | null {
  let pids: string[];
  try {
    pids = fs.readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  const found: ProcessTimes[] = [];
  for (const pid of pids) {
    try {
      const times = parseProcessTimes(Number(pid), fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
      if (times) found.push(times);
    } catch {
      // it ended while we read
    }
  }
  return found;
}

/** Each process's children, by parent pid. */
export function childrenByParent(processes: readonly ProcessTimes[]): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const { pid, ppid } of processes) {
    const siblings = children.get(ppid) ?? [];
    siblings.push(pid);
    children.set(ppid, siblings);
  }
  return children;
}

/** Every process's figures now, and each one's children; null where there is no /proc. */
function processTable(): { stats: Map<number, ProcStat>; children: Map<number, number[]> } | null {
  const processes = allProcessTimes();
  if (!processes) return null;
  const stats = new Map(processes.map((p) => [p.pid, { ppid: p.ppid, ticks: p.ownTicks + p.reapedTicks }]));
  return { stats, children: childrenByParent(processes) };
}

/** `rootPid`'s descendants in `children`: what it started, and what those started, down the tree. */
export function descendantsIn(children: Map<number, number[]>, rootPid: number): number[] {
  const found: number[] = [];
  const pending = [...(children.get(rootPid) ?? [])];
  while (pending.length > 0) {
    const pid = pending.pop()!;
    found.push(pid);
    pending.push(...(children.get(pid) ?? []));
  }
  return found;
}

/** The processes `rootPid` started and theirs, down the tree (Linux /proc); none where there is no /proc. */
export function descendantPids(rootPid: number): number[] {
  const table = processTable();
  return table ? descendantsIn(table.children, rootPid) : [];
}

/** CPU seconds used so far by `rootPid` and all its descendants. */
export function processTreeCpuSeconds(rootPid = process.pid): number {
  const table = processTable();
  if (!table) {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1e6;
  }
  let ticks = 0;
  for (const pid of [rootPid, ...descendantsIn(table.children, rootPid)]) ticks += table.stats.get(pid)?.ticks ?? 0;
  return ticks / clockTicks();
}
