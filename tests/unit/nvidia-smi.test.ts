import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  COMPUTE_APPS_QUERY_ARGS,
  GPU_QUERY_ARGS,
  NvidiaSmi,
  parseComputeApps,
  parseGpuQuery,
} from "../../worker/src/gpu/nvidia-smi";

/**
 * nvidia-smi's answers (tests/fixtures/nvidia-smi: the h200-* files recorded on a real H200, the
 * others written after NVIDIA's format, see its README.md), parsed to exact values; and every way
 * nvidia-smi can fail giving "unavailable, because ..." rather than an exception.
 */

const FIXTURES = path.resolve(__dirname, "../fixtures/nvidia-smi");
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), "utf8");

const A40_UUID = "GPU-6f3b9a2c-1d4e-4f60-9a8b-3c0d1e2f3a4b";
const H200_UUID = "GPU-3496cfb8-a9f6-9ca9-2eea-5eec3668e053";
const DRIVER_FAILURE =
  "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.";

describe("the nvidia-smi command lines", () => {
  it("asks for the GPU fields and the compute apps as bare CSV", () => {
    expect(GPU_QUERY_ARGS).toEqual([
      "--query-gpu=index,uuid,name,memory.used,memory.total,utilization.gpu,temperature.gpu,power.draw,power.limit,mig.mode.current",
      "--format=csv,noheader,nounits",
    ]);
    expect(COMPUTE_APPS_QUERY_ARGS).toEqual(["--query-compute-apps=pid,gpu_uuid,used_memory", "--format=csv,noheader,nounits"]);
  });
});

describe("parseGpuQuery", () => {
  it("reads an A40 shared by seven workers", () => {
    expect(parseGpuQuery(fixture("a40-7-workers.gpus.csv"))).toEqual([
      {
        index: 0,
        uuid: A40_UUID,
        name: "NVIDIA A40",
        memoryUsedMiB: 25417,
        memoryTotalMiB: 46068,
        utilizationPercent: 78,
        temperatureC: 61,
        powerDrawW: 187.32,
        powerLimitW: 300,
        migMode: null,
      },
    ]);
  });

  it("reads one entry per GPU on a two-GPU host, in index order", () => {
    expect(parseGpuQuery(fixture("two-gpus.gpus.csv"))).toEqual([
      {
        index: 0,
        uuid: "GPU-0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        name: "NVIDIA RTX A6000",
        memoryUsedMiB: 9876,
        memoryTotalMiB: 49140,
        utilizationPercent: 64,
        temperatureC: 57,
        powerDrawW: 162.08,
        powerLimitW: 300,
        migMode: null,
      },
      {
        index: 1,
        uuid: "GPU-9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
        name: "NVIDIA RTX A6000",
        memoryUsedMiB: 1843,
        memoryTotalMiB: 49140,
        utilizationPercent: 0,
        temperatureC: 34,
        powerDrawW: 21.87,
        powerLimitW: 300,
        migMode: null,
      },
    ]);
  });

  it("reads an A100 in MIG mode, whose utilisation is not reported", () => {
    expect(parseGpuQuery(fixture("a100-mig.gpus.csv"))).toEqual([
      {
        index: 0,
        uuid: "GPU-3d2c1b0a-9f8e-47d6-a5b4-c3d2e1f0a9b8",
        name: "NVIDIA A100-SXM4-80GB",
        memoryUsedMiB: 9523,
        memoryTotalMiB: 81920,
        utilizationPercent: null,
        temperatureC: 38,
        powerDrawW: 72.45,
        powerLimitW: 400,
        migMode: "Enabled",
      },
    ]);
  });

  it("reads a real H200's answers (driver 580.159.04), idle and with two CUDA processes", () => {
    const h200 = { index: 0, uuid: H200_UUID, name: "NVIDIA H200", memoryTotalMiB: 143771, powerLimitW: 700, migMode: "Disabled" };
    expect(parseGpuQuery(fixture("h200-idle.gpus.csv"))).toEqual([
      { ...h200, memoryUsedMiB: 0, utilizationPercent: 0, temperatureC: 38, powerDrawW: 80.53 },
    ]);
    expect(parseGpuQuery(fixture("h200-two-holders.gpus.csv"))).toEqual([
      { ...h200, memoryUsedMiB: 2519, utilizationPercent: 11, temperatureC: 40, powerDrawW: 94.96 },
    ]);
  });

  it("reads an idle GPU", () => {
    expect(parseGpuQuery(fixture("idle.gpus.csv"))).toEqual([
      {
        index: 0,
        uuid: A40_UUID,
        name: "NVIDIA A40",
        memoryUsedMiB: 0,
        memoryTotalMiB: 46068,
        utilizationPercent: 0,
        temperatureC: 29,
        powerDrawW: 31.05,
        powerLimitW: 300,
        migMode: null,
      },
    ]);
  });

  it("turns [N/A] and [Not Supported] power readings into null", () => {
    expect(parseGpuQuery(fixture("power-na.gpus.csv"))).toEqual([
      {
        index: 0,
        uuid: "GPU-b7c6d5e4-f3a2-4190-8e7d-6c5b4a392817",
        name: "NVIDIA GeForce RTX 3060 Laptop GPU",
        memoryUsedMiB: 1024,
        memoryTotalMiB: 6144,
        utilizationPercent: 12,
        temperatureC: 52,
        powerDrawW: null,
        powerLimitW: null,
        migMode: null,
      },
    ]);
  });

  it("turns an unbracketed N/A into null and reads MIG Disabled", () => {
    const [gpu] = parseGpuQuery("0, GPU-x, Tesla T4, 0, 15360, N/A, 40, 27.1, 70.00, Disabled\r\n");
    expect(gpu.utilizationPercent).toBeNull();
    expect(gpu.memoryTotalMiB).toBe(15360);
    expect(gpu.migMode).toBe("Disabled");
  });

  it("gives no GPUs for empty output and refuses a line with the wrong number of fields", () => {
    expect(parseGpuQuery("")).toEqual([]);
    expect(() => parseGpuQuery(DRIVER_FAILURE)).toThrow(/expected 10 fields, got 1/);
  });
});

describe("parseComputeApps", () => {
  it("reads the seven worker processes on the A40", () => {
    expect(parseComputeApps(fixture("a40-7-workers.apps.csv"))).toEqual([
      { pid: 41873, gpuUuid: A40_UUID, usedMemoryMiB: 3412 },
      { pid: 41902, gpuUuid: A40_UUID, usedMemoryMiB: 2980 },
      { pid: 41955, gpuUuid: A40_UUID, usedMemoryMiB: 4096 },
      { pid: 42011, gpuUuid: A40_UUID, usedMemoryMiB: 1254 },
      { pid: 42068, gpuUuid: A40_UUID, usedMemoryMiB: 5120 },
      { pid: 42107, gpuUuid: A40_UUID, usedMemoryMiB: 3875 },
      { pid: 42163, gpuUuid: A40_UUID, usedMemoryMiB: 4136 },
    ]);
  });

  it("tells which GPU each process is on, on a two-GPU host", () => {
    expect(parseComputeApps(fixture("two-gpus.apps.csv"))).toEqual([
      { pid: 18230, gpuUuid: "GPU-0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", usedMemoryMiB: 6018 },
      { pid: 18297, gpuUuid: "GPU-0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", usedMemoryMiB: 3572 },
      { pid: 18344, gpuUuid: "GPU-9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a", usedMemoryMiB: 1538 },
    ]);
  });

  it("reads a real H200's processes, each with its CUDA context counted", () => {
    expect(parseComputeApps(fixture("h200-two-holders.apps.csv"))).toEqual([
      { pid: 569, gpuUuid: H200_UUID, usedMemoryMiB: 1636 },
      { pid: 568, gpuUuid: H200_UUID, usedMemoryMiB: 868 },
    ]);
    expect(parseComputeApps(fixture("h200-idle.apps.csv"))).toEqual([]);
  });

  it("gives null memory where MIG hides it ([N/A])", () => {
    expect(parseComputeApps(fixture("a100-mig.apps.csv"))).toEqual([
      { pid: 27011, gpuUuid: "GPU-3d2c1b0a-9f8e-47d6-a5b4-c3d2e1f0a9b8", usedMemoryMiB: null },
      { pid: 27058, gpuUuid: "GPU-3d2c1b0a-9f8e-47d6-a5b4-c3d2e1f0a9b8", usedMemoryMiB: null },
    ]);
  });

  it("gives no processes for empty output or 'No running processes found'", () => {
    expect(parseComputeApps(fixture("idle.apps.csv"))).toEqual([]);
    expect(parseComputeApps("No running processes found\n")).toEqual([]);
  });
});

describe("NvidiaSmi", () => {
  it("runs the queries with the right arguments and parses the answers", async () => {
    const calls: string[][] = [];
    const smi = new NvidiaSmi({
      run: async (args) => {
        calls.push([...args]);
        return fixture(args[0].startsWith("--query-gpu") ? "two-gpus.gpus.csv" : "two-gpus.apps.csv");
      },
    });
    const reading = await smi.queryGpus();
    expect(reading.available && reading.gpus.map((g) => g.memoryUsedMiB)).toEqual([9876, 1843]);
    expect((await smi.queryComputeApps())?.map((a) => a.pid)).toEqual([18230, 18297, 18344]);
    expect(calls).toEqual([GPU_QUERY_ARGS, COMPUTE_APPS_QUERY_ARGS]);
    expect(smi.lastFailure).toBeUndefined();
  });

  it("says unavailable, not throws, when the binary does not exist (ENOENT, through execFile)", async () => {
    const smi = new NvidiaSmi({ binary: path.join(os.tmpdir(), "no-such-dir-goat", "nvidia-smi") });
    const reading = await smi.queryGpus();
    expect(reading).toEqual({ available: false, reason: expect.stringMatching(/nvidia-smi not found/) });
    expect(await smi.queryComputeApps()).toBeNull();
    expect(smi.lastFailure).toMatch(/not found/);
  });

  it("says unavailable when the answer is not the expected CSV", async () => {
    const smi = new NvidiaSmi({ run: async () => "something else entirely\n" });
    expect(await smi.queryGpus()).toEqual({
      available: false,
      reason: expect.stringMatching(/^nvidia-smi answered something unexpected: --query-gpu: expected 10 fields/),
    });
    expect(await smi.queryComputeApps()).toBeNull();
  });

  it("says unavailable after timeoutMs when nvidia-smi never answers, even if it cannot be killed", async () => {
    const smi = new NvidiaSmi({ timeoutMs: 50, run: () => new Promise<string>(() => undefined) });
    const started = performance.now();
    expect(await smi.queryGpus()).toEqual({ available: false, reason: "nvidia-smi did not answer within 50 ms" });
    expect(performance.now() - started).toBeLessThan(2000);
  });

  describe("through execFile, with a fake nvidia-smi", () => {
    let dir: string;
    /** An executable wrapper (the fixture's mode bit may not survive a checkout) with the fake's settings. */
    const fake = (env: string) => {
      const file = path.join(dir, `nvidia-smi-${env.replace(/\W+/g, "_")}`);
      writeFileSync(file, `#!/bin/sh\n${env} exec /bin/sh "${path.join(FIXTURES, "fake-nvidia-smi")}" "$@"\n`);
      chmodSync(file, 0o755);
      return file;
    };

    beforeAll(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), "goat-nvidia-smi-"));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("reads the recorded A40 answers", async () => {
      const smi = new NvidiaSmi({ binary: fake("FAKE_NVIDIA_SMI_FIXTURE=a40-7-workers") });
      const reading = await smi.queryGpus();
      expect(reading).toEqual({ available: true, gpus: parseGpuQuery(fixture("a40-7-workers.gpus.csv")) });
      const apps = await smi.queryComputeApps();
      expect(apps).toHaveLength(7);
      expect(apps?.reduce((sum, a) => sum + (a.usedMemoryMiB ?? 0), 0)).toBe(24873);
    });

    it("reads no processes on an idle GPU", async () => {
      const smi = new NvidiaSmi({ binary: fake("FAKE_NVIDIA_SMI_FIXTURE=idle") });
      expect(await smi.queryComputeApps()).toEqual([]);
    });

    it("says unavailable with the driver's message when nvidia-smi exits non-zero", async () => {
      const binary = fake("FAKE_NVIDIA_SMI_MODE=driver-failure");
      const smi = new NvidiaSmi({ binary });
      expect(await smi.queryGpus()).toEqual({ available: false, reason: `${binary} exited with code 9: ${DRIVER_FAILURE}` });
      expect(await smi.queryComputeApps()).toBeNull();
      expect(smi.lastFailure).toBe(`${binary} exited with code 9: ${DRIVER_FAILURE}`);
    });

    it("says unavailable when nvidia-smi finds no GPU (exit 6, as driver 580 answers)", async () => {
      const binary = fake("FAKE_NVIDIA_SMI_MODE=no-devices");
      const smi = new NvidiaSmi({ binary });
      expect(await smi.queryGpus()).toEqual({ available: false, reason: `${binary} exited with code 6: No devices were found` });
      expect(await smi.queryComputeApps()).toBeNull();
    });

    it("kills nvidia-smi and says unavailable when it hangs past timeoutMs", async () => {
      const binary = fake("FAKE_NVIDIA_SMI_MODE=hang");
      const smi = new NvidiaSmi({ binary, timeoutMs: 300 });
      const started = performance.now();
      expect(await smi.queryGpus()).toEqual({ available: false, reason: `${binary} did not answer within 300 ms` });
      expect(performance.now() - started).toBeLessThan(3000);
    });
  });
});
