import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { cgroupCpuQuota, usableCores } from "@goat/contracts/usable-cores";

// The cores a process can keep busy under its container's CPU quota, from the cgroup files as
// Docker writes them (cgroup v2 `cpu.max`; v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`).
const files = (contents: Record<string, string>) => (path: string) => {
  if (path in contents) return contents[path];
  throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
};
const V2 = "/sys/fs/cgroup/cpu.max";
const V1_QUOTA = "/sys/fs/cgroup/cpu/cpu.cfs_quota_us";
const V1_PERIOD = "/sys/fs/cgroup/cpu/cpu.cfs_period_us";

describe("a container's CPU quota", () => {
  it.each<{ name: string; contents: Record<string, string>; quota: number | null }>([
    { name: "v2, no limit", contents: { [V2]: "max 100000\n" }, quota: null },
    { name: "v2, cpus: 1", contents: { [V2]: "100000 100000\n" }, quota: 1 },
    { name: "v2, cpus: 0.5", contents: { [V2]: "50000 100000\n" }, quota: 0.5 },
    { name: "v2, cpus: 2.5", contents: { [V2]: "250000 100000\n" }, quota: 2.5 },
    { name: "v1, no limit", contents: { [V1_QUOTA]: "-1\n", [V1_PERIOD]: "100000\n" }, quota: null },
    { name: "v1, cpus: 2", contents: { [V1_QUOTA]: "200000\n", [V1_PERIOD]: "100000\n" }, quota: 2 },
    { name: "no cgroup files", contents: {}, quota: null },
    { name: "unreadable contents", contents: { [V2]: "garbage" }, quota: null },
  ])("$name", ({ contents, quota }) => {
    expect(cgroupCpuQuota(files(contents))).toBe(quota);
  });
});

describe("usable cores", () => {
  const cpus = availableParallelism();
  it("are the CPUs the process may run on without a quota, and never more than the quota (at least one)", () => {
    expect(usableCores(files({ [V2]: "max 100000" }))).toBe(cpus);
    expect(usableCores(files({}))).toBe(cpus);
    expect(usableCores(files({ [V2]: "100000 100000" }))).toBe(1);
    expect(usableCores(files({ [V2]: "50000 100000" }))).toBe(1);
    expect(usableCores(files({ [V2]: `${(cpus + 8) * 100000} 100000` }))).toBe(cpus);
    expect(usableCores(files({ [V2]: "100000000 100000" }))).toBe(cpus);
  });
});
