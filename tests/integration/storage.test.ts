import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { text } from "node:stream/consumers";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createModelStorage, modelStorageConfigFromEnv, type ModelStorage } from "@goat/contracts/model-storage";
import { loadWorkerEnv } from "../../worker/src/env";

// The ModelStorage contract, run against both backends and real servers: a directory, and an
// S3-compatible server (s3rver from npm: S3's REST API over a directory, multipart uploads included)
// started here on a free port.

let scratch: string;
let s3: S3rver;
let s3Endpoint: string;
const BUCKET = "goat-models";
const CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" }; // s3rver's only key pair

beforeAll(async () => {
  scratch = await fs.mkdtemp(path.join(os.tmpdir(), "goat-storage-test-"));
  s3 = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory: path.join(scratch, "s3rver"),
    configureBuckets: [{ name: BUCKET, configs: [] }],
  });
  const address = await s3.run();
  s3Endpoint = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  await s3?.close();
  await fs.rm(scratch, { recursive: true, force: true });
});

async function spool(bytes: Uint8Array): Promise<string> {
  const file = path.join(scratch, `spool-${randomBytes(6).toString("hex")}.part`);
  await fs.writeFile(file, bytes);
  return file;
}

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

const backends: { name: string; make(): ModelStorage; downloadDir?: () => string }[] = [
  { name: "directory", make: () => createModelStorage({ backend: "directory", root: path.join(scratch, "dir-storage") }) },
  {
    name: "s3",
    make: () =>
      createModelStorage({
        backend: "s3",
        bucket: BUCKET,
        endpoint: s3Endpoint,
        region: "us-east-1",
        forcePathStyle: true,
        credentials: CREDENTIALS,
        downloadDir: path.join(scratch, "s3-downloads"),
        partSizeBytes: 5 * 1024 * 1024,
      }),
    downloadDir: () => path.join(scratch, "s3-downloads"),
  },
];

describe.each(backends)("$name model storage", (backend) => {
  let storage: ModelStorage;
  beforeAll(() => {
    storage = backend.make();
  });

  it("putFile moves the spooled file in: it exists under its key and the spool copy is gone", async () => {
    const bytes = randomBytes(4096);
    const key = `models/t1/${sha(bytes)}.onnx`;
    const file = await spool(bytes);
    expect(await storage.exists(key)).toBe(false);
    await storage.putFile(key, file);
    expect(await storage.exists(key)).toBe(true);
    await expect(fs.access(file)).rejects.toThrow();
  });

  it("fetchToLocal gives a readable local file with the same bytes; release cleans up only temporary copies", async () => {
    const bytes = randomBytes(70_000);
    const key = `models/t1/${sha(bytes)}.onnx`;
    await storage.putFile(key, await spool(bytes));
    const local = await storage.fetchToLocal(key);
    expect(sha(await fs.readFile(local.path))).toBe(sha(bytes));
    await local.release();
    if (backend.name === "s3") {
      await expect(fs.access(local.path)).rejects.toThrow();
      expect(await fs.readdir(backend.downloadDir!())).toEqual([]);
    } else {
      expect(sha(await fs.readFile(local.path))).toBe(sha(bytes)); // the stored file itself
    }
  });

  it("a model larger than one multipart part (12 MiB, 5 MiB parts) round-trips byte for byte", async () => {
    const bytes = randomBytes(12 * 1024 * 1024 + 123);
    const key = `models/big/${sha(bytes)}.onnx`;
    await storage.putFile(key, await spool(bytes));
    const local = await storage.fetchToLocal(key);
    try {
      expect((await fs.stat(local.path)).size).toBe(bytes.length);
      expect(sha(await fs.readFile(local.path))).toBe(sha(bytes));
    } finally {
      await local.release();
    }
  });

  it("openRead streams the stored bytes", async () => {
    const key = "models/t1/readme.onnx";
    await storage.putFile(key, await spool(Buffer.from("hello, model")));
    expect(await text(await storage.openRead(key))).toBe("hello, model");
  });

  it("delete removes the object; fetching a missing key fails and leaves no temporary file", async () => {
    const key = "models/t1/doomed.onnx";
    await storage.putFile(key, await spool(Buffer.from("x")));
    await storage.delete(key);
    expect(await storage.exists(key)).toBe(false);
    await expect(storage.fetchToLocal(key)).rejects.toThrow();
    if (backend.downloadDir) expect(await fs.readdir(backend.downloadDir())).toEqual([]);
  });

  it("refuses keys that could escape the storage root", async () => {
    await expect(storage.exists("../etc/passwd")).rejects.toThrow(/unsafe storage key/);
    await expect(storage.putFile("models/../../x", await spool(Buffer.from("x")))).rejects.toThrow(/unsafe storage key/);
  });
});

describe("storage configuration (validated with the worker's environment)", () => {
  const base = { DATABASE_URL: "postgresql://x@127.0.0.1/x", REDIS_URL: "redis://127.0.0.1:6379/0" };
  const load = (vars: Record<string, string>) => loadWorkerEnv(vars as unknown as NodeJS.ProcessEnv);

  it("directory is the default", () => {
    expect(modelStorageConfigFromEnv(load({ ...base, STORAGE_DIR: "/srv/models" }))).toEqual({ backend: "directory", root: "/srv/models" });
  });

  it("STORAGE_BACKEND=s3 reads every S3_* variable, and S3_FORCE_PATH_STYLE=false means false", () => {
    const env = load({
      ...base,
      STORAGE_BACKEND: "s3",
      S3_ENDPOINT: "http://minio:9000",
      S3_BUCKET: "models",
      S3_REGION: "eu-west-1",
      S3_ACCESS_KEY_ID: "id",
      S3_SECRET_ACCESS_KEY: "secret",
      S3_FORCE_PATH_STYLE: "false",
    });
    expect(modelStorageConfigFromEnv(env)).toMatchObject({
      backend: "s3",
      endpoint: "http://minio:9000",
      bucket: "models",
      region: "eu-west-1",
      forcePathStyle: false,
      credentials: { accessKeyId: "id", secretAccessKey: "secret" },
    });
    expect(load({ ...base, STORAGE_BACKEND: "s3", S3_BUCKET: "models", S3_FORCE_PATH_STYLE: "true" }).S3_FORCE_PATH_STYLE).toBe(true);
  });

  it("STORAGE_BACKEND=s3 without a bucket, or with half a key pair, fails at start-up", () => {
    expect(() => load({ ...base, STORAGE_BACKEND: "s3" })).toThrow(/S3_BUCKET is required/);
    expect(() => load({ ...base, STORAGE_BACKEND: "s3", S3_BUCKET: "models", S3_ACCESS_KEY_ID: "id" })).toThrow(/both/);
    expect(() => load({ ...base, STORAGE_BACKEND: "gcs" })).toThrow();
  });
});
