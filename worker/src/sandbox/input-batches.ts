import { closeSync, fstatSync, openSync, read, readSync } from "node:fs";
import { DatasetFormatError, normalizeBoolBytes, npyHeaderLength, parseNpyLayout, typedArrayOf, type NdArray } from "@goat/contracts/dataset/npy";
import type { TensorDtype } from "@goat/contracts/tensor-spec";
import { PlatformFault } from "../faults";

/**
 * The sandbox child's test inputs, read batch by batch from the staged `.npy` files (staging.ts)
 * into two buffers per input that every batch reuses: the next batch is read (libuv's thread pool)
 * while the model runs this one, or, for a model faster than the read, when it asks for it.
 *
 * Not read whole up front: a 31 MB file read into fresh memory costs its ~7,600 page faults
 * (~50-120 ms of the child's CPU on this project's VMs, against ~4-6 ms for the same bytes read
 * into reused buffers), and every child, one per evaluation, paid them: most of what a burst of
 * evaluations spends beside Node's start (`npm run bench`, (b)). A spare holds its buffers with the
 * first two batches read, so an evaluation that takes it at once starts with them. A spare that
 * has waited (a quiet worker) reads the whole test set in small slices (loadWhileIdle), so its
 * evaluation reads nothing: a fast model's batches then cost no read at all.
 */

export interface InputFile {
  name: string;
  path: string;
}

/** One input's rows of one batch: a view of a reused buffer, valid until the next batch is asked for (which reads the one after it into this buffer). */
export interface BatchArray {
  dtype: TensorDtype;
  dims: number[];
  data: NdArray["data"];
}

export interface InputBatch {
  /** The batch's first row in the test set. */
  start: number;
  rows: number;
  arrays: Map<string, BatchArray>;
}

interface OpenInput {
  name: string;
  fd: number;
  dtype: TensorDtype;
  shape: number[];
  dataOffset: number;
  rowBytes: number;
  rowWidth: number;
}

/** A header longer than this is not one the platform wrote (staging.ts writes ~128 bytes). */
const MAX_HEADER_BYTES = 1 << 20;
const FIRST_READ_BYTES = 4096;

export class StagedInputFiles {
  private readonly inputs: OpenInput[];
  private readonly byName: Map<string, OpenInput>;
  /** Two buffers per input (by name), of `bufferRows` rows each. */
  private buffers = new Map<string, [Buffer, Buffer]>();
  private bufferRows = 0;
  /** How many of the first batches are in their buffers already (read while a spare): 0 to 2. */
  private batchesRead = 0;
  /** The test set read whole while a spare had the time (loadWhileIdle): one buffer per input, its first `wholeRows` rows read. */
  private whole = new Map<string, Buffer>();
  private wholeRows = 0;
  private loading = false;
  private closed = false;

  /**
   * Opens the files and reads their headers. With `batchRows` (the task's batch size, when the
   * caller knows it), the buffers are set aside and the first two batches read into them, so an
   * evaluation at that batch size starts at once. Throws `DatasetFormatError` for a file that is not
   * a readable `.npy` of C-order, little-endian numbers.
   */
  static open(files: InputFile[], batchRows?: number): StagedInputFiles {
    const opened: OpenInput[] = [];
    try {
      for (const file of files) opened.push(openInput(file));
      const inputs = new StagedInputFiles(opened);
      if (batchRows !== undefined) inputs.readFirstBatches(batchRows);
      return inputs;
    } catch (error) {
      for (const input of opened) closeSync(input.fd);
      throw error;
    }
  }

  private constructor(inputs: OpenInput[]) {
    this.inputs = inputs;
    this.byName = new Map(inputs.map((input) => [input.name, input]));
  }

  /** The input's full shape ([rows, ...]); undefined for an input the files do not hold. */
  shapeOf(name: string): readonly number[] | undefined {
    return this.byName.get(name)?.shape;
  }

  /**
   * The test set's batches of `batchSize` rows, in order, for the named inputs. A batch's arrays
   * are valid until the caller asks for the next batch: that turn may read the batch after it into
   * their buffer.
   *
   * Each batch after the first is read while the caller uses the one before (the model runs it)
   * when that use took more than READ_AHEAD_FACTOR times what reading a batch takes: the read then
   * ends before the run, at no cost. Where the model is faster than the read (a linear model's
   * batch: ~0.4 ms, reading its 3 MB ~0.35 ms here), the read waits for the caller's next call and
   * is made there, synchronously: a read on the thread pool that the caller waits for costs a
   * wake-up of each thread too (~0.9 ms a batch in all on this project's VMs, measured).
   */
  async *batches(names: readonly string[], batchSize: number): AsyncGenerator<InputBatch> {
    const inputs = names.map((name) => {
      const input = this.byName.get(name);
      if (!input) throw new PlatformFault("DATASET_UNAVAILABLE", `test input "${name}" was not staged`);
      return input;
    });
    if (inputs.length === 0) return;
    const rows = inputs[0].shape[0];
    if (inputs.some((input) => input.shape[0] !== rows)) {
      throw new PlatformFault("DATASET_UNAVAILABLE", "the test inputs' row counts differ");
    }
    if (this.bufferRows !== batchSize) this.setAsideBuffers(batchSize);
    const count = Math.ceil(rows / batchSize);
    const batchBytes = inputs.reduce((sum, input) => sum + Math.min(batchSize, rows) * input.rowBytes, 0);
    const read = this.batchesRead;
    this.batchesRead = 0; // the buffers are reused from here
    // Batches wholly inside the rows read while idle are views of them, and need no read.
    const wholeBatches = Math.floor(this.wholeRows / batchSize) + (this.wholeRows === rows ? 1 : 0);
    const needsRead = (k: number) => k >= read && k >= wholeBatches;
    let ahead: Promise<void> | undefined;
    let readAhead = true; // until the caller's first turn is timed
    for (let k = 0; k < count; k++) {
      if (ahead) await ahead;
      else if (needsRead(k)) this.readBatchSync(inputs, k, batchSize);
      ahead = readAhead && k + 1 < count && needsRead(k + 1) ? this.readBatch(inputs, k + 1, batchSize) : undefined;
      // Awaited at the next turn; a read that fails while the caller gives up early is not an unhandled rejection.
      ahead?.catch(() => undefined);
      const start = k * batchSize;
      const n = Math.min(batchSize, rows - start);
      const arrays = new Map<string, BatchArray>();
      for (const input of inputs) {
        const [buffer, offset] = k < wholeBatches ? [this.whole.get(input.name)!, start * input.rowBytes] : [this.buffers.get(input.name)![k % 2], 0];
        arrays.set(input.name, {
          dtype: input.dtype,
          dims: [n, ...input.shape.slice(1)],
          data: typedArrayOf(input.dtype, buffer.buffer as ArrayBuffer, buffer.byteOffset + offset, n * input.rowWidth),
        });
      }
      const yielded = performance.now();
      yield { start, rows: n, arrays };
      readAhead = performance.now() - yielded > READ_AHEAD_FACTOR * batchBytes * this.readMsPerByte;
    }
  }

  /**
   * Reads the whole test set ahead, slice by slice, while `stop()` says nothing else needs the
   * process (a spare that has waited: child.ts), so that its evaluation reads nothing: the model's
   * runs follow each other as they would in one process holding the inputs. Stops between two
   * slices once `stop()` is true; what was read is used, the rest is read batch by batch. A burst of
   * evaluations takes its spares sooner, and their CPU goes to the evaluations instead.
   */
  async loadWhileIdle(stop: () => boolean): Promise<void> {
    const rows = this.inputs[0]?.shape[0] ?? 0;
    if (this.loading || this.closed || this.wholeRows >= rows || this.inputs.some((input) => input.shape[0] !== rows)) return;
    this.loading = true;
    try {
      const rowBytes = this.inputs.reduce((sum, input) => sum + input.rowBytes, 0);
      const sliceRows = Math.max(1, Math.floor(LOAD_SLICE_BYTES / Math.max(1, rowBytes)));
      if (this.whole.size === 0) this.whole = new Map(this.inputs.map((input) => [input.name, Buffer.allocUnsafeSlow(Math.max(1, rows * input.rowBytes))]));
      while (this.wholeRows < rows) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (stop() || this.closed) return;
        const n = Math.min(sliceRows, rows - this.wholeRows);
        for (const input of this.inputs) {
          const buffer = this.whole.get(input.name)!;
          const from = this.wholeRows * input.rowBytes;
          const slice = buffer.subarray(from, from + n * input.rowBytes);
          readFullySync(input, slice, slice.length, input.dataOffset + from);
          if (input.dtype === "bool") normalizeBoolBytes(slice);
          touchEveryPage(slice); // see readFirstBatches: both first accesses are paid here
        }
        this.wholeRows += n;
      }
    } finally {
      this.loading = false;
    }
  }

  /** Closes the files (the buffers go with this object). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const input of this.inputs) closeSync(input.fd);
  }

  /**
   * The first two batches, one into each buffer, whose every page is then read once. On this
   * project's VMs the first access to a page costs ~5 us more from each side, the kernel's read()
   * and the process's own, whichever touched it before (3 MB: a first read() ~10 ms into fresh
   * memory and ~5 ms after a fill, ~0.6 ms from the second on; the model's first batch from a
   * buffer read() filled ~4.5 ms slower than the next ones: scratch scripts, 2026-12-01): both
   * are paid here, while a spare, and the evaluation's reads and runs pay neither.
   */
  private readFirstBatches(batchRows: number): void {
    this.setAsideBuffers(batchRows);
    const rows = this.inputs[0]?.shape[0] ?? 0;
    const first = Math.min(2, Math.ceil(rows / batchRows));
    for (let k = 0; k < first; k++) this.readBatchSync(this.inputs, k, batchRows, false);
    for (const pair of this.buffers.values()) for (const buffer of pair) touchEveryPage(buffer);
    this.batchesRead = first;
  }

  /** Two buffers per input for batches of `rows` (readFirstBatches says why they are not filled). */
  private setAsideBuffers(rows: number): void {
    this.buffers = new Map(
      this.inputs.map((input) => {
        const bytes = Math.max(1, Math.min(rows, input.shape[0]) * input.rowBytes);
        return [input.name, [Buffer.allocUnsafeSlow(bytes), Buffer.allocUnsafeSlow(bytes)]];
      }),
    );
    this.bufferRows = rows;
    this.batchesRead = 0;
  }

  /** Batch k's rows of each input, where they go (buffer k % 2), and how many bytes. */
  private batchPlace(input: OpenInput, k: number, batchSize: number): { buffer: Buffer; bytes: number; position: number } {
    const start = k * batchSize;
    return {
      buffer: this.buffers.get(input.name)![k % 2],
      bytes: Math.min(batchSize, input.shape[0] - start) * input.rowBytes,
      position: input.dataOffset + start * input.rowBytes,
    };
  }

  /** Reads batch k now, on this thread, and times it (what a read costs, for the read-ahead rule) unless told not to (a first read, dearer). */
  private readBatchSync(inputs: OpenInput[], k: number, batchSize: number, timed = true): void {
    const started = performance.now();
    let total = 0;
    for (const input of inputs) {
      const { buffer, bytes, position } = this.batchPlace(input, k, batchSize);
      readFullySync(input, buffer, bytes, position);
      if (input.dtype === "bool") normalizeBoolBytes(buffer.subarray(0, bytes));
      total += bytes;
    }
    if (timed && total > 0) this.readMsPerByte = (performance.now() - started) / total;
  }

  /** Reads batch k on libuv's thread pool. */
  private async readBatch(inputs: OpenInput[], k: number, batchSize: number): Promise<void> {
    await Promise.all(
      inputs.map(async (input) => {
        const { buffer, bytes, position } = this.batchPlace(input, k, batchSize);
        await readFully(input, buffer, bytes, position);
        if (input.dtype === "bool") normalizeBoolBytes(buffer.subarray(0, bytes));
      }),
    );
  }

  /** The last synchronous read's cost per byte (a page-cache copy: ~0.1 ms per MB here, assumed until timed). */
  private readMsPerByte = 0.1 / 2 ** 20;
}

/** Read the next batch during the caller's turn when that turn takes more than this many times a read. */
const READ_AHEAD_FACTOR = 3;
/** loadWhileIdle's slice: ~1-3 ms of a spare's CPU here, so that an evaluation that comes waits at most that long. */
const LOAD_SLICE_BYTES = 1 << 20;

function openInput(file: InputFile): OpenInput {
  const fd = openSync(file.path, "r");
  try {
    let head = Buffer.allocUnsafe(FIRST_READ_BYTES);
    head = head.subarray(0, readSync(fd, head, 0, head.length, 0));
    if (head.length >= 12) {
      const headerBytes = npyHeaderLength(head);
      if (headerBytes > MAX_HEADER_BYTES) throw new DatasetFormatError(`${file.path}: a .npy header of ${headerBytes} bytes`);
      if (headerBytes > head.length) {
        head = Buffer.allocUnsafe(headerBytes);
        head = head.subarray(0, readSync(fd, head, 0, headerBytes, 0));
      }
    }
    const layout = parseNpyLayout(head);
    if (layout.shape.length === 0) throw new DatasetFormatError(`${file.path}: a 0-d array (a scalar) has no rows`);
    const size = fstatSync(fd).size;
    if (size - layout.dataOffset < layout.byteLength) {
      throw new DatasetFormatError(`${file.path}: the .npy data is truncated (${layout.byteLength} bytes needed, ${size - layout.dataOffset} there)`);
    }
    const rowWidth = layout.shape.slice(1).reduce((a, b) => a * b, 1);
    const rows = layout.shape[0];
    return { name: file.name, fd, dtype: layout.dtype, shape: layout.shape, dataOffset: layout.dataOffset, rowWidth, rowBytes: rows === 0 ? 0 : layout.byteLength / rows };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

function readFullySync(input: OpenInput, buffer: Buffer, bytes: number, position: number): void {
  let done = 0;
  while (done < bytes) {
    let n: number;
    try {
      n = readSync(input.fd, buffer, done, bytes - done, position + done);
    } catch (error) {
      throw readFault(input, error as Error);
    }
    if (n === 0) throw endOfFile(input);
    done += n;
  }
}

async function readFully(input: OpenInput, buffer: Buffer, bytes: number, position: number): Promise<void> {
  let done = 0;
  while (done < bytes) {
    const n = await new Promise<number>((resolve, reject) => {
      read(input.fd, buffer, done, bytes - done, position + done, (error, bytesRead) => (error ? reject(readFault(input, error)) : resolve(bytesRead)));
    });
    if (n === 0) throw endOfFile(input);
    done += n;
  }
}

function endOfFile(input: OpenInput): PlatformFault {
  return new PlatformFault("DATASET_UNAVAILABLE", `test input "${input.name}" ended early (changed after staging?)`);
}

function readFault(input: OpenInput, error: Error): PlatformFault {
  return new PlatformFault("DATASET_UNAVAILABLE", `cannot read test input "${input.name}": ${error.message}`, { cause: error });
}

const PAGE_BYTES = 4096;
function touchEveryPage(bytes: Uint8Array): void {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += PAGE_BYTES) sum += bytes[i];
  if (sum < 0) throw new Error("unreachable"); // keeps the reads from being optimised away
}
