import { describe, expect, it } from "vitest";
import { ParticipantFault } from "../../worker/src/faults";
import { evaluationDevice, mayBeTheHosts } from "../../worker/src/sandbox/host-check";

// Which of a model's faults a known-good model is run for before they stand (worker/src/sandbox/host-check.ts).
// The runs themselves, with real sandbox children: tests/integration/sandbox.test.ts ("process lifecycle").

const fault = (code: string, logDetail?: string) => new ParticipantFault(code, "shown", { logDetail });

describe("mayBeTheHosts", () => {
  it("checks the host after every crash, on either device", () => {
    for (const device of ["cpu", "cuda"] as const) expect(mayBeTheHosts(fault("CRASHED"), device)).toBe(true);
  });

  it("checks after a run error from the GPU's stack on the GPU, and not after a model's own error", () => {
    // Recorded onnxruntime texts (the CUDA execution provider's CUDA_CALL / CUBLAS_CALL failures).
    const gpuErrors = [
      "Non-zero status code returned while running Gemm node. Name:'fc1' Status Message: CUDA error cudaErrorLaunchFailure:unspecified launch failure",
      "Non-zero status code returned while running MatMul node. Name:'m' Status Message: CUBLAS failure 13: CUBLAS_STATUS_EXECUTION_FAILED ; GPU=0",
      "Non-zero status code returned while running Conv node. Name:'c' Status Message: CUDNN failure 8: CUDNN_STATUS_EXECUTION_FAILED",
      "CUDA failure 999: unknown error ; GPU=0 ; hostname=w3 ; expr=cudaDeviceSynchronize();",
    ];
    for (const text of gpuErrors) {
      expect(mayBeTheHosts(fault("MODEL_RUN_FAILED", text), "cuda"), text).toBe(true);
      expect(mayBeTheHosts(fault("MODEL_RUN_FAILED", text), "cpu"), text).toBe(false);
    }
    const modelErrors = [
      "Non-zero status code returned while running Reshape node. Name:'r' Status Message: cannot be reshaped to the requested shape",
      "Got invalid dimensions for input: input for the following indices index: 1 Got: 3 Expected: 784",
    ];
    for (const text of modelErrors) expect(mayBeTheHosts(fault("MODEL_RUN_FAILED", text), "cuda"), text).toBe(false);
    expect(mayBeTheHosts(fault("MODEL_RUN_FAILED"), "cuda")).toBe(false);
  });

  it("checks after a time-out only on the GPU, and never after a model's other faults", () => {
    expect(mayBeTheHosts(fault("TIMEOUT"), "cuda")).toBe(true);
    expect(mayBeTheHosts(fault("TIMEOUT"), "cpu")).toBe(false);
    for (const code of ["MEMORY_LIMIT", "MODEL_LOAD_FAILED", "WRONG_OUTPUT_ROWS", "WRONG_OUTPUT", "EXTERNAL_DATA"]) {
      expect(mayBeTheHosts(fault(code, "CUDA error"), "cuda"), code).toBe(false);
    }
  });

  it("takes the GPU as the device where the worker asks for it and the child found onnxruntime's CUDA provider", () => {
    expect(evaluationDevice("cuda", ["cpu", "cuda"])).toBe("cuda");
    expect(evaluationDevice("auto", ["cpu", "cuda"])).toBe("cuda");
    expect(evaluationDevice("cpu", ["cpu", "cuda"])).toBe("cpu");
    // Asked for, but not on this host (onnxruntime-node without its CUDA library): the CPU it falls back to.
    expect(evaluationDevice("cuda", ["cpu"])).toBe("cpu");
    expect(evaluationDevice("auto", [])).toBe("cpu");
  });
});
