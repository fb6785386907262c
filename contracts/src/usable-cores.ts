import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

/**
 * How many cores this process can keep busy: the CPUs it may run on (`availableParallelism()`),
 * capped by its cgroup's CPU quota. A container started with `cpus: 1` (compose's WORKER_CPUS)
 * runs on every host CPU but gets one CPU's worth of time; Node 20's libuv (1.46) reads only the
 * CPU affinity, so without this a 1-CPU worker on a 64-core host would plan for 64. A quota below
 * one core counts as one.
 */
export function usableCores(readFile: (path: string) => string = (path) => readFileSync(path, "utf8")): number {
  const cpus = Math.max(1, availableParallelism());
  const quota = cgroupCpuQuota(readFile);
  return quota === null ? cpus : Math.max(1, Math.min(cpus, Math.floor(quota)));
}

/** The cgroup's CPU quota in cores (cgroup v2 `cpu.max`, else v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`), or null when none is set or none can be read. */
export function cgroupCpuQuota(readFile: (path: string) => string): number | null {
  const read = (path: string) => {
    try {
      return readFile(path);
    } catch {
      return null;
    }
  };
  const v2 = read("/sys/fs/cgroup/cpu.max");
  if (v2 !== null) {
    const [quota, period] = v2.trim().split(/\s+/);
    return coresOf(quota, period);
  }
  const quota = read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us");
  const period = read("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
  return quota === null || period === null ? null : coresOf(quota.trim(), period.trim());
}

/** Quota over period, for a quota that is set ("max" in v2 and -1 in v1 mean none). */
function coresOf(quota: string | undefined, period: string | undefined): number | null {
  const q = Number(quota);
  const p = Number(period);
  return Number.isFinite(q) && Number.isFinite(p) && q > 0 && p > 0 ? q / p : null;
}
