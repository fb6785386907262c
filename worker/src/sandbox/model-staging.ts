import { randomUUID } from "node:crypto";
import { chmodSync, mkdtempSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PlatformFault } from "../faults";

/**
 * Where a sandbox child finds its model: a private folder per evaluation under one root that the
 * child's user may enter but not list (0711), so a child can open only its own model.
 */

/** The root of the private folders, one per pool; removed by the pool's close(). */
export function createPrivateRoot(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), "goat-sandbox-"));
  // 0711: the child may enter its own (randomly named) folder but list none of the others.
  chmodSync(root, 0o711);
  return root;
}

export interface StagedModel {
  path: string;
  remove(): Promise<void>;
}

/**
 * A private folder holding the model, readable by the child's user: a hard link when the
 * stored file is readable to everyone already, else a copy. The child never learns the
 * storage path, and external-data paths resolve inside this folder only.
 */
export async function stageModel(privateRoot: string, modelPath: string): Promise<StagedModel> {
  const dir = path.join(privateRoot, randomUUID().replaceAll("-", ""));
  await fs.mkdir(dir, { mode: 0o711 });
  const remove = () => fs.rm(dir, { recursive: true, force: true });
  const target = path.join(dir, "model.onnx");
  try {
    const { mode } = await fs.stat(modelPath);
    let linked = false;
    if (mode & 0o004) linked = await fs.link(modelPath, target).then(() => true, () => false);
    if (!linked) {
      await fs.copyFile(modelPath, target);
      await fs.chmod(target, 0o444);
    }
  } catch (error) {
    await remove();
    throw new PlatformFault("MODEL_UNAVAILABLE", `cannot stage the model for the sandbox: ${(error as Error).message}`, { cause: error });
  }
  return { path: target, remove };
}
