import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import cliProgress from "cli-progress";
import { CliError } from "./errors.ts";

/**
 * Streams a model to POST /submit/{task} as multipart/form-data (field "file"), reading the file
 * in chunks (a 500 MB model is never held in memory) and moving a progress bar on stderr as fetch
 * pulls each chunk. The bar shows on a terminal only; scripts and --json see nothing of it.
 */
export interface UploadBody {
  body: ReadableStream<Uint8Array>;
  contentType: string;
  contentLength: number;
}

export async function multipartModelBody(
  file: string,
  onProgress: (sent: number, total: number) => void,
  /** text fields sent before the file (the server reads `name` and `description`) */
  fields: Record<string, string> = {},
): Promise<UploadBody> {
  let size: number;
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile()) throw new Error("not a file");
    size = stat.size;
  } catch {
    throw new CliError(`Cannot read the model file "${file}".`, "Give the path of an .onnx file.");
  }
  const boundary = `----goat${randomBytes(12).toString("hex")}`;
  const name = path.basename(file).replace(/["\r\n]/g, "_");
  const fieldParts = Object.entries(fields)
    .map(([field, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${field}"\r\n\r\n${value}\r\n`)
    .join("");
  const head = Buffer.from(
    `${fieldParts}--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const total = head.length + size + tail.length;
  let sent = 0;
  const reader = createReadStream(file, { highWaterMark: 256 * 1024 });
  const chunks = reader[Symbol.asyncIterator]();
  let phase: "head" | "file" | "tail" | "done" = "head";
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let chunk: Uint8Array | null = null;
      if (phase === "head") {
        chunk = head;
        phase = "file";
      } else if (phase === "file") {
        const next = await chunks.next();
        if (next.done) {
          chunk = tail;
          phase = "tail";
        } else chunk = next.value as Buffer;
      } else {
        controller.close();
        phase = "done";
        return;
      }
      sent += chunk.length;
      onProgress(sent, total);
      controller.enqueue(chunk);
    },
    cancel() {
      reader.destroy();
    },
  });
  return { body, contentType: `multipart/form-data; boundary=${boundary}`, contentLength: total };
}

/** A progress bar on stderr when it is a terminal; nothing otherwise. */
export function uploadProgressBar(label: string) {
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {sentMb}/{totalMb} MB`,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(sent: number, total: number) {
      const values = { sentMb: (sent / 1e6).toFixed(1), totalMb: (total / 1e6).toFixed(1) };
      if (!started) {
        bar.start(total, sent, values);
        started = true;
      } else bar.update(sent, values);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
