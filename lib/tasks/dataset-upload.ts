import "server-only";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { createWriteStream, type WriteStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import busboy from "busboy";
import { DatasetTooLargeError } from "@goat/contracts/dataset/npz";
import { recordAudit } from "../admin/audit";
import { assertAdmin } from "../admin/authorize";
import type { SessionUser } from "../auth/session";
import { db } from "../db";
import { env } from "../env";
import { ApiError } from "../errors";
import { formatBytes } from "../intake/receive-upload";
import { importDataset } from "./admin";

/**
 * An organiser's dataset upload from the browser or the admin API: the multipart body is streamed
 * to a staging folder under DATASET_MAX_BYTES, then imported (validated and stored as a new
 * immutable version: lib/tasks/admin.ts, docs/ranking.md "Datasets and versions").
 */
const DATASET_FIELDS = new Set(["inputs", "labels", "train"]);

function datasetTooLarge(limitBytes: number): ApiError {
  return new ApiError(413, "PAYLOAD_TOO_LARGE", `A dataset file is larger than the limit of ${formatBytes(limitBytes)} (DATASET_MAX_BYTES).`, { limitBytes });
}

/**
 * Streams the dataset fields of a multipart body into `staging`. A file over the limit is
 * refused (busboy would otherwise cut it silently and the import would see a truncated file);
 * a body that breaks off (the client went away) rejects instead of throwing an uncaught
 * `aborted`; either way every write stream is closed before the caller removes the folder.
 */
async function receiveDatasetFiles(request: Request, contentType: string, staging: string, maxBytes: number): Promise<Record<string, string>> {
  const saved: Record<string, string> = {};
  const outputs: WriteStream[] = [];
  const source = Readable.fromWeb(request.body as unknown as WebReadableStream<Uint8Array>);
  try {
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        source.unpipe();
        source.destroy();
        for (const out of outputs) out.destroy();
        reject(error);
      };
      let parser: busboy.Busboy;
      try {
        parser = busboy({ headers: { "content-type": contentType }, limits: { files: 3, fileSize: maxBytes } });
      } catch {
        fail(new ApiError(400, "MISSING_FILE", "The multipart body could not be read (missing boundary?)."));
        return;
      }
      const writes: Promise<void>[] = [];
      parser.on("file", (field, stream, info) => {
        if (settled || !DATASET_FIELDS.has(field) || !info.filename) {
          stream.resume();
          return;
        }
        const extension = info.filename.toLowerCase().endsWith(".npz") ? ".npz" : ".npy";
        const target = path.join(staging, `${field}${extension}`);
        saved[field] = target;
        const out = createWriteStream(target);
        outputs.push(out);
        stream.on("limit", () => fail(datasetTooLarge(maxBytes)));
        const written = pipeline(stream, out);
        written.catch(fail);
        writes.push(written);
      });
      parser.on("error", (error: Error) => fail(new ApiError(400, "MISSING_FILE", `The multipart body could not be read: ${error.message}`)));
      parser.on("close", () =>
        Promise.all(writes).then(() => {
          if (settled) return;
          settled = true;
          resolve();
        }, fail),
      );
      source.on("error", () => fail(new ApiError(400, "MISSING_FILE", "The upload was interrupted before the dataset was complete.")));
      source.pipe(parser);
    });
  } finally {
    await Promise.all(outputs.filter((out) => !out.closed).map((out) => once(out, "close").catch(() => undefined)));
  }
  return saved;
}

/**
 * Streams the dataset files of a multipart upload (fields inputs, labels, optional train) to a
 * staging directory, then imports them: importDataset validates them against the task's
 * signature before swapping them in, so a broken dataset never replaces a working one. The
 * staging directory is removed on every path.
 */
export async function importUploadedDataset(actor: SessionUser | null, request: Request, slug: string) {
  assertAdmin(actor);
  const contentType = request.headers.get("content-type") ?? "";
  if (!contentType.toLowerCase().startsWith("multipart/form-data") || !request.body) {
    throw new ApiError(400, "MISSING_FILE", "Send the dataset as multipart/form-data with the files inputs (.npy/.npz) and labels (.npy).");
  }
  const maxBytes = env().DATASET_MAX_BYTES;
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > 3 * maxBytes + 64 * 1024) throw datasetTooLarge(maxBytes);
  const staging = path.join(env().UPLOAD_TMP_DIR, `dataset-${randomUUID()}`);
  await fs.mkdir(staging, { recursive: true });
  try {
    const saved = await receiveDatasetFiles(request, contentType, staging, maxBytes);
    if (!saved.inputs || !saved.labels) throw new ApiError(400, "MISSING_FILE", "Both files are needed: inputs (.npy or .npz) and labels (.npy).");
    let imported;
    try {
      imported = await importDataset(slug, { inputs: saved.inputs, labels: saved.labels, train: saved.train });
    } catch (error) {
      if (error instanceof ApiError) throw error;
      if (error instanceof DatasetTooLargeError) {
        await recordAudit(db, actor.id, "task.dataset_refused", `task:${slug}`, { reason: error.message });
        throw datasetTooLarge(error.limitBytes);
      }
      await recordAudit(db, actor.id, "task.dataset_refused", `task:${slug}`, { reason: (error as Error).message });
      throw new ApiError(422, "VALIDATION_FAILED", `The dataset does not fit the task: ${(error as Error).message}`);
    }
    await recordAudit(db, actor.id, "task.dataset", `task:${slug}`, imported);
    return imported;
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}
