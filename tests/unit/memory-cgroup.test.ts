import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cgroupPaths, findMemoryCgroup, hostAvailableBytes, hostBootId, judgeKernelKill, modelRoom, modelRoomMb, parseKeyedCounters, parseLimit } from "../../worker/src/sandbox/memory-cgroup";

// Recorded: /proc/self/cgroup and the memory files of this project's CI machine (cgroup v1, kernel
// 6.18, 2026-12-03), and of a Docker container with its own cgroup namespace on a v2 host.
const V1_PROC_SELF_CGROUP = "9:name=systemd:/\n8:pids:/\n7:blkio:/\n4:memory:/process_api/85aa2c83\n3:cpuset:/\n1:cpu:/\n0::/\n";
const V1_STAT = "cache 2305376256\nrss 530341888\nrss_huge 155189248\nshmem 0\nhierarchical_memory_limit 9223372036854771712\ntotal_cache 2305376256\ntotal_rss 530341888\n";
const V1_OOM_CONTROL = "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n";
const V2_PROC_SELF_CGROUP = "0::/\n";
const V2_STAT = "anon 1288490188\nfile 734003200\nkernel 20480000\nshmem 0\n";
const V2_EVENTS = "low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\noom_group_kill 0\n";

const roots: string[] = [];
function fakeRoot(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "goat-cgroup-"));
  roots.push(root);
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), content);
  }
  return root;
}
afterEach(() => {
  for (const root of roots.splice(0)) fs.rmSync(root, { recursive: true, force: true });
});

describe("reading the memory cgroup", () => {
  it("parses counters, limits and /proc/self/cgroup of both versions", () => {
    expect(parseKeyedCounters(V2_EVENTS).get("oom_kill")).toBe(2);
    expect(parseKeyedCounters(V1_STAT).get("total_rss")).toBe(530341888);
    expect(parseLimit("max\n")).toBeNull();
    expect(parseLimit("9223372036854771712\n")).toBeNull(); // v1's "no limit"
    expect(parseLimit("6979321856\n")).toBe(6979321856);
    expect(parseLimit("garbage")).toBeNull();
    expect(cgroupPaths(V1_PROC_SELF_CGROUP)).toEqual({ v1: "/process_api/85aa2c83", v2: "/" });
    expect(cgroupPaths(V2_PROC_SELF_CGROUP)).toEqual({ v2: "/" });
    expect(cgroupPaths("5:cpu,memory:/docker/abc\n")).toEqual({ v1: "/docker/abc" });
    expect(hostAvailableBytes("MemTotal:       24576000 kB\nMemAvailable:   23242008 kB\n")).toBe(23242008 * 1024);
    expect(hostAvailableBytes("MemTotal: 1 kB\n")).toBeUndefined();
  });

  it("finds a v2 container's cgroup at the mount's root, with its limit, anonymous memory and OOM kills", () => {
    const root = fakeRoot({ "memory.max": "6979321856\n", "memory.stat": V2_STAT, "memory.events": V2_EVENTS });
    const cgroup = findMemoryCgroup(V2_PROC_SELF_CGROUP, root)!;
    expect(cgroup).toMatchObject({ dir: root, version: 2 });
    expect(cgroup.read()).toEqual({ limitBytes: 6979321856, anonBytes: 1288490188, oomKills: 2 });
  });

  it("finds a v1 cgroup under the memory hierarchy (a hybrid host: the v2 mount has no memory files)", () => {
    const root = fakeRoot({
      "unified/cgroup.procs": "",
      "memory/process_api/85aa2c83/memory.limit_in_bytes": "9223372036854771712\n",
      "memory/process_api/85aa2c83/memory.stat": V1_STAT,
      "memory/process_api/85aa2c83/memory.oom_control": V1_OOM_CONTROL,
    });
    const cgroup = findMemoryCgroup(V1_PROC_SELF_CGROUP, root)!;
    expect(cgroup).toMatchObject({ dir: path.join(root, "memory/process_api/85aa2c83"), version: 1 });
    expect(cgroup.read()).toEqual({ limitBytes: null, anonBytes: 530341888, oomKills: 0 });
  });

  it("finds none where the files are missing, or a v1 kernel counts no OOM kills", () => {
    expect(findMemoryCgroup(V2_PROC_SELF_CGROUP, fakeRoot({}))).toBeUndefined();
    const old = fakeRoot({ "memory/memory.limit_in_bytes": "1000000\n", "memory/memory.stat": V1_STAT, "memory/memory.oom_control": "oom_kill_disable 0\nunder_oom 0\n" });
    expect(findMemoryCgroup("4:memory:/docker/abc\n", old)).toBeUndefined();
    expect(findMemoryCgroup("", "/nonexistent")).toBeUndefined();
  });
});

describe("whose fault a kill by the kernel was", () => {
  const MB = 1048576;
  const reading = (limitMb: number | null, anonMb: number, oomKills: number) => ({ limitBytes: limitMb === null ? null : limitMb * MB, anonBytes: anonMb * MB, oomKills });

  it("says nothing when the OOM killer killed nothing meanwhile, or the cgroup was not read", () => {
    expect(judgeKernelKill({ cgroup: reading(6000, 1000, 3), hostAvailableBytes: undefined }, reading(6000, 1000, 3), 4096)).toBeUndefined();
    expect(judgeKernelKill({ cgroup: undefined, hostAvailableBytes: 8000 * MB }, reading(6000, 1000, 4), 4096)).toBeUndefined();
    expect(judgeKernelKill({ cgroup: reading(6000, 1000, 3), hostAvailableBytes: undefined }, undefined, 4096)).toBeUndefined();
  });

  it("blames the model when it had room for its whole allowance", () => {
    expect(judgeKernelKill({ cgroup: reading(6000, 1000, 3), hostAvailableBytes: 20_000 * MB }, reading(6000, 1000, 4), 4096)).toEqual({ fault: "participant" });
    expect(judgeKernelKill({ cgroup: reading(null, 1000, 0), hostAvailableBytes: undefined }, reading(null, 1000, 1), 4096)).toEqual({ fault: "participant" });
  });

  it("takes the room for a model as the cgroup's limit less what its processes hold, or the host's available memory where less", () => {
    expect(modelRoomMb({ cgroup: reading(6000, 1000, 0), hostAvailableBytes: 20_000 * MB })).toBe(5000);
    expect(modelRoomMb({ cgroup: reading(6000, 1000, 0), hostAvailableBytes: 3000 * MB })).toBe(3000);
    expect(modelRoomMb({ cgroup: reading(null, 1000, 0), hostAvailableBytes: 7000 * MB })).toBe(7000);
    expect(modelRoomMb({ cgroup: reading(500, 800, 0), hostAvailableBytes: undefined })).toBe(0);
    expect(modelRoomMb({ cgroup: undefined, hostAvailableBytes: undefined })).toBeNull();
  });

  it("says what bounds that room: the worker's own limit, or the host's memory that every worker on it draws on", () => {
    expect(modelRoom({ cgroup: reading(6000, 1000, 0), hostAvailableBytes: 20_000 * MB })).toEqual({ mb: 5000, boundBy: "cgroup" });
    expect(modelRoom({ cgroup: reading(6000, 1000, 0), hostAvailableBytes: 3000 * MB })).toEqual({ mb: 3000, boundBy: "host" });
    expect(modelRoom({ cgroup: reading(null, 1000, 0), hostAvailableBytes: 7000 * MB })).toEqual({ mb: 7000, boundBy: "host" });
    expect(modelRoom({ cgroup: undefined, hostAvailableBytes: 7000 * MB })).toEqual({ mb: 7000, boundBy: "host" });
    expect(modelRoom({ cgroup: reading(500, 800, 0), hostAvailableBytes: undefined })).toEqual({ mb: 0, boundBy: "cgroup" });
  });

  it("identifies the host by its kernel's boot id, the same in every container on it", () => {
    expect(hostBootId("6720ebc9-e225-44c6-be04-a520df460405\n")).toBe("6720ebc9-e225-44c6-be04-a520df460405");
    expect(hostBootId("")).toBeUndefined(); // not readable: no sharing can be known
    // This machine's own, as a worker here reads it.
    expect(hostBootId()).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("blames the platform when the container or the host had less room than the task allows", () => {
    expect(judgeKernelKill({ cgroup: reading(4500, 1000, 0), hostAvailableBytes: 20_000 * MB }, reading(4500, 900, 1), 4096)).toEqual({ fault: "platform", roomMb: 3500 });
    expect(judgeKernelKill({ cgroup: reading(null, 1000, 0), hostAvailableBytes: 2048 * MB }, reading(null, 900, 1), 4096)).toEqual({ fault: "platform", roomMb: 2048 });
  });
});
