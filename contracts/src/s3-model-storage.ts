import { createReadStream, createWriteStream } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { assertSafeKey, type ModelStorage } from "./model-storage";

/**
 * Model storage in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW), for workers on several
 * hosts that share no disk. Models are streamed both ways, never held whole in memory: uploads
 * go through lib-storage's multipart `Upload` (at most `partSizeBytes * queueSize` in memory),
 * downloads are piped from the response body into a temporary file.
 */
export interface S3ModelStorageConfig {
  bucket: string;
  /** Unset for AWS S3; the server's URL for MinIO, Ceph or a test server. */
  endpoint?: string;
  region: string;
  /** Path-style URLs (http://host/bucket/key): MinIO and Ceph usually need them. */
  forcePathStyle?: boolean;
  /** Unset: the AWS SDK's default credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Where fetchToLocal writes its temporary copies; the system temp dir by default. */
  downloadDir?: string;
  /** Multipart part size; S3's minimum is 5 MiB. */
  partSizeBytes?: number;
}

const DEFAULT_PART_SIZE = 8 * 1024 * 1024;

export class S3ModelStorage implements ModelStorage {
  readonly kind = "s3";
  readonly client: S3Client;
  private readonly bucket: string;
  private readonly downloadDir: string;
  private readonly partSize: number;

  constructor(config: S3ModelStorageConfig) {
    this.bucket = config.bucket;
    this.downloadDir = config.downloadDir ?? os.tmpdir();
    this.partSize = Math.max(5 * 1024 * 1024, config.partSizeBytes ?? DEFAULT_PART_SIZE);
    this.client = new S3Client({
      endpoint: config.endpoint,
      region: config.region,
      forcePathStyle: config.forcePathStyle ?? false,
      credentials: config.credentials,
      // Since 3.729 the SDK adds CRC32 checksums (aws-chunked trailers) to every upload by default,
      // which many S3-compatible servers (older MinIO and Ceph releases, test servers) reject.
      // Only send them where the operation requires it.
      // https://github.com/aws/aws-sdk-js-v3/issues/6810
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
  }

  async putFile(key: string, localPath: string): Promise<void> {
    assertSafeKey(key);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: createReadStream(localPath), ContentType: "application/octet-stream" },
      partSize: this.partSize,
      queueSize: 2,
      // A failed multipart upload is aborted so its parts do not sit in the bucket (and cost) forever.
      leavePartsOnError: false,
    });
    await upload.done();
    // Same contract as the directory backend, which moves the file: the spool copy is gone.
    await fs.rm(localPath, { force: true });
  }

  async fetchToLocal(key: string): Promise<{ path: string; release(): Promise<void> }> {
    assertSafeKey(key);
    await fs.mkdir(this.downloadDir, { recursive: true });
    const dir = await fs.mkdtemp(path.join(this.downloadDir, "goat-model-"));
    const release = () => fs.rm(dir, { recursive: true, force: true });
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const local = path.join(dir, path.basename(key));
      await pipeline(object.Body as Readable, createWriteStream(local));
      const { size } = await fs.stat(local);
      if (object.ContentLength !== undefined && size !== object.ContentLength) {
        throw new Error(`download of ${key} cut short: ${size} of ${object.ContentLength} bytes`);
      }
      return { path: local, release };
    } catch (error) {
      await release();
      throw error;
    }
  }

  async openRead(key: string): Promise<Readable> {
    assertSafeKey(key);
    const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return object.Body as Readable;
  }

  async exists(key: string): Promise<boolean> {
    assertSafeKey(key);
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (error) {
      // HEAD answers have no body, so the SDK can only name the status: "NotFound".
      const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === "NotFound" || e.name === "NoSuchKey" || e.$metadata?.httpStatusCode === 404) return false;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    assertSafeKey(key);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }
}
