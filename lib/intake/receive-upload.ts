import "server-only";
import { createHash, randomUUID } from "node:crypto";
import { createWriteStream, type WriteStream } from "node:fs";
import { once } from "node:events";
import fs from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import busboy from "busboy";
import { ApiError } from "../errors";

/**
 * Streams the multipart field `file` of an upload to a spool file, hashing it on the way.
 * The body is never held whole in memory (request.formData() would: a 500 MB upload cost 2.6 GB;
 * docs/architecture.md, "Constraints found by trying"). An upload over the cap is refused as soon as it crosses the cap,
 * without reading the rest.
 */
export interface ReceivedUpload {
  fileName: string;
  spoolPath: string;
  sha256: string;
  sizeBytes: number;
  /** the text fields sent beside the file (e.g. `name`, `description`), first value of each, raw */
  fields: Record<string, string>;
  /** Removes the spool file (after it was moved to storage, or on refusal). */
  discard(): Promise<void>;
}

/** Room for the multipart boundaries and headers around the file itself. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(413, "PAYLOAD_TOO_LARGE", `The model is larger than this task's limit of ${formatBytes(maxBytes)}.`, {
    limitBytes: maxBytes,
  });
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(bytes % (1024 * 1024) === 0 ? 0 : 1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} bytes`;
}

export function displayFileName(raw: string | undefined): string {
  const base = path.basename((raw ?? "").replaceAll("\\", "/")).replace(/[\u0000-\u001f]/g, "").trim();
  return (base || "model.onnx").slice(0, 200);
}

export async function receiveModelUpload(request: Request, opts: { maxBytes: number; spoolDir: string }): Promise<ReceivedUpload> {
  const contentType = request.headers.get("content-type") ?? "";
  if (!contentType.toLowerCase().startsWith("multipart/form-data")) {
    throw new ApiError(400, "MISSING_FILE", 'Send the model as multipart/form-data in the field "file" (curl -F "file=@model.onnx").');
  }
  const declaredLength = Number(request.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declaredLength) && declaredLength > opts.maxBytes + MULTIPART_OVERHEAD_BYTES) {
    throw tooLarge(opts.maxBytes);
  }
  if (!request.body) throw new ApiError(400, "MISSING_FILE", 'The request has no body; send the model in the field "file".');

  await fs.mkdir(opts.spoolDir, { recursive: true });
  const spoolPath = path.join(opts.spoolDir, `upload-${randomUUID()}.part`);
  const discard = () => fs.rm(spoolPath, { force: true });
  const source = Readable.fromWeb(request.body as unknown as WebReadableStream<Uint8Array>);
  let spool: WriteStream | null = null;

  try {
    return await new Promise<ReceivedUpload>((resolve, reject) => {
      let parser: busboy.Busboy;
      try {
        parser = busboy({ headers: { "content-type": contentType }, limits: { files: 1, fileSize: opts.maxBytes, fields: 20, fieldSize: 64 * 1024, parts: 30 } });
      } catch {
        reject(new ApiError(400, "MISSING_FILE", "The multipart body could not be read (missing boundary?)."));
        return;
      }
      let fileSeen = false;
      const fields: Record<string, string> = {};
      parser.on("field", (field, value) => {
        // A value cut at fieldSize is still far over any length the caller accepts, so it is refused there.
        if (!(field in fields)) fields[field] = value;
      });
      let settled = false;
      let written: Promise<{ fileName: string; sha256: string; sizeBytes: number }> | null = null;
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        source.unpipe(parser);
        source.destroy(); // stop reading the rest of the body
        reject(error);
      };

      parser.on("file", (field, stream, info) => {
        if (field !== "file" || fileSeen) {
          stream.resume();
          return;
        }
        fileSeen = true;
        const hash = createHash("sha256");
        let size = 0;
        const out = createWriteStream(spoolPath);
        spool = out;
        written = new Promise((done, failed) => {
          stream.on("data", (chunk: Buffer) => {
            size += chunk.length;
            hash.update(chunk);
          });
          stream.on("limit", () => {
            out.destroy();
            fail(tooLarge(opts.maxBytes));
          });
          stream.on("error", failed);
          out.on("error", failed);
          out.on("finish", () => done({ fileName: displayFileName(info.filename), sha256: hash.digest("hex"), sizeBytes: size }));
          stream.pipe(out);
        });
        written.catch(fail);
      });
      parser.on("error", (error: Error) => fail(new ApiError(400, "MISSING_FILE", `The multipart body could not be read: ${error.message}`)));
      parser.on("close", async () => {
        if (settled) return;
        if (!written) {
          fail(new ApiError(400, "MISSING_FILE", 'No file in the upload. Send the model in the multipart field "file" (curl -F "file=@model.onnx").'));
          return;
        }
        try {
          const file = await written;
          if (settled) return;
          settled = true;
          resolve({ ...file, fields, spoolPath, discard });
        } catch (error) {
          fail(error);
        }
      });
      source.on("error", (error) => fail(new ApiError(400, "MISSING_FILE", `The upload was interrupted: ${error.message}`)));
      source.pipe(parser);
    });
  } catch (error) {
    // The spool file may still be opening: let the stream close before removing the file.
    const open = spool as WriteStream | null;
    if (open && !open.closed) {
      open.destroy();
      await once(open, "close").catch(() => {});
    }
    await discard();
    throw error;
  }
}
