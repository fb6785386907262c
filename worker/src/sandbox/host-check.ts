import { ParticipantFault, PlatformFault } from "../faults";
import type { ExecutionProviderConfig } from "../onnx/execution-provider";
import { WARMUP_INPUT, WARMUP_INPUT_SPECS, WARMUP_ROWS } from "../onnx/warmup-model";
import type { GpuWatchSettings, SandboxLimits } from "./limit-watch";
import type { KeyedInputs, SandboxProcess } from "./sandbox-process";
import type { WarmUpFiles } from "./staging";

/**
 * Whose fault is a crash: the model's, or the host's?
 *
 * A sandbox process that dies of a signal, a CUDA error in the middle of a run, a model that hangs
 * on the GPU: a hostile or broken model does that, and so does a host whose GPU has failed (an Xid
 * error, a driver reset, an ECC fault) or whose runtime is damaged. Charged to the team, a broken
 * host fails every queued submission as the teams' faults, each an attempt of their quota, with no
 * retry. So before such a verdict stands, the worker runs a known-good model (the warm-up model
 * every sandbox child runs before it is ready) in a fresh sandbox process, with the evaluation's
 * execution provider. If it runs, the fault is the model's, as before. If it fails too, the fault
 * is the host's: a `HOST_FAULT` platform fault, retried (on another worker, as the sandbox breaker
 * pauses this one after a few: sandbox-breaker.ts), at no cost to the team.
 *
 * The check costs one sandbox process's start and a run of a 4-row model (~0.2-1 s), only after a
 * verdict of this kind; a team that uploads crashing models pays for it with its own attempts.
 */

/** The raw text of a runtime error that names the GPU's stack rather than the model. */
const GPU_STACK_ERROR = /\bCUDA\b|cudaError|\bcuDNN\b|CUDNN_STATUS|CUBLAS|cuBLAS|CUFFT|CURAND|\bNCCL\b|\bXid\b/i;

/**
 * The provider an evaluation could run on: CUDA where the worker asks for it (cuda or auto) and the
 * sandbox child found onnxruntime's CUDA provider on this host (its `ready` message), else the CPU.
 */
export function evaluationDevice(asked: ExecutionProviderConfig["provider"], backends: readonly string[]): "cuda" | "cpu" {
  return asked !== "cpu" && backends.includes("cuda") ? "cuda" : "cpu";
}

/**
 * Whether a participant's fault could be the host's, so that a known-good model should run before
 * it stands: a crashed sandbox process on any device; on the GPU (`evaluationDevice`), a run that
 * failed with an error of the GPU's stack, or one past its time limit (a hung GPU looks like that).
 * On the CPU a model past its limit is the model's: no check for each.
 */
export function mayBeTheHosts(fault: ParticipantFault, device: "cuda" | "cpu"): boolean {
  if (fault.code === "CRASHED") return true;
  if (device === "cpu") return false;
  return fault.code === "TIMEOUT" || (fault.code === "MODEL_RUN_FAILED" && GPU_STACK_ERROR.test(fault.logDetail ?? ""));
}

/** The known-good model's time and memory: ample for a 4-row Gemm, on any host that works. */
export const KNOWN_GOOD_LIMITS: SandboxLimits = { timeoutMs: 15_000, memoryMb: 1024 };

/** The inputs' key of the known-good run: no task's (those are hashes of a dataset version). */
const KNOWN_GOOD_INPUTS_KEY = "known-good-model";

/**
 * Runs the warm-up model in `child` (a fresh sandbox process, killed after) with `provider`.
 * Resolves with undefined when it ran to its result (a row of outputs per input row), else with what
 * went wrong, in words for the log.
 */
export async function knownGoodModelFails(
  child: SandboxProcess,
  files: WarmUpFiles,
  provider: ExecutionProviderConfig,
  settings: { startTimeoutMs: number; memoryPollMs: number; gpu: GpuWatchSettings },
): Promise<string | undefined> {
  const inputs: KeyedInputs = {
    key: KNOWN_GOOD_INPUTS_KEY,
    staged: Promise.resolve({ files: [{ name: WARMUP_INPUT, path: files.inputs }], remove: async () => undefined }),
    batchRows: 1,
  };
  try {
    child.prepare(inputs);
    await child.readyFor(inputs.key, settings.startTimeoutMs);
    const { result } = await child.run(
      {
        modelPath: files.model,
        inputsKey: inputs.key,
        inputSpecs: WARMUP_INPUT_SPECS,
        batchSize: 1,
        executionProvider: provider,
      },
      KNOWN_GOOD_LIMITS,
      settings.memoryPollMs,
      settings.gpu,
    );
    const rows = result.outputs[0]?.dims[0] ?? 0;
    return rows === WARMUP_ROWS ? undefined : `it returned ${rows} rows of outputs for ${WARMUP_ROWS}`;
  } catch (error) {
    const detail = error instanceof ParticipantFault ? (error.logDetail ?? error.displayMessage) : (error as Error).message;
    return `${error instanceof ParticipantFault || error instanceof PlatformFault ? error.code : "error"}: ${detail.slice(0, 300)}`;
  } finally {
    child.kill();
  }
}
