import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeNpyFile } from "@goat/contracts/dataset/npy";
import { PARTICIPANT_MESSAGE_MAX_CHARS } from "@goat/contracts/participant-message";
import type { TensorSpec } from "@goat/contracts/tensor-spec";
import { buildModel } from "@/tools/onnx/build-model";
import { buildFutureOpsetModel, buildHugeAllocationModel, buildTypeMismatchModel, buildUnknownOperatorModel } from "@/tests/support/onnx/failing-models";
import { ParticipantFault } from "../../worker/src/faults";
import { SandboxPool } from "../../worker/src/sandbox/pool";

/**
 * Issue 13, item 7: onnxruntime's own errors reached the participant cut inside C++ internals
 * ("/onnxruntime_src/...: void onnxruntime::BFCArena::AllocateRawInternal(size_t, bool, ...)").
 * Real models trip each error in the real sandbox; the participant gets a plain sentence naming
 * what to change, and the runtime's text goes to the worker log only.
 */

const inputSpecs: TensorSpec[] = [{ name: "input", dtype: "float32", shape: [-1, 784] }];
let dir: string;
let datasetDir: string;
let pool: SandboxPool;
const logged: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "goat-ort-errors-"));
  chmodSync(dir, 0o755);
  datasetDir = path.join(dir, "task");
  mkdirSync(datasetDir);
  await writeNpyFile(path.join(datasetDir, "inputs.npy"), { dtype: "float32", shape: [4, 784], data: new Float32Array(4 * 784).fill(0.5) });
  pool = new SandboxPool({ maxSpare: 1, logger: { warn: (m) => logged.push(m) } });
  pool.warmUp({ datasetDir, inputSpecs });
});

afterAll(async () => {
  await pool?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function faultFor(name: string, bytes: Uint8Array): Promise<ParticipantFault> {
  const modelPath = path.join(dir, `${name}.onnx`);
  writeFileSync(modelPath, bytes);
  const error = await pool
    .evaluate(
      { modelPath, datasetDir, inputSpecs, batchSize: 4, executionProvider: { provider: "cpu", deviceId: 0, intraOpThreads: 1 } },
      { timeoutMs: 20_000, memoryMb: 1024 },
    )
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ParticipantFault);
  const fault = error as ParticipantFault;
  expect(fault.displayMessage.length).toBeLessThanOrEqual(PARTICIPANT_MESSAGE_MAX_CHARS);
  expect(fault.displayMessage).not.toMatch(/onnxruntime_src|::|\/tmp|\.cc:|\.h:/);
  return fault;
}

describe("onnxruntime's errors, as the participant reads them", () => {
  it("an opset newer than the runtime's names the opsets it supports", async () => {
    const fault = await faultFor("future-opset", buildFutureOpsetModel(99));
    expect(fault.code).toBe("UNSUPPORTED_OPSET");
    expect(fault.displayMessage).toMatch(/opset 99 of the standard ONNX domain; the evaluator's onnxruntime runs opsets 7 to \d+\. Export again with opset_version=\d+ or lower\./);
    expect(logged.some((l) => l.includes("Opset 99 is under development"))).toBe(true);
  });

  it("an IR version newer than the runtime's names the newest it reads", async () => {
    const model = buildModel({
      irVersion: 99,
      inputs: [{ name: "input", dtype: "float32", shape: ["N", 784] }],
      outputs: [{ name: "output", dtype: "float32", shape: ["N", 784] }],
      nodes: [{ opType: "Identity", inputs: ["input"], outputs: ["output"] }],
    });
    const fault = await faultFor("future-ir", model);
    expect(fault.code).toBe("UNSUPPORTED_IR_VERSION");
    expect(fault.displayMessage).toMatch(/IR version 99; the evaluator's onnxruntime reads IR versions up to \d+\./);
  });

  it("an unknown operator is named, with the opset it was looked up in", async () => {
    const fault = await faultFor("unknown-op", buildUnknownOperatorModel("TotallyMadeUpOp"));
    expect(fault.code).toBe("UNKNOWN_OPERATOR");
    expect(fault.displayMessage).toMatch(/^The model uses "TotallyMadeUpOp", which onnxruntime does not implement at opset 17\./);
  });

  it("an operator name that is not a plain identifier is not quoted", async () => {
    const fault = await faultFor("unknown-op-long", buildUnknownOperatorModel(`Leak${"x".repeat(200)}`));
    expect(fault.code).toBe("UNKNOWN_OPERATOR");
    expect(fault.displayMessage).toMatch(/^The model uses an operator, which/);
    expect(fault.displayMessage).not.toContain("xxxx");
  });

  it("a type mismatch names the operator and what to change", async () => {
    const fault = await faultFor("type-mismatch", buildTypeMismatchModel());
    expect(fault.code).toBe("TYPE_MISMATCH");
    expect(fault.displayMessage).toMatch(/^The model feeds "Add" inputs of element types it does not accept together .* Cast the inputs/);
  });

  it("a failed allocation gives the size asked for, rounded", async () => {
    const fault = await faultFor("huge-allocation", buildHugeAllocationModel(2 ** 50));
    expect(fault.code).toBe("MEMORY_LIMIT");
    expect(fault.displayMessage).toMatch(/^While running the "Expand" node, the model asked for about 1 PB of memory in one allocation/);
    expect(logged.some((l) => l.includes("Failed to allocate memory for requested buffer of size 1125899906842624"))).toBe(true);
  });
});
