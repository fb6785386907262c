import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import {
  chooseExecutionProvider,
  cpuFallback,
  detectAvailableBackends,
  type ExecutionProviderConfig,
} from "../../worker/src/onnx/execution-provider";
import { buildWarmupModel } from "../../worker/src/onnx/warmup-model";

const base: ExecutionProviderConfig = { provider: "cpu", deviceId: 0, intraOpThreads: 1 };

describe("chooseExecutionProvider", () => {
  it("puts CUDA first, with its device id, and keeps the CPU as fallback when CUDA is available", () => {
    const choice = chooseExecutionProvider({ ...base, provider: "cuda", deviceId: 1 }, ["cpu", "cuda"]);
    expect(choice.provider).toBe("cuda");
    expect(choice.device).toBe("cuda:1");
    expect(choice.warning).toBeUndefined();
    expect(choice.sessionOptions.executionProviders).toEqual([{ name: "cuda", deviceId: 1 }, "cpu"]);
  });

  it("passes the GPU memory limit as onnxruntime's gpu_mem_limit (bytes, as a string) with arena growth as requested", () => {
    const choice = chooseExecutionProvider({ ...base, provider: "cuda", gpuMemLimitBytes: 2 * 1024 ** 3 }, ["cpu", "cuda"]);
    expect(choice.sessionOptions.executionProviders?.[0]).toEqual({
      name: "cuda",
      deviceId: 0,
      gpu_mem_limit: "2147483648",
      arena_extend_strategy: "kSameAsRequested",
    });
  });

  it("falls back to the CPU with a warning when CUDA is configured but missing", () => {
    const choice = chooseExecutionProvider({ ...base, provider: "cuda", deviceId: 2 }, ["cpu", "webgpu"]);
    expect(choice.provider).toBe("cpu");
    expect(choice.device).toBe("cpu");
    expect(choice.sessionOptions.executionProviders).toEqual(["cpu"]);
    expect(choice.warning).toMatch(/CUDA execution provider requested \(device 2\) but not available.*available: cpu, webgpu/);
  });

  it("auto takes CUDA when available and the CPU, silently, when not", () => {
    const gpu = chooseExecutionProvider({ ...base, provider: "auto", deviceId: 3 }, ["cpu", "cuda"]);
    expect(gpu.provider).toBe("cuda");
    expect(gpu.device).toBe("cuda:3");
    const cpu = chooseExecutionProvider({ ...base, provider: "auto" }, ["cpu"]);
    expect(cpu.provider).toBe("cpu");
    expect(cpu.warning).toBeUndefined();
  });

  it("stays on the CPU when configured so, even with CUDA available", () => {
    const choice = chooseExecutionProvider({ ...base, provider: "cpu", gpuMemLimitBytes: 1024 }, ["cpu", "cuda"]);
    expect(choice.provider).toBe("cpu");
    expect(choice.sessionOptions.executionProviders).toEqual(["cpu"]);
    expect(choice.warning).toBeUndefined();
  });

  it("sets intra-op threads from the configuration (at least 1) and one inter-op thread", () => {
    expect(chooseExecutionProvider({ ...base, intraOpThreads: 4 }, ["cpu"]).sessionOptions.intraOpNumThreads).toBe(4);
    expect(chooseExecutionProvider({ ...base, intraOpThreads: 0 }, ["cpu"]).sessionOptions.intraOpNumThreads).toBe(1);
    expect(chooseExecutionProvider({ ...base, intraOpThreads: 1 }, ["cpu"]).sessionOptions.interOpNumThreads).toBe(1);
  });

  it("keeps the CPU arena and full graph optimisation", () => {
    const { sessionOptions } = chooseExecutionProvider(base, ["cpu"]);
    expect(sessionOptions.enableCpuMemArena).toBe(true);
    expect(sessionOptions.graphOptimizationLevel).toBe("all");
    expect(sessionOptions.executionMode).toBe("sequential");
  });

  it("ignores a non-positive GPU memory limit", () => {
    const choice = chooseExecutionProvider({ ...base, provider: "cuda", gpuMemLimitBytes: 0 }, ["cuda"]);
    expect(choice.sessionOptions.executionProviders?.[0]).toEqual({ name: "cuda", deviceId: 0 });
  });

  it("cpuFallback says why CUDA was dropped", () => {
    const choice = cpuFallback({ ...base, provider: "cuda" }, "Failed to load shared library");
    expect(choice.provider).toBe("cpu");
    expect(choice.warning).toBe("CUDA execution provider failed (Failed to load shared library); running on the CPU");
  });
});

describe("detectAvailableBackends", () => {
  it("counts a backend that is not bundled only when its provider library is installed", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "ort-bin-"));
    try {
      const listed = [
        { name: "cpu", bundled: true },
        { name: "cuda", bundled: false },
        { name: "tensorrt", bundled: false },
      ];
      expect(detectAvailableBackends(listed, dir)).toEqual(["cpu"]);
      writeFileSync(path.join(dir, "libonnxruntime_providers_cuda.so"), "");
      expect(detectAvailableBackends(listed, dir)).toEqual(["cpu", "cuda"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("finds the CPU in the installed onnxruntime-node, and CUDA only if its library was installed", () => {
    const available = detectAvailableBackends(ort.listSupportedBackends());
    expect(available).toContain("cpu");
    // npm's onnxruntime-node lists cuda (compiled in) but ships without its provider library.
    const listed = ort.listSupportedBackends().map((b) => b.name);
    expect(listed).toContain("cpu");
  });

  it("gives session options that onnxruntime-node accepts", async () => {
    const { sessionOptions } = chooseExecutionProvider({ ...base, intraOpThreads: 2 }, detectAvailableBackends(ort.listSupportedBackends()));
    const session = await ort.InferenceSession.create(buildWarmupModel(), sessionOptions);
    const out = await session.run({ X: new ort.Tensor("float32", new Float32Array([1, 2, 3, 4]), [1, 4]) });
    const y = out.Y.data as Float32Array;
    expect(out.Y.dims).toEqual([1, 3]);
    expect(y[0] + y[1] + y[2]).toBeCloseTo(1, 5);
    await session.release();
  });
});
