import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";

// scripts/gpu-check.ts is meant for the GPU server; what can run here is checked here: it tells a
// machine without an NVIDIA GPU apart (exit 3, nothing claimed), and its dry run drives the real
// sandbox on the CPU and prints the timing table.

const ROOT = path.resolve(__dirname, "../..");

function gpuCheck(args: string[], script = "scripts/gpu-check.ts") {
  const result = spawnSync(process.execPath, ["--import", "tsx", script, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    // No nvidia-smi on this PATH (only node's own directory and the system's).
    env: { ...process.env, PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`, GPU_CHECK_ROWS: "2000", GPU_CHECK_REPS: "1" },
    timeout: 120_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("scripts/gpu-check.ts without a GPU", () => {
  it("exits 3 and says that nothing was checked when no NVIDIA GPU is found", () => {
    const { status, output } = gpuCheck([]);
    expect(output).toContain("no NVIDIA GPU on this machine");
    expect(output).not.toContain("passed");
    expect(status).toBe(3);
  }, 120_000);

  it("--dry-run evaluates the bench MLP in the real sandbox on the CPU and prints the CPU timings", () => {
    const { status, output } = gpuCheck(["--dry-run"]);
    expect(output).toMatch(/ok {3}the sandbox runs the bench MLP on the CPU: 2000x10 outputs/);
    expect(output).toMatch(/mlp 784-512-512-10 +cpu +\d+\.\d +\d+\.\d +\d+\.\d/);
    expect(output).not.toMatch(/ cuda /);
    expect(output).toContain("1 passed, 0 failed (dry run");
    expect(status).toBe(0);
  }, 120_000);
});

describe("scripts/gpu-watch-check.ts without a GPU", () => {
  it("exits 3 and says that nothing was checked", () => {
    const { status, output } = gpuCheck([], "scripts/gpu-watch-check.ts");
    expect(output).toContain("no NVIDIA GPU on this machine");
    expect(output).not.toContain("passed");
    expect(status).toBe(3);
  }, 60_000);
});
