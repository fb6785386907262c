import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeNpyFile } from "@goat/contracts/dataset/npy";
import type { TensorSpec } from "@goat/contracts/tensor-spec";
import { db } from "@/lib/db";
import { inspectOnnxModel } from "@/lib/onnx/inspect-model";
import { evaluationQueue } from "@/lib/queue/evaluation-queue";
import { buildWrappedExternalDataModel } from "@/tests/support/onnx/hostile-models";
import { ParticipantFault } from "../../worker/src/faults";
import { SandboxPool } from "../../worker/src/sandbox/pool";
import { int64Labels, participantWithTeam, randomRows, taskWithDataset } from "../integration/support/fixtures";
import { upload } from "../integration/support/upload";

/**
 * Issue 8, item 2: a tensor whose data_location is the varint 2^32 + 1 passed the intake (read
 * as 64 bits: "not EXTERNAL") while onnxruntime, which reads the enum as an int32, loads it as
 * external data from the file next to the model: with directory storage, another team's model.
 * Closed at each layer: the intake reads the field as onnxruntime does, the worker checks again
 * before loading, and the child only sees a private folder holding its own model.
 */

const IN = 784;
const OUT = 10;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "goat-external-"));
  chmodSync(dir, 0o755);
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await evaluationQueue().close();
});

describe("a data_location of 2^32 + 1", () => {
  it("is external data to onnxruntime: it reads the weights from the file next to the model", async () => {
    const folder = path.join(dir, "premise");
    mkdirSync(folder);
    const weights = new Float32Array(IN * OUT).fill(0.25);
    writeFileSync(path.join(folder, "weights.bin"), new Uint8Array(weights.buffer));
    writeFileSync(path.join(folder, "model.onnx"), buildWrappedExternalDataModel());
    const session = await ort.InferenceSession.create(path.join(folder, "model.onnx"), { executionProviders: ["cpu"] });
    const out = await session.run({ input: new ort.Tensor("float32", new Float32Array(IN).fill(1), [1, IN]) });
    await session.release();
    expect((out.output.data as Float32Array)[0]).toBeGreaterThan(IN * 0.25 - 1); // 196 + bias: the file's bytes were used
  });

  it("is refused by the intake's reader, as every value but DEFAULT (0) is", () => {
    expect(inspectOnnxModel(buildWrappedExternalDataModel()).externalDataTensors).toEqual(["W"]);
  });

  it("is refused at upload through POST /submit/{task} with a 422, and nothing is stored", async () => {
    const task = await taskWithDataset({
      inputs: randomRows(4, IN, 3),
      labels: int64Labels([0, 1, 2, 3]),
      outputSpec: [{ name: "output", dtype: "float32", shape: [-1, OUT] }],
    });
    const team = await participantWithTeam();
    const response = await upload(task.slug, team.token, buildWrappedExternalDataModel());
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe("EXTERNAL_DATA");
    expect(await db.submission.count({ where: { taskId: task.id } })).toBe(0);
    const stored = await fs.readdir(path.join(process.env.STORAGE_DIR!, "models", task.slug)).catch(() => []);
    expect(stored).toEqual([]);
  });

  it("is refused by the worker before onnxruntime loads a model that got stored anyway", async () => {
    // As directory storage keeps a task's models: one folder, every team's file side by side.
    const storage = path.join(dir, "storage", "task");
    mkdirSync(storage, { recursive: true });
    writeFileSync(path.join(storage, "weights.bin"), new Uint8Array(new Float32Array(IN * OUT).fill(0.25).buffer));
    writeFileSync(path.join(storage, "attacker.onnx"), buildWrappedExternalDataModel());
    const datasetDir = path.join(dir, "data", "task");
    mkdirSync(datasetDir, { recursive: true });
    await writeNpyFile(path.join(datasetDir, "inputs.npy"), randomRows(4, IN, 5));
    const inputSpecs: TensorSpec[] = [{ name: "input", dtype: "float32", shape: [-1, IN] }];
    const pool = new SandboxPool({ maxSpare: 0, hidePaths: [path.join(dir, "storage"), path.join(dir, "data")], logger: { warn: () => undefined } });
    try {
      const error = await pool
        .evaluate(
          {
            modelPath: path.join(storage, "attacker.onnx"),
            datasetDir,
            inputSpecs,
            batchSize: 4,
            executionProvider: { provider: "cpu", deviceId: 0, intraOpThreads: 1 },
          },
          { timeoutMs: 20_000, memoryMb: 1024 },
        )
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ParticipantFault);
      expect((error as ParticipantFault).code).toBe("EXTERNAL_DATA");
      expect((error as ParticipantFault).displayMessage).toMatch(/external-data files; only the \.onnx file is evaluated/);
      // Refused as it was staged: no sandbox process was started for it (the pool keeps no spare here).
      expect(pool.processIds).toEqual([]);
    } finally {
      await pool.close();
    }
  });
});
