import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ParticipantFault } from "../../worker/src/faults";
import { createPrivateRoot, stageModel } from "../../worker/src/sandbox/staging";
import { buildLinearClassifier } from "../../tools/onnx/build-model";
import { buildWrappedExternalDataModel } from "../support/onnx/hostile-models";

// The model's private copy for a sandbox child: a hard link (no copy of the bytes) only when the
// child's user cannot write the stored file; a child that could gets a copy of its own.
describe("stageModel", () => {
  const root = createPrivateRoot();
  let storeDir: string;

  async function storedModel(bytes: string | Uint8Array = "model bytes"): Promise<{ file: string; uid: number; ino: number }> {
    storeDir ??= await fs.mkdtemp(path.join(os.tmpdir(), "goat-staging-store-"));
    const file = path.join(storeDir, `${Math.random().toString(36).slice(2)}.onnx`);
    await fs.writeFile(file, bytes, { mode: 0o644 });
    const stat = await fs.stat(file);
    return { file, uid: stat.uid, ino: stat.ino };
  }

  afterAll(async () => {
    await fs.rm(root, { recursive: true, force: true });
    if (storeDir) await fs.rm(storeDir, { recursive: true, force: true });
  });

  it("links the stored file for children of other, unprivileged users", async () => {
    const stored = await storedModel();
    const staged = await stageModel(root, stored.file, { first: stored.uid + 1, count: 1_000 });
    expect((await fs.stat(staged.path)).ino).toBe(stored.ino);
    await staged.remove();
  });

  it("copies it, read-only, where a child may own the stored file or run as root", async () => {
    const stored = await storedModel();
    const childUids = [{ first: stored.uid, count: 1 }, { first: Math.max(0, stored.uid - 10), count: 20 }, { first: 0, count: 1 }, undefined];
    for (const uids of childUids) {
      const staged = await stageModel(root, stored.file, uids);
      const stat = await fs.stat(staged.path);
      expect(stat.ino, JSON.stringify(uids)).not.toBe(stored.ino);
      expect(stat.mode & 0o777).toBe(0o444);
      expect(await fs.readFile(staged.path, "utf8")).toBe("model bytes");
      await staged.remove();
    }
  });

  it("refuses a model that keeps tensors in external-data files, and leaves no folder of it behind", async () => {
    const before = await fs.readdir(root);
    const stored = await storedModel(buildWrappedExternalDataModel());
    const error = await stageModel(root, stored.file, undefined).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParticipantFault);
    expect((error as ParticipantFault).code).toBe("EXTERNAL_DATA");
    expect(await fs.readdir(root)).toEqual(before);
    // A model with its weights inside is staged.
    const plain = await storedModel(buildLinearClassifier({ weights: new Float32Array(8).fill(0.5), bias: new Float32Array(2), inDim: 4, outDim: 2 }));
    const staged = await stageModel(root, plain.file, undefined);
    expect((await fs.stat(staged.path)).size).toBe((await fs.stat(plain.file)).size);
    await staged.remove();
  });
});
