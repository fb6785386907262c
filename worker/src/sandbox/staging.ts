import { randomUUID } from "node:crypto";
import { chmodSync, linkSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { encodeNpy, type NdArray } from "@goat/contracts/dataset/npy";
import { inspectOnnxFile } from "@goat/contracts/onnx/inspect-model";
import { ParticipantFault, PlatformFault } from "../faults";
import { inUidRange, type UidRange } from "./isolation";

/**
 * The only files a sandbox child opens besides its runtime: its model and the test INPUTS, staged
 * by the worker in private folders under one root that the child's user may enter but not list
 * (0711), each folder named at random, so a child opens only what it is told the path of. Labels
 * and the dataset and storage folders never get here.
 */

/** The root of the private folders, one per pool; removed by the pool's close(). */
export function createPrivateRoot(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), "goat-sandbox-"));
  // 0711: the child may enter its own (randomly named) folder but list none of the others.
  chmodSync(root, 0o711);
  return root;
}

/** The warm-up model's file and its test inputs' (onnx/warmup-model.ts), which every child of a pool runs its evaluation code on. */
export interface WarmUpFiles {
  model: string;
  inputs: string;
}

/** The warm-up model and its inputs as read-only files in a private folder of their own. */
export function stageWarmUp(privateRoot: string, model: Uint8Array, inputs: NdArray): WarmUpFiles {
  const { dir } = privateFolder(privateRoot);
  const files = { model: path.join(dir, "warm-up.onnx"), inputs: path.join(dir, "warm-up-inputs.npy") };
  writeFileSync(files.model, model, { mode: 0o444 });
  writeFileSync(files.inputs, encodeNpy(inputs), { mode: 0o444 });
  return files;
}

/**
 * A new private folder under the root. Made at once: a mkdir takes microseconds, where a trip
 * through libuv's thread pool cost ~0.2-0.4 ms of an evaluation's wall time (`npm run bench`).
 */
function privateFolder(privateRoot: string): { dir: string; remove(): Promise<void> } {
  const dir = path.join(privateRoot, randomUUID().replaceAll("-", ""));
  mkdirSync(dir, { mode: 0o711 });
  return { dir, remove: () => fs.rm(dir, { recursive: true, force: true }) };
}

export interface StagedModel {
  path: string;
  remove(): Promise<void>;
}

/**
 * A private folder holding the model, readable by the child's user: a hard link when the
 * stored file is readable to everyone already and no child's user can write it (none of
 * `childUids` is its owner or root; undefined: the worker's own user): a link is the stored file itself, which a child could otherwise change for
 * every later evaluation of the same bytes), else a copy. The child never learns the storage
 * path, and external-data paths resolve inside this folder only. A model that keeps tensors in
 * external-data files is refused here (refuseExternalData), before any child is told its path.
 */
export async function stageModel(privateRoot: string, modelPath: string, childUids: UidRange | undefined): Promise<StagedModel> {
  // The folder, the stat and the link are calls of microseconds, made at once (see privateFolder).
  const { dir, remove } = privateFolder(privateRoot);
  const target = path.join(dir, "model.onnx");
  try {
    const { mode, uid } = statSync(modelPath);
    const childCannotWrite = childUids !== undefined && !inUidRange(childUids, 0) && !inUidRange(childUids, uid);
    let linked = false;
    if (mode & 0o004 && childCannotWrite) {
      try {
        linkSync(modelPath, target);
        linked = true;
      } catch {
        // another file system, or links refused: a copy
      }
    }
    if (!linked) {
      await fs.copyFile(modelPath, target);
      await fs.chmod(target, 0o444);
    }
  } catch (error) {
    await remove();
    throw new PlatformFault("MODEL_UNAVAILABLE", `cannot stage the model for the sandbox: ${(error as Error).message}`, { cause: error });
  }
  try {
    refuseExternalData(target);
  } catch (fault) {
    await remove();
    throw fault;
  }
  return { path: target, remove };
}

/**
 * The intake refused external data already; this is the check again, on the staged file that
 * onnxruntime will open (a model stored before that check existed, or a bug in it, must not reach
 * files next to it). Same reader as the intake. Made here, in the worker, where the reader's code
 * runs on every evaluation and is compiled: in the child, which runs it once, it took ~1.2-1.7 ms
 * of the evaluation instead of ~0.3-0.6 (`npm run bench`, (a)). The staged file is read-only to the
 * child's user, so the child opens what was checked.
 */
function refuseExternalData(modelPath: string): void {
  let external: string[];
  try {
    external = inspectOnnxFile(modelPath).externalDataTensors;
  } catch {
    return; // not readable as ONNX: onnxruntime says why, in its own words (child.ts maps it)
  }
  if (external.length > 0) {
    throw new ParticipantFault(
      "EXTERNAL_DATA",
      `The model keeps ${external.length} tensor(s) in external-data files; only the .onnx file is evaluated. Save the weights inside the file.`,
    );
  }
}

export interface StagedInputs {
  /** One `.npy` file per input tensor, read-only. */
  files: { name: string; path: string }[];
  remove(): Promise<void>;
}

/**
 * The test inputs of one task and dataset version as `.npy` files, written once and read by every
 * child that evaluates it (a read from the page cache, instead of a structured-clone copy through
 * the IPC channel per child: that cost the worker's main thread ~30 ms and each child ~80 ms of CPU
 * for 31 MB of inputs).
 */
export async function stageInputs(privateRoot: string, inputs: Record<string, NdArray>): Promise<StagedInputs> {
  const { dir, remove } = privateFolder(privateRoot);
  try {
    const files = await Promise.all(
      Object.entries(inputs).map(async ([name, array], i) => {
        const file = path.join(dir, `${i}.npy`);
        await fs.writeFile(file, encodeNpy(array), { mode: 0o444 });
        return { name, path: file };
      }),
    );
    return { files, remove };
  } catch (error) {
    await remove();
    throw new PlatformFault("SANDBOX_START_FAILED", `cannot stage the test inputs for the sandbox: ${(error as Error).message}`, { cause: error });
  }
}
