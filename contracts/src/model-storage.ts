import { accessSync, createReadStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { z } from "zod";
import { S3ModelStorage, type S3ModelStorageConfig } from "./s3-model-storage";

/**
 * Where uploaded models live. The web app puts a checked file in; workers read it back.
 * Both sides need the same key-to-location mapping, so the interface lives with the contracts.
 * Backends, chosen by STORAGE_BACKEND: a directory (one host, or a shared volume) and
 * S3-compatible object storage (s3-model-storage.ts), for workers on several hosts
 * (docs/deployment.md, "More than one GPU host").
 */
export interface ModelStorage {
  readonly kind: string;
  /** Moves a finished local file into storage under `key`: the local file is gone afterwards. */
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
    accessSync(local); // on every evaluation's path: a call of microseconds, not a trip through libuv's thread pool
    return { path: local, release: async () => {} };
  }

  async openRead(key: string): Promise<Readable> {
    const local = this.resolve(key);
    await fs.access(local);
    return createReadStream(local);
  }

  async exists(key: string): Promise<boolean> {
    const local = this.resolve(key); // an unsafe key is an error, not a missing file
    try {
      await fs.access(local);
      return true;
    } catch {
      return false;
    }
  }

  async delete(key: string): Promise<void> {
    await fs.rm(this.resolve(key), { force: true });
  }
}

export type ModelStorageConfig =
  | { backend: "directory"; root: string }
  | ({ backend: "s3" } & S3ModelStorageConfig);

export function createModelStorage(config: ModelStorageConfig): ModelStorage {
  switch (config.backend) {
    case "directory":
      return new DirectoryModelStorage(config.root);
    case "s3":
      return new S3ModelStorage(config);
  }
}

// --- configuration shared by the web app's and the worker's env.ts ------------------------------

/** "true"/"false" (and 1/0) from the environment; z.coerce.boolean() would read "false" as true. */
const flag = z
  .enum(["true", "false", "1", "0"])
  .transform((value) => value === "true" || value === "1");

/** An optional setting where an empty value means unset (compose writes `S3_BUCKET: ${S3_BUCKET:-}` as ""). */
function optionalSetting<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (value === "" ? undefined : value), schema.optional());
}

/**
 * The storage variables, one definition for both deployables (each validates its whole
 * environment once at start-up with this merged in). Documented in .env.example.
 */
export const modelStorageEnvShape = {
  STORAGE_BACKEND: z.enum(["directory", "s3"]).default("directory"),
  STORAGE_DIR: z.string().default(path.resolve("var/storage")),
  /** Unset for AWS S3 itself; MinIO/Ceph: their URL, e.g. http://minio:9000 */
  S3_ENDPOINT: optionalSetting(z.string().url()),
  S3_BUCKET: optionalSetting(z.string().min(3)),
  S3_REGION: optionalSetting(z.string()).transform((value) => value ?? "us-east-1"),
  /** Unset: the AWS SDK's default credential chain (instance role, ~/.aws, AWS_* variables) */
  S3_ACCESS_KEY_ID: optionalSetting(z.string()),
  S3_SECRET_ACCESS_KEY: optionalSetting(z.string()),
  /** MinIO and Ceph usually need path-style URLs (http://host/bucket/key) */
  S3_FORCE_PATH_STYLE: flag.default(false),
  /** Where a worker downloads a model from S3 while it is evaluated; the system temp dir by default */
  S3_DOWNLOAD_DIR: optionalSetting(z.string()),
};

type ModelStorageEnv = z.output<z.ZodObject<typeof modelStorageEnvShape>>;

/** For `.superRefine` on an env schema: S3 needs a bucket, and keys come in pairs. */
export function checkModelStorageEnv(env: ModelStorageEnv, ctx: z.RefinementCtx): void {
  if (env.STORAGE_BACKEND !== "s3") return;
  if (!env.S3_BUCKET) ctx.addIssue({ code: "custom", path: ["S3_BUCKET"], message: "S3_BUCKET is required when STORAGE_BACKEND=s3" });
  if (Boolean(env.S3_ACCESS_KEY_ID) !== Boolean(env.S3_SECRET_ACCESS_KEY)) {
    ctx.addIssue({ code: "custom", path: ["S3_SECRET_ACCESS_KEY"], message: "set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither" });
  }
}

export function modelStorageConfigFromEnv(env: ModelStorageEnv): ModelStorageConfig {
  if (env.STORAGE_BACKEND === "directory") return { backend: "directory", root: env.STORAGE_DIR };
  return {
    backend: "s3",
    bucket: env.S3_BUCKET!,
    endpoint: env.S3_ENDPOINT,
    region: env.S3_REGION,
    forcePathStyle: env.S3_FORCE_PATH_STYLE,
    credentials: env.S3_ACCESS_KEY_ID && env.S3_SECRET_ACCESS_KEY
      ? { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY }
      : undefined,
    downloadDir: env.S3_DOWNLOAD_DIR,
  };
}
