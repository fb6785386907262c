// The GPU check for a machine with an NVIDIA GPU: `bash scripts/gpu-check.sh` (docs/deployment.md,
// "GPU check"). Runs the worker's own sandbox pool (worker/src/sandbox/pool.ts) on this host and checks
//   1. the CUDA execution provider is really used: the sandbox reports provider cuda and no CPU
//      fallback warning, and its process holds GPU memory in nvidia-smi;
//   2. the sandbox child appears in nvidia-smi under its own PID (a child of this process), which is
//      what the GPU memory watch relies on;
//   3. GPU_MEM_LIMIT_MB is enforced: a model that allocates ~1 GiB on the GPU under a 256 MB limit is
//      stopped with MEMORY_LIMIT, and a small model under the same limit is scored;
//   4. a timing table of the bench models (bench/evaluation.bench.ts's MLP and a linear model), CPU and CUDA.
// Exit codes: 0 all checks passed, 1 a check failed, 3 no NVIDIA GPU here (nothing GPU-related was checked).
// --dry-run runs what needs no GPU (models, test inputs, the sandbox on the CPU, the table's CPU
// column) so the script itself is known to work before a GPU machine is at hand.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { writeNpyFile } from "@goat/contracts/dataset/npy";
import type { TensorSpec } from "@goat/contracts/tensor-spec";
import { buildLinearClassifier, buildMlp } from "../tools/onnx/build-model";
import { buildAllocatingModel } from "../tools/onnx/allocating-model";
import { procParentPid } from "../worker/src/gpu/gpu-memory-watch";
import { NvidiaSmi, type ComputeApp, type GpuProcessProbe } from "../worker/src/gpu/nvidia-smi";
import { onnxruntimeBindingDir, type ExecutionProviderConfig } from "../worker/src/onnx/execution-provider";
import { SandboxPool, type SandboxRun } from "../worker/src/sandbox/pool";

const ROWS = Number(process.env.GPU_CHECK_ROWS ?? 10_000);
const BATCH = 1_000;
const REPS = Number(process.env.GPU_CHECK_REPS ?? 3);
const DEVICE = Number(process.env.CUDA_DEVICE_ID ?? 0);
const LIMIT_MB = 256;
const dryRun = process.argv.includes("--dry-run");

/** nvidia-smi, remembering every process it reported (the sandbox's PID must be among them). */
class RecordingProbe implements GpuProcessProbe {
  readonly seen = new Map<number, ComputeApp>();
  constructor(private readonly smi: NvidiaSmi) {}
  get lastFailure() {
    return this.smi.lastFailure;
  }
  async queryComputeApps() {
    const apps = await this.smi.queryComputeApps();
    for (const app of apps ?? []) this.seen.set(app.pid, app);
    return apps;
  }
}

const results: { check: string; ok: boolean; detail: string }[] = [];
function record(check: string, ok: boolean, detail: string) {
  results.push({ check, ok, detail });
  console.log(`[gpu-check] ${ok ? "ok  " : "FAIL"} ${check}: ${detail}`);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main(): Promise<number> {
  const smi = new NvidiaSmi();
  const gpus = await smi.queryGpus();
  if (!gpus.available && !dryRun) {
    console.log(`[gpu-check] no NVIDIA GPU on this machine (${gpus.reason}): nothing was checked. Run it on the GPU server; --dry-run checks the rest.`);
    return 3;
  }
  if (gpus.available) console.log(`[gpu-check] ${gpus.gpus.map((g) => `${g.name} (${g.memoryTotalMiB} MiB)`).join(", ")}`);
  const bindingDir = onnxruntimeBindingDir();
  const cudaLibrary = bindingDir && path.join(bindingDir, "libonnxruntime_providers_cuda.so");
  if (!dryRun && !(cudaLibrary && existsSync(cudaLibrary))) {
    console.log("[gpu-check] onnxruntime-node's CUDA provider is not installed: run `ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js` (or use the worker image) and try again.");
    return 1;
  }

  const dir = mkdtempSync(path.join(tmpdir(), "goat-gpu-check-"));
  const probe = new RecordingProbe(smi);
  const pool = new SandboxPool({ maxSpare: 1, gpuMemoryProbe: probe, gpuMemoryPollMs: 200 });
  try {
    const datasetDir = path.join(dir, "task");
    const inputSpecs: TensorSpec[] = [{ name: "input", dtype: "float32", shape: [-1, 784] }];
    const data = new Float32Array(ROWS * 784);
    for (let i = 0; i < data.length; i++) data[i] = ((i * 2654435761) % 1000) / 1000;
    mkdirSync(datasetDir);
    await writeNpyFile(path.join(datasetDir, "inputs.npy"), { dtype: "float32", shape: [ROWS, 784], data });
    const models = {
      linear: buildLinearClassifier({ weights: new Float32Array(784 * 10).fill(0.01), bias: new Float32Array(10), inDim: 784, outDim: 10 }),
      "mlp 784-512-512-10": buildMlp({ sizes: [784, 512, 512, 10], seed: 7 }),
      "allocates 1 GiB": buildAllocatingModel({ bytes: 1024 ** 3 }),
    };
    const modelPath: Record<string, string> = {};
    for (const [name, bytes] of Object.entries(models)) writeFileSync((modelPath[name] = path.join(dir, `${name.replace(/\W+/g, "-")}.onnx`)), bytes);
    const evaluate = (model: string, provider: ExecutionProviderConfig) =>
      pool.evaluate({ modelPath: modelPath[model], datasetDir, inputSpecs, batchSize: BATCH, executionProvider: provider }, { timeoutMs: 120_000, memoryMb: 8_192 });
    const cpu: ExecutionProviderConfig = { provider: "cpu", deviceId: 0, intraOpThreads: 1 };
    // A limit far above what the MLP needs: the watch then polls nvidia-smi during the run.
    const cuda = (limitMb = 16_384): ExecutionProviderConfig => ({ provider: "cuda", deviceId: DEVICE, intraOpThreads: 1, gpuMemLimitBytes: limitMb * 1024 * 1024 });

    const cpuRun = await evaluate("mlp 784-512-512-10", cpu);
    record("the sandbox runs the bench MLP on the CPU", cpuRun.provider === "cpu" && cpuRun.outputs[0].dims[0] === ROWS, `${cpuRun.outputs[0].dims.join("x")} outputs in ${cpuRun.inferenceMs.toFixed(0)} ms`);

    if (!dryRun) {
      const run = await evaluate("mlp 784-512-512-10", cuda());
      const fellBack = run.warnings.filter((w) => /CPU/i.test(w));
      record("CUDA execution provider used (no CPU fallback)", run.provider === "cuda" && run.device === `cuda:${DEVICE}` && fellBack.length === 0, `provider ${run.provider}, device ${run.device}${fellBack.length ? `, warnings: ${fellBack.join("; ")}` : ""}`);
      record("the sandbox measures the model's peak GPU memory (nvidia-smi, per process)", (run.peakGpuMemoryBytes ?? 0) > 0, run.peakGpuMemoryBytes === null ? "not measured" : `${Math.round(run.peakGpuMemoryBytes / 1048576)} MiB`);
      const sandboxes = [...probe.seen.values()].filter((app) => app.pid !== process.pid && procParentPid(app.pid) === process.pid);
      record("the sandbox child is in nvidia-smi under its PID", sandboxes.length > 0, sandboxes.map((app) => `pid ${app.pid} (child of ${process.pid}) ${app.usedMemoryMiB ?? "?"} MiB`).join(", ") || `nvidia-smi listed ${[...probe.seen.keys()].join(", ") || "no process"}`);
      const refused = await evaluate("allocates 1 GiB", cuda(LIMIT_MB)).then(
        () => "scored",
        (e: Error & { code?: string }) => `${e.code}: ${e.message}`,
      );
      record(`GPU_MEM_LIMIT_MB=${LIMIT_MB} stops a model that allocates 1 GiB`, refused.startsWith("MEMORY_LIMIT") && refused.includes("GPU"), refused);
      const small = await evaluate("linear", cuda(LIMIT_MB)).then((r) => `scored on ${r.device}`, (e: Error) => e.message);
      record(`a small model under GPU_MEM_LIMIT_MB=${LIMIT_MB} is scored`, small.startsWith("scored on cuda"), small);
    }

    console.log(`\n[gpu-check] timing: ${ROWS} rows, batches of ${BATCH}, median of ${REPS} (ms)`);
    console.log("model                 provider  session  inference  total");
    for (const model of ["linear", "mlp 784-512-512-10"]) {
      for (const [name, provider] of [["cpu", cpu], ...(dryRun ? [] : [["cuda", cuda()]])] as [string, ExecutionProviderConfig][]) {
        const runs: SandboxRun[] = [];
        for (let i = 0; i < REPS; i++) runs.push(await evaluate(model, provider));
        const session = median(runs.map((r) => r.sessionMs));
        const inference = median(runs.map((r) => r.inferenceMs));
        console.log(`${model.padEnd(22)}${name.padEnd(10)}${session.toFixed(1).padStart(7)}${inference.toFixed(1).padStart(11)}${(session + inference).toFixed(1).padStart(7)}`);
      }
    }
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const failed = results.filter((r) => !r.ok).length;
  console.log(`\n[gpu-check] ${results.length - failed} passed, ${failed} failed${dryRun ? " (dry run: the GPU checks were not run)" : ""}`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`[gpu-check] error: ${(error as Error).stack ?? error}`);
    process.exit(1);
  },
);
