import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeNpyFile } from "@goat/contracts/dataset/npy";
import { buildMlp } from "../../tools/onnx/build-model";
import { buildHangingModel } from "@/tests/support/onnx/failing-models";
import { peakGpuMemory } from "../../worker/src/evaluate-submission";
import { ParticipantFault } from "../../worker/src/faults";
import { procParentPid, usedBytesOf, watchGpuMemory } from "../../worker/src/gpu/gpu-memory-watch";
import { NvidiaSmi, parseComputeApps, type ComputeApp, type GpuProcessProbe } from "../../worker/src/gpu/nvidia-smi";
import { peakOverBaseline } from "../../worker/src/sandbox/limit-watch";
import { SandboxPool } from "../../worker/src/sandbox/pool";

/**
 * The GPU memory watch against a fake nvidia-smi probe (no GPU on the test hosts): it fires
 * once, for the watched process only, and never when nvidia-smi cannot say. Then the sandbox
 * pool, with real child processes and onnxruntime, turning the watch's verdict into
 * MEMORY_LIMIT.
 */

const MiB = 1024 * 1024;
const FIXTURES = path.join(import.meta.dirname, "../fixtures/nvidia-smi");
const UUID = "GPU-6f3b9a2c-1d4e-4f60-9a8b-3c0d1e2f3a4b";

/** Answers each query with the next snapshot (the last one repeats). */
class FakeProbe implements GpuProcessProbe {
  calls = 0;
  lastFailure: string | undefined;
  constructor(private readonly snapshots: ((ComputeApp[] | null) | (() => ComputeApp[] | null))[]) {}
  async queryComputeApps(): Promise<ComputeApp[] | null> {
    const next = this.snapshots[Math.min(this.calls, this.snapshots.length - 1)];
    this.calls++;
    const apps = typeof next === "function" ? next() : next;
    this.lastFailure = apps === null ? "nvidia-smi not found (no NVIDIA driver on this host?)" : undefined;
    return apps;
  }
}

const app = (pid: number, usedMemoryMiB: number | null): ComputeApp => ({ pid, gpuUuid: UUID, usedMemoryMiB });

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > timeoutMs) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 2));
  }
}

function recorder() {
  const warnings: string[] = [];
  return { warnings, logger: { warn: (m: string) => warnings.push(m) } };
}

describe("watchGpuMemory", () => {
  it("calls onExceeded once, with the bytes seen, when the watched process's memory rises past the limit", async () => {
    const probe = new FakeProbe([
      [app(100, 400), app(200, 9000)],
      [app(100, 2100), app(200, 9000)],
      [app(100, 4097), app(200, 9000)],
      [app(100, 6000), app(200, 9000)],
    ]);
    const exceeded: number[] = [];
    watchGpuMemory({ pid: 100, limitBytes: 4096 * MiB, smi: probe, intervalMs: 5, onExceeded: (b) => exceeded.push(b), parentPid: () => 1 });
    await until(() => exceeded.length > 0);
    await new Promise((r) => setTimeout(r, 50));
    expect(exceeded).toEqual([4097 * MiB]);
    expect(probe.calls).toBe(3); // stops polling once it has fired
  });

  it("ignores other processes on the GPU, however much they use", async () => {
    const probe = new FakeProbe([[app(100, 300), app(200, 40_000), app(300, 5000)]]);
    const exceeded: number[] = [];
    const stop = watchGpuMemory({ pid: 100, limitBytes: 1024 * MiB, smi: probe, intervalMs: 5, onExceeded: (b) => exceeded.push(b), parentPid: () => 1 });
    await until(() => probe.calls >= 5);
    stop();
    expect(exceeded).toEqual([]);
  });

  it("counts the memory of the watched process's descendants, on every GPU", async () => {
    const parents: Record<number, number> = { 100: 50, 101: 100, 102: 101, 200: 50 };
    const probe = new FakeProbe([
      [app(100, 300), { pid: 102, gpuUuid: "GPU-other", usedMemoryMiB: 800 }, app(200, 5000)],
    ]);
    const exceeded: number[] = [];
    watchGpuMemory({
      pid: 100,
      limitBytes: 1000 * MiB,
      smi: probe,
      intervalMs: 5,
      onExceeded: (b) => exceeded.push(b),
      parentPid: (pid) => parents[pid],
    });
    await until(() => exceeded.length > 0);
    expect(exceeded).toEqual([1100 * MiB]);
  });

  it("never fires while nvidia-smi is unavailable, and logs it once per probe", async () => {
    const probe = new FakeProbe([null]);
    const { warnings, logger } = recorder();
    const exceeded: number[] = [];
    const stops = [1, 2].map(() =>
      watchGpuMemory({ pid: 100, limitBytes: 1, smi: probe, intervalMs: 5, onExceeded: (b) => exceeded.push(b), logger }),
    );
    await until(() => probe.calls >= 10);
    for (const stop of stops) stop();
    expect(exceeded).toEqual([]);
    expect(warnings).toEqual(["GPU memory limit not enforced: nvidia-smi not found (no NVIDIA driver on this host?)"]);
  });

  it("never fires where the driver hides per-process memory (MIG), and says so", async () => {
    const probe = new FakeProbe([[app(100, null)]]);
    const { warnings, logger } = recorder();
    const exceeded: number[] = [];
    const stop = watchGpuMemory({ pid: 100, limitBytes: 1, smi: probe, intervalMs: 5, onExceeded: (b) => exceeded.push(b), logger, parentPid: () => 1 });
    await until(() => probe.calls >= 3);
    stop();
    expect(exceeded).toEqual([]);
    expect(warnings).toEqual(["GPU memory limit not enforced: nvidia-smi does not report per-process memory on this host (MIG?)"]);
  });

  it("ignores a poll still in flight when stopped", async () => {
    let answer!: (apps: ComputeApp[]) => void;
    const probe: GpuProcessProbe = { queryComputeApps: () => new Promise((r) => (answer = r)) };
    const exceeded: number[] = [];
    const stop = watchGpuMemory({ pid: 100, limitBytes: 1, smi: probe, intervalMs: 5, onExceeded: (b) => exceeded.push(b), parentPid: () => 1 });
    stop();
    answer([app(100, 9999)]);
    // The poll goes on in promise continuations only: they have all run before the next macrotask.
    await new Promise((r) => setImmediate(r));
    expect(exceeded).toEqual([]);
  });
});

describe("peak GPU memory, from recorded nvidia-smi answers", () => {
  const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), "utf8");
  /** The real parser on a recorded answer, with the watched process standing in for one of its pids. */
  const recorded = (name: string, pid: () => string, as: string) => new NvidiaSmi({ run: async () => fixture(name).replaceAll(as, pid()) });

  it.each([
    { fixture: "a40-7-workers.apps.csv", pid: "42068", readings: [5120 * MiB] },
    { fixture: "two-gpus.apps.csv", pid: "18297", readings: [3572 * MiB] },
    { fixture: "idle.apps.csv", pid: "12345", readings: [0] },
  ])("reports $fixture's figure for the watched process, with no limit to enforce", async ({ fixture: name, pid, readings }) => {
    const seen: number[] = [];
    const exceeded: number[] = [];
    const stop = watchGpuMemory({ pid: 7, smi: recorded(name, () => "7", pid), intervalMs: 5, onReading: (b) => seen.push(b), onExceeded: (b) => exceeded.push(b), parentPid: () => 1 });
    await until(() => seen.length >= 2);
    stop();
    expect([...new Set(seen)]).toEqual(readings);
    expect(exceeded).toEqual([]);
  });

  it("reports nothing where the driver hides per-process memory (MIG), and says the peak is not measured", async () => {
    const { warnings, logger } = recorder();
    const seen: number[] = [];
    let polls = 0;
    const probe = new NvidiaSmi({ run: async () => (polls++, fixture("a100-mig.apps.csv").replaceAll("27011", "7")) });
    const stop = watchGpuMemory({ pid: 7, smi: probe, intervalMs: 5, onReading: (b) => seen.push(b), onExceeded: () => undefined, logger, parentPid: () => 1 });
    // A third poll is scheduled only after the first two answers were handled.
    await until(() => polls >= 3);
    stop();
    expect(seen).toEqual([]);
    expect(warnings).toEqual(["GPU memory not measured: nvidia-smi does not report per-process memory on this host (MIG?)"]);
  });

  it("gives the sandbox's evaluation its peak; a result stores it only when the model ran on CUDA", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "goat-gpu-peak-"));
    try {
      const datasetDir = path.join(dir, "task");
      mkdirSync(datasetDir);
      await writeNpyFile(path.join(datasetDir, "inputs.npy"), { dtype: "float32", shape: [8, 784], data: new Float32Array(8 * 784) });
      const modelPath = path.join(dir, "mlp.onnx");
      writeFileSync(modelPath, buildMlp({ sizes: [784, 8, 10], seed: 3 }));
      const pool: SandboxPool = new SandboxPool({ maxSpare: 0, gpuMemoryProbe: recorded("a40-7-workers.apps.csv", () => String(pool.processIds[0] ?? 0), "41955"), gpuMemoryPollMs: 5, logger: { warn: () => undefined } });
      try {
        const run = await pool.evaluate(
          { modelPath, datasetDir, inputSpecs: [{ name: "input", dtype: "float32", shape: [-1, 784] }], batchSize: 8, executionProvider: { provider: "cuda", deviceId: 0, intraOpThreads: 1 } },
          { timeoutMs: 20_000, memoryMb: 1024 },
        );
        expect(run.peakGpuMemoryBytes).toBe(4096 * MiB);
        // No CUDA on the test hosts: the child fell back to the CPU, so the result stores no GPU figure.
        expect(run.provider).toBe("cpu");
        expect(peakGpuMemory(run)).toBeNull();
        expect(peakGpuMemory({ provider: "cuda", peakGpuMemoryBytes: run.peakGpuMemoryBytes })).toBe(4096n * 1048576n);
      } finally {
        await pool.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe("peakOverBaseline", () => {
  it.each([
    { case: "sampled peak only", baseline: 100, sampled: 150, child: undefined, peak: 50 },
    { case: "child's mark set before the evaluation (reading the inputs) is ignored", baseline: 100, sampled: 150, child: { atStart: 400, atEnd: 400 }, peak: 50 },
    { case: "child's mark raised during the evaluation: a peak between two samples", baseline: 100, sampled: 150, child: { atStart: 120, atEnd: 300 }, peak: 200 },
    { case: "the child's figure never lowers the parent's own samples", baseline: 100, sampled: 500, child: { atStart: 120, atEnd: 300 }, peak: 400 },
    { case: "never below zero (RSS fell under the baseline)", baseline: 100, sampled: 90, child: undefined, peak: 0 },
  ])("$case", ({ baseline, sampled, child, peak }) => {
    expect(peakOverBaseline(baseline, sampled, child)).toBe(peak);
  });
});

describe("usedBytesOf and procParentPid", () => {
  it("sums the process's own entries (one per GPU it holds a context on)", () => {
    expect(usedBytesOf(7, [app(7, 100), { pid: 7, gpuUuid: "GPU-b", usedMemoryMiB: 50 }, app(8, 1)], () => 1)).toEqual({
      bytes: 150 * MiB,
      unreported: false,
    });
  });

  it("counts the real H200 recording's two CUDA processes for their parent, and each for itself", () => {
    // tests/fixtures/nvidia-smi/h200-two-holders.apps.csv: pids 568 and 569, children of 540 (the check).
    const apps = parseComputeApps(readFileSync(path.join(FIXTURES, "h200-two-holders.apps.csv"), "utf8"));
    const parent = (pid: number) => ({ 568: 540, 569: 540, 540: 1 })[pid];
    expect(usedBytesOf(540, apps, parent)).toEqual({ bytes: (868 + 1636) * MiB, unreported: false });
    expect(usedBytesOf(568, apps, parent)).toEqual({ bytes: 868 * MiB, unreported: false });
    expect(usedBytesOf(541, apps, parent)).toEqual({ bytes: 0, unreported: false });
  });

  it("reads a process's parent from /proc", () => {
    expect(procParentPid(process.pid)).toBe(process.ppid);
    expect(procParentPid(2 ** 30)).toBeUndefined();
  });
});

describe("SandboxPool with a GPU memory limit", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "goat-gpu-watch-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("kills a model whose process nvidia-smi reports over the limit (MEMORY_LIMIT) and leaves CPU evaluations alone", async () => {
    const datasetDir = path.join(dir, "task");
    mkdirSync(datasetDir);
    const rows = 16;
    await writeNpyFile(path.join(datasetDir, "inputs.npy"), { dtype: "float32", shape: [rows, 784], data: new Float32Array(rows * 784) });
    const modelPath = path.join(dir, "hanging.onnx");
    writeFileSync(modelPath, buildHangingModel());

    // The pool's children (spare or running) each hold 5000 MiB, as far as "nvidia-smi" says.
    const probe = new FakeProbe([(): ComputeApp[] => pool.processIds.map((pid: number) => app(pid, 5000))]);
    const { warnings, logger } = recorder();
    const pool: SandboxPool = new SandboxPool({ maxSpare: 0, gpuMemoryProbe: probe, gpuMemoryPollMs: 20, logger });
    try {
      const request = {
        modelPath,
        datasetDir,
        inputSpecs: [{ name: "input", dtype: "float32" as const, shape: [-1, 784] }],
        batchSize: rows,
      };
      const started = performance.now();
      const error = await pool
        .evaluate(
          { ...request, executionProvider: { provider: "cuda", deviceId: 0, intraOpThreads: 1, gpuMemLimitBytes: 4096 * MiB } },
          { timeoutMs: 20_000, memoryMb: 2048 },
        )
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ParticipantFault);
      expect((error as ParticipantFault).code).toBe("MEMORY_LIMIT");
      expect((error as ParticipantFault).displayMessage).toBe("The model used 5000 MB of GPU memory (limit 4096 MB)");
      expect(performance.now() - started).toBeLessThan(15_000);
      expect(warnings).toEqual([]);

      // On the CPU the watch does not run: the same hanging model ends at the wall-clock limit.
      const callsBefore = probe.calls;
      const timeout = await pool
        .evaluate(
          { ...request, executionProvider: { provider: "cpu", deviceId: 0, intraOpThreads: 1, gpuMemLimitBytes: 4096 * MiB } },
          { timeoutMs: 300, memoryMb: 2048 },
        )
        .catch((e: unknown) => e);
      expect((timeout as ParticipantFault).code).toBe("TIMEOUT");
      expect(probe.calls).toBe(callsBefore);
    } finally {
      await pool.close();
    }
  }, 30_000);
});
