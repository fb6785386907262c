import { readFileSync } from "node:fs";
import path from "node:path";

/**
 * The memory cgroup the worker and its sandbox children run in (a container's, in production): its
 * limit, the anonymous memory its processes hold, and how many of them the kernel's OOM killer has
 * killed. With it, a sandbox child killed by the kernel tells whose fault that was (sandbox-process.ts):
 *
 * - the cgroup had room for the task's whole memory allowance when the evaluation started: the model
 *   went past its limit faster than the parent's samples saw it (MEMORY_LIMIT, the participant's);
 * - it had less: the container or host is smaller than the task promises, and any model near its
 *   limit dies there. That is the platform's fault (retried, never the team's quota), and the worker
 *   logs it for the organisers.
 *
 * Both cgroup versions: v2 (`memory.max`, `memory.stat` anon, `memory.events` oom_kill) and v1
 * (`memory.limit_in_bytes`, `memory.stat` rss, `memory.oom_control` oom_kill, kernel 4.13 and later).
 * Where none can be read (no cgroup file system, another OS), nothing changes: a kill by the kernel
 * stays CRASHED, "likely out of memory".
 */

export interface CgroupMemoryReading {
  /** The cgroup's memory limit; null when it has none. */
  limitBytes: number | null;
  /** Anonymous memory its processes hold (not the page cache, which the kernel reclaims first). */
  anonBytes: number;
  /** Processes of the cgroup the OOM killer has killed since it was made. */
  oomKills: number;
}

export interface MemoryCgroup {
  /** Where its files are (for the log). */
  dir: string;
  version: 1 | 2;
  read(): CgroupMemoryReading | undefined;
}

/** v2's "max" or v1's huge sentinel (a page-rounded 2^63 - 1): no limit. */
const NO_LIMIT_ABOVE = 2 ** 62;

/** `key value` lines (memory.stat, memory.events, memory.oom_control) as a map. */
export function parseKeyedCounters(text: string): Map<string, number> {
  const counters = new Map<string, number>();
  for (const line of text.split("\n")) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^\d+$/.test(value)) counters.set(key, Number(value));
  }
  return counters;
}

/** A limit file's content (`max`, or a number of bytes) as bytes; null for none. */
export function parseLimit(text: string): number | null {
  const value = text.trim();
  if (value === "max") return null;
  const bytes = Number(value);
  if (!/^\d+$/.test(value) || bytes >= NO_LIMIT_ABOVE) return null;
  return bytes;
}

/**
 * The memory cgroup's path in each version, from /proc/self/cgroup's lines
 * (`hierarchy-id:controllers:path`): v1's `N:memory:/path` (or a list holding `memory`), v2's `0::/path`.
 */
export function cgroupPaths(procSelfCgroup: string): { v1?: string; v2?: string } {
  const paths: { v1?: string; v2?: string } = {};
  for (const line of procSelfCgroup.split("\n")) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!match) continue;
    const [, id, controllers, cgroupPath] = match;
    if (id === "0" && controllers === "") paths.v2 = cgroupPath;
    else if (controllers.split(",").includes("memory")) paths.v1 = cgroupPath;
  }
  return paths;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

function readingOf(version: 1 | 2, dir: string): CgroupMemoryReading | undefined {
  const [limitFile, oomFile] = version === 2 ? ["memory.max", "memory.events"] : ["memory.limit_in_bytes", "memory.oom_control"];
  const limit = readText(path.join(dir, limitFile));
  const stat = readText(path.join(dir, "memory.stat"));
  const oom = readText(path.join(dir, oomFile));
  if (limit === undefined || stat === undefined || oom === undefined) return undefined;
  const oomKills = parseKeyedCounters(oom).get("oom_kill");
  if (oomKills === undefined) return undefined; // a v1 kernel before 4.13 counts none
  const counters = parseKeyedCounters(stat);
  // v1's hierarchical figure where there is one (the cgroup's children count too).
  const anonBytes = (version === 1 ? (counters.get("total_rss") ?? counters.get("rss")) : counters.get("anon")) ?? 0;
  return { limitBytes: parseLimit(limit), anonBytes, oomKills };
}

/**
 * This process's memory cgroup, or undefined where none can be read. In a container with its own
 * cgroup namespace the path is `/` and the files are at the mount's root; where the path names a
 * cgroup the mount does not show (a v1 container), the mount's root is the container's cgroup.
 */
export function findMemoryCgroup(procSelfCgroup = readText("/proc/self/cgroup") ?? "", root = "/sys/fs/cgroup"): MemoryCgroup | undefined {
  const paths = cgroupPaths(procSelfCgroup);
  const under = (...parts: string[]) => path.resolve(path.join(root, ...parts));
  const candidates: { version: 1 | 2; dir: string }[] = [];
  if (paths.v2 !== undefined) candidates.push({ version: 2, dir: under(paths.v2) }, { version: 2, dir: under() }, { version: 2, dir: under("unified", paths.v2) });
  if (paths.v1 !== undefined) candidates.push({ version: 1, dir: under("memory", paths.v1) }, { version: 1, dir: under("memory") });
  for (const { version, dir } of candidates) {
    if (readingOf(version, dir)) return { dir, version, read: () => readingOf(version, dir) };
  }
  return undefined;
}

let found: MemoryCgroup | undefined | null = null;

/** This process's memory cgroup, looked up once. */
export function processMemoryCgroup(): MemoryCgroup | undefined {
  if (found === null) found = findMemoryCgroup();
  return found;
}

/** MemAvailable of /proc/meminfo, in bytes: what the host can still give without swapping; undefined where it is not there. */
export function hostAvailableBytes(meminfo = readText("/proc/meminfo")): number | undefined {
  const kb = /^MemAvailable:\s+(\d+) kB$/m.exec(meminfo ?? "")?.[1];
  return kb === undefined ? undefined : Number(kb) * 1024;
}

/** The room a model had when its evaluation started: the cgroup's reading and the host's available memory. */
export interface MemoryRoom {
  cgroup: CgroupMemoryReading | undefined;
  hostAvailableBytes: number | undefined;
}

export function readMemoryRoom(cgroup = processMemoryCgroup()): MemoryRoom {
  return { cgroup: cgroup?.read(), hostAvailableBytes: hostAvailableBytes() };
}

export type KernelKillVerdict =
  /** the model had room for its whole allowance, and the kernel killed it past that: over its limit */
  | { fault: "participant" }
  /** the container or host had less room than the task allows (MB), so the kill says nothing of the model */
  | { fault: "platform"; roomMb: number };

/**
 * Whose fault a sandbox child's SIGKILL that the worker did not send was: undefined when the OOM
 * killer killed nothing in the cgroup since the evaluation started (or the cgroup cannot be read),
 * else whether the model had had room for the task's `memoryMb` over what the cgroup's processes held then.
 */
export function judgeKernelKill(atStart: MemoryRoom, now: CgroupMemoryReading | undefined, memoryMb: number): KernelKillVerdict | undefined {
  const before = atStart.cgroup;
  if (!before || !now || now.oomKills <= before.oomKills) return undefined;
  const roomMb = modelRoomMb(atStart) ?? Infinity;
  return roomMb >= memoryMb ? { fault: "participant" } : { fault: "platform", roomMb };
}

/**
 * The memory a model has room for, in MB: the cgroup's limit less what its processes hold, or the
 * host's available memory where that is less; null where neither is known.
 */
export function modelRoomMb(room: MemoryRoom): number | null {
  return modelRoom(room)?.mb ?? null;
}

/**
 * The room for a model and what bounds it: the worker's own memory limit ("cgroup"), or the host's
 * available memory ("host"), which every worker on that host draws on; null where neither is known.
 */
export function modelRoom(room: MemoryRoom): { mb: number; boundBy: "cgroup" | "host" } | null {
  const cgroup = room.cgroup;
  const ownBytes = cgroup && cgroup.limitBytes !== null ? cgroup.limitBytes - cgroup.anonBytes : Infinity;
  const hostBytes = room.hostAvailableBytes ?? Infinity;
  const roomBytes = Math.min(ownBytes, hostBytes);
  if (!Number.isFinite(roomBytes)) return null;
  return { mb: Math.max(0, Math.floor(roomBytes / 1048576)), boundBy: ownBytes <= hostBytes ? "cgroup" : "host" };
}

/**
 * The host's identity as every container on it sees it: the kernel's boot id (not namespaced,
 * unlike the hostname, which Docker gives each container), or undefined where it cannot be read.
 */
export function hostBootId(text = readText("/proc/sys/kernel/random/boot_id")): string | undefined {
  const id = text?.trim();
  return id ? id : undefined;
}
