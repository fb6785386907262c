import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { InferenceSession } from "onnxruntime-node";

/**
 * Where a worker runs its models. `auto` takes CUDA when this host can run it, else the CPU.
 * `gpuMemLimitBytes` caps onnxruntime's CUDA arena (see the note on `gpu_mem_limit` below).
 */
export interface ExecutionProviderConfig {
  provider: "cuda" | "cpu" | "auto";
  deviceId: number;
  gpuMemLimitBytes?: number;
  /** Threads per operator. 1 by default: several workers share a host, and on 2 cores 1 was faster. */
  intraOpThreads: number;
}

export interface ExecutionProviderChoice {
  sessionOptions: InferenceSession.SessionOptions;
  provider: "cuda" | "cpu";
  /** Human-readable: "cpu" or "cuda:0". */
  device: string;
  /** Set when the configuration asked for something this host cannot give (logged by the caller). */
  warning?: string;
}

/**
 * The CUDA execution provider's options, by onnxruntime's own key names (those of
 * `OrtCUDAProviderOptionsV2` / `UpdateCUDAProviderOptions`, also used by the Python API).
 *
 * onnxruntime-node 1.30's binding (js/node/src/session_options_helper.cc) reads only `name`
 * and `deviceId` from a `{ name: "cuda" }` entry and ignores every other key without error
 * (checked: the strings `gpu_mem_limit` / `arena_extend_strategy` do not occur in
 * onnxruntime_binding.node 1.30.0). The keys are passed anyway, so a binding that forwards
 * them picks them up with no change here; until then the sandbox's own memory watch is what
 * holds a model to its limit.
 */
export interface CudaProviderOptions {
  readonly name: "cuda";
  deviceId: number;
  gpu_mem_limit?: string;
  arena_extend_strategy?: "kNextPowerOfTwo" | "kSameAsRequested";
}

/**
 * Pure: configuration + the backends this host can really run -> session options.
 * `availableBackends` comes from `detectAvailableBackends()` in production, from the test
 * in tests.
 */
export function chooseExecutionProvider(
  config: ExecutionProviderConfig,
  availableBackends: readonly string[],
): ExecutionProviderChoice {
  const intraOpNumThreads = Math.max(1, Math.floor(config.intraOpThreads || 1));
  const base: InferenceSession.SessionOptions = {
    intraOpNumThreads,
    // Operators of one graph run one after another; parallelism is inside each operator
    // (intraOp). A worker owns its slice of the host, so no inter-op thread pool either.
    interOpNumThreads: 1,
    executionMode: "sequential",
    // "all" includes the layout transformations (NCHWc) that make CPU convolutions fast.
    // It costs a few ms at session creation, which each evaluation pays once; inference
    // over a test set of thousands of rows gains more than that.
    graphOptimizationLevel: "all",
    // The arena keeps freed blocks for the next batch, so batches after the first allocate
    // nothing. The child process lives for one evaluation, so the memory it holds is given
    // back when the process exits; and the sandbox's RSS watch still sees every byte.
    enableCpuMemArena: true,
    enableMemPattern: true,
  };

  const cudaAvailable = availableBackends.includes("cuda");
  const wantsCuda = config.provider === "cuda" || config.provider === "auto";

  if (wantsCuda && cudaAvailable) {
    const cuda: CudaProviderOptions = { name: "cuda", deviceId: config.deviceId };
    if (config.gpuMemLimitBytes !== undefined && config.gpuMemLimitBytes > 0) {
      cuda.gpu_mem_limit = String(Math.floor(config.gpuMemLimitBytes));
      // With a cap, grow the arena by what is asked, not to the next power of two, so a
      // model that fits under the cap is not refused for the arena's rounding.
      cuda.arena_extend_strategy = "kSameAsRequested";
    }
    return {
      // CPU stays listed: operators CUDA lacks fall back to it, as onnxruntime intends.
      sessionOptions: { ...base, executionProviders: [cuda, "cpu"] },
      provider: "cuda",
      device: `cuda:${config.deviceId}`,
    };
  }

  const choice: ExecutionProviderChoice = {
    sessionOptions: { ...base, executionProviders: ["cpu"] },
    provider: "cpu",
    device: "cpu",
  };
  if (config.provider === "cuda") {
    choice.warning =
      `CUDA execution provider requested (device ${config.deviceId}) but not available on this host ` +
      `(available: ${availableBackends.join(", ") || "none"}); running on the CPU`;
  }
  return choice;
}

/** The same choice, forced onto the CPU after the CUDA EP failed at session creation. */
export function cpuFallback(config: ExecutionProviderConfig, reason: string): ExecutionProviderChoice {
  const choice = chooseExecutionProvider({ ...config, provider: "cpu" }, ["cpu"]);
  choice.warning = `CUDA execution provider failed (${reason}); running on the CPU`;
  return choice;
}

/**
 * The backends this host can run. `listSupportedBackends()` says what the binding was
 * compiled with: on linux/x64 it lists `{ name: "cuda", bundled: false }` even when the
 * provider library was never installed (npm ships it without; `ONNXRUNTIME_NODE_INSTALL=cuda12`
 * fetches it from NuGet at install). A backend that is not bundled counts only when its
 * library lies beside the binding. Whether the GPU and CUDA/cuDNN libraries really work is
 * known only when a session is created: the child falls back to CPU on that failure.
 */
export function detectAvailableBackends(
  supported: readonly { name: string; bundled: boolean }[],
  bindingDir: string | undefined = onnxruntimeBindingDir(),
): string[] {
  return supported
    .filter((b) => b.bundled || (bindingDir !== undefined && existsSync(path.join(bindingDir, providerLibraryName(b.name)))))
    .map((b) => b.name);
}

function providerLibraryName(backend: string): string {
  if (process.platform === "win32") return `onnxruntime_providers_${backend}.dll`;
  if (process.platform === "darwin") return `libonnxruntime_providers_${backend}.dylib`;
  return `libonnxruntime_providers_${backend}.so`;
}

/** node_modules/onnxruntime-node, as Node resolves it from here; throws where it is not installed. */
export function onnxruntimePackageDir(): string {
  return path.dirname(createRequire(import.meta.url).resolve("onnxruntime-node/package.json"));
}

/** The folder of onnxruntime-node's native bindings, one subfolder per `<platform>/<arch>`. */
export function onnxruntimeBindingsRoot(packageDir: string): string {
  return path.join(packageDir, "bin", "napi-v6");
}

/** node_modules/onnxruntime-node/bin/napi-v6/<platform>/<arch>, where the binding loads providers from. */
export function onnxruntimeBindingDir(): string | undefined {
  try {
    return path.join(onnxruntimeBindingsRoot(onnxruntimePackageDir()), process.platform, process.arch);
  } catch {
    return undefined;
  }
}
