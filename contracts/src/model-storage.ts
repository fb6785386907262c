import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";

/**
 * Where uploaded models live. The web app puts a checked file in; workers read it back.
 * Both sides need the same key-to-location mapping, so the interface lives with the contracts.
 * Backends: a directory (one host, or a shared volume). An S3-compatible backend is planned
 * for workers on several hosts (see README, "Growing past one machine").
 */
export interface ModelStorage {
  readonly kind: string;
  /** Moves (or copies) a finished local file into storage under `key`. */
  putFile(key: string, localPath: string): Promise<void>;
  /** A local path to read the model from; `release()` cleans up any temporary copy. */
  fetchToLocal(key: string): Promise<{ path: string; release(): Promise<void> }>;
  openRead(key: string): Promise<Readable>;
  exists(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
}

const SAFE_KEY = /^[a-zA-Z0-9][a-zA-Z0-9._/-]*$/;

export function assertSafeKey(key: string): void {
  if (!SAFE_KEY.test(key) || key.split("/").includes("..")) throw new Error(`unsafe storage key: ${key}`);
}

/** Key for a submission's model: content-addressed per task, so the same bytes are stored once. */
export function modelStorageKey(taskSlug: string, sha256: string): string {
  return `models/${taskSlug}/${sha256}.onnx`;
}

export class DirectoryModelStorage implements ModelStorage {
  readonly kind = "directory";
  constructor(readonly root: string) {}

  private resolve(key: string): string {
    assertSafeKey(key);
    return path.join(this.root, key);
  }

  async putFile(key: string, localPath: string): Promise<void> {
    const target = this.resolve(key);
    await fs.mkdir(path.dirname(target), { recursive: true });
    try {
      await fs.rename(localPath, target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
      // Temp dir on another filesystem: copy to a sibling, then rename atomically.
      const partial = `${target}.${process.pid}.partial`;
      await fs.copyFile(localPath, partial);
      await fs.rename(partial, target);
      await fs.rm(localPath, { force: true });
    }
  }

  async fetchToLocal(key: string) {
    const local = this.resolve(key);
    await fs.access(local);
    return { path: local, release: async () => {} };
  }

  async openRead(key: string): Promise<Readable> {
    const local = this.resolve(key);
    await fs.access(local);
    return createReadStream(local);
  }

  async exists(key: string): Promise<boolean> {
    try {
      await fs.access(this.resolve(key));
      return true;
    } catch {
      return false;
    }
  }

  async delete(key: string): Promise<void> {
    await fs.rm(this.resolve(key), { force: true });
  }
}

export function createModelStorage(config: { backend: "directory"; root: string }): ModelStorage {
  switch (config.backend) {
    case "directory":
      return new DirectoryModelStorage(config.root);
  }
}
