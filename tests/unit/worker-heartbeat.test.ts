import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { workerFiguresSchema } from "@goat/contracts/worker-heartbeat";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { CpuSampler, pickWorkerGpu, readWorkerFigures } from "@/worker/src/heartbeat";
import { parseProcessTimes, parseProcStat, processTreeCpuSeconds } from "@/worker/src/process-tree-cpu";
import { NvidiaSmi, parseGpuQuery } from "@/worker/src/gpu/nvidia-smi";
import fs from "node:fs";

const FIXTURES = path.resolve(__dirname, "../fixtures/nvidia-smi");

describe("the heartbeat's figures", () => {
  it("falls back to this host's real CPU and memory figures when there is no nvidia-smi", async () => {
    const cpu = new CpuSampler();
    // Burn a little CPU so the second reading has a usage figure over a real interval.
    const until = Date.now() + 150;
    while (Date.now() < until) Math.sqrt(Math.random());
    const figures = await readWorkerFigures({
      executionProvider: "auto",
      cudaDeviceId: 0,
      cpu,
      smi: new NvidiaSmi({ binary: "/nonexistent/nvidia-smi" }),
    });
    expect(workerFiguresSchema.parse(figures)).toEqual(figures);
    expect(figures.gpu).toBeNull();
    expect(figures.gpuUnavailableReason).toContain("not found");
    expect(figures.cpu.cores).toBe(os.cpus().length);
    expect(figures.cpu.memoryTotalMb).toBe(Math.round(os.totalmem() / 1024 / 1024));
    expect(figures.cpu.memoryUsedMb).toBeGreaterThan(0);
    expect(figures.cpu.memoryUsedMb).toBeLessThanOrEqual(figures.cpu.memoryTotalMb);
    expect(figures.cpu.processRssMb).toBeGreaterThan(10);
    expect(figures.cpu.usagePercent).not.toBeNull();
    expect(figures.cpu.usagePercent!).toBeGreaterThan(0);
    expect(figures.cpu.usagePercent!).toBeLessThanOrEqual(100);
  });

  it("does not ask nvidia-smi at all for a CPU worker", async () => {
    let asked = false;
    const smi = new NvidiaSmi({ run: async () => ((asked = true), "") });
    const figures = await readWorkerFigures({ executionProvider: "cpu", cudaDeviceId: 0, smi });
    expect(asked).toBe(false);
    expect(figures.gpu).toBeNull();
    expect(figures.gpuUnavailableReason).toContain("EXECUTION_PROVIDER=cpu");
  });

  it("reports the worker's own GPU and its processes from recorded A40 output (seven workers)", async () => {
    const gpus = fs.readFileSync(path.join(FIXTURES, "a40-7-workers.gpus.csv"), "utf8");
    const apps = fs.readFileSync(path.join(FIXTURES, "a40-7-workers.apps.csv"), "utf8");
    const smi = new NvidiaSmi({ run: async (args) => (args[0].startsWith("--query-gpu") ? gpus : apps) });
    const figures = await readWorkerFigures({ executionProvider: "cuda", cudaDeviceId: 0, smi });
    const expected = parseGpuQuery(gpus)[0];
    expect(figures.gpu).toMatchObject({ name: expected.name, memoryUsedMb: expected.memoryUsedMiB, memoryTotalMb: expected.memoryTotalMiB, utilizationPercent: expected.utilizationPercent });
    expect(figures.gpu!.processes!.length).toBeGreaterThan(0);
    expect(figures.gpu!.processes!.every((process) => typeof process.pid === "number")).toBe(true);
  });

  it("picks the GPU named by CUDA_VISIBLE_DEVICES among several", () => {
    const gpus = parseGpuQuery(fs.readFileSync(path.join(FIXTURES, "two-gpus.gpus.csv"), "utf8"));
    expect(pickWorkerGpu(gpus, 0, "1")?.index).toBe(1);
    expect(pickWorkerGpu(gpus, 0, gpus[1].uuid)?.uuid).toBe(gpus[1].uuid);
    expect(pickWorkerGpu(gpus, 1, undefined)?.index).toBe(1);
    expect(pickWorkerGpu(gpus, 0, undefined)?.index).toBe(0);
  });

  it("says why when nvidia-smi fails (driver failure recorded output)", async () => {
    const said = fs.readFileSync(path.join(FIXTURES, "driver-failure.txt"), "utf8");
    const smi = new NvidiaSmi({ run: async () => Promise.reject(Object.assign(new Error("failed"), { code: 9, stdout: said, stderr: "" })) });
    const figures = await readWorkerFigures({ executionProvider: "cuda", cudaDeviceId: 0, smi });
    expect(figures.gpu).toBeNull();
    expect(figures.gpuUnavailableReason).toMatch(/exited with code 9/);
    expect(figures.cpu.memoryTotalMb).toBeGreaterThan(0);
  });
});

describe("the worker's own CPU figure", () => {
  it("reads ppid and utime+stime+cutime+cstime from /proc/[pid]/stat, whatever the command name holds", () => {
    // Fields 14-17 are 7, 3, 20, 5 ticks; the name has a space and a ")" of its own.
    const line = "4242 (node (sandbox) x) S 4200 4242 4200 0 -1 4194560 100 0 0 0 7 3 20 5 20 0 11 0 5000 100000 2000";
    expect(parseProcStat(line)).toEqual({ ppid: 4200, ticks: 35 });
    expect(parseProcStat("garbage")).toBeNull();
  });

  it("reads each process's own and reaped times and minor page faults apart (the benchmark's breakdown, bench/support/process-cpu.ts)", () => {
    // minflt (field 10) 100, cminflt (field 11) 250; utime..cstime 7, 3, 20, 5.
    const line = "4242 (node (sandbox) x) S 4200 4242 4200 0 -1 4194560 100 250 0 0 7 3 20 5 20 0 11 0 5000 100000 2000";
    expect(parseProcessTimes(4242, line)).toEqual({
      pid: 4242,
      ppid: 4200,
      comm: "node (sandbox) x",
      ownTicks: 10,
      reapedTicks: 25,
      ownFaults: 100,
      reapedFaults: 250,
    });
  });

  // Table: CPU seconds the worker's process tree used over a wall time, on this host's cores.
  const cores = os.cpus().length;
  it.each([
    { name: "idle", used: 0, elapsedMs: 5000, expected: 0 },
    { name: "one core busy for the whole beat", used: 5, elapsedMs: 5000, expected: Math.round((100 / cores) * 10) / 10 },
    { name: "half a core", used: 1, elapsedMs: 2000, expected: Math.round((50 / cores) * 10) / 10 },
    { name: "more than the host has (clock skew) is capped", used: 10 * cores, elapsedMs: 1000, expected: 100 },
  ])("reports the tree's CPU seconds per core over the beat: $name", ({ used, elapsedMs, expected }) => {
    let seconds = 100;
    let nowMs = 1_000_000;
    const sampler = new CpuSampler({ cpuSeconds: () => seconds, nowMs: () => nowMs });
    seconds += used;
    nowMs += elapsedMs;
    expect(sampler.read().workerUsagePercent).toBe(expected);
  });

  it("counts a sandbox child's CPU while it lives and after it has ended", async () => {
    // The child burns CPU, reports how much (its own process.cpuUsage), then waits to be killed.
    const script = "const end=Date.now()+400;while(Date.now()<end)Math.sqrt(Math.random());const u=process.cpuUsage();console.log((u.user+u.system)/1e6);setInterval(()=>{},1000)";
    const before = processTreeCpuSeconds();
    const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    const exited = once(child, "exit");
    try {
      const [chunk] = (await once(child.stdout!, "data")) as [Buffer];
      const childSeconds = Number(chunk.toString().trim());
      expect(childSeconds).toBeGreaterThan(0.05);
      // Alive: counted as a descendant. /proc gives user and system time each in whole clock ticks
      // (10 ms), each rounded down, so up to two ticks of the child's own report may be missing.
      const alive = processTreeCpuSeconds() - before;
      expect(alive, `tree ${alive} s, child's own report ${childSeconds} s`).toBeGreaterThanOrEqual(childSeconds - 0.021);
      child.kill("SIGKILL");
      await exited;
      // Ended and reaped: its time is in this process's cutime/cstime now, still counted.
      expect(processTreeCpuSeconds() - before).toBeGreaterThanOrEqual(childSeconds - 0.021);
    } finally {
      // A failed expectation must not leave the child (it never ends by itself) holding vitest open.
      child.kill("SIGKILL");
    }
  });
});
