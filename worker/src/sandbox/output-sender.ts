import { concatenated } from "./output-assembly";
import type { OutputBatch } from "./protocol";

/**
 * Outputs of consecutive batches go out together while they fit in this many bytes: a Linux pipe's
 * default capacity, so that one message is one write the parent takes in one read (a bigger one is
 * written in parts as the parent reads, which costs the child more, not less).
 */
export const SEND_BYTES = 64 * 1024;
/** ...and until the first of them began this long ago: a slow model's batches go out one by one. */
export const SEND_AFTER_MS = 25;

/**
 * The child's side of the `batch` messages (protocol.ts). Each message through the IPC channel
 * costs the child's thread ~0.1-0.25 ms whatever its size up to the pipe's capacity (the serializer,
 * a pipe write and the parent's wake-up; measured on the CI machine, a VM), between two batches of
 * the model: at the default batch size of 256, a 10,000-row test set of 10 classes made 40 messages
 * of 10 KB. So the outputs of consecutive batches are joined into one message of their rows while
 * they fit in SEND_BYTES and the first of them began less than SEND_AFTER_MS ago; a batch of 40 KB
 * or more, or a slow one, goes out alone as before. The parent checks the rows of each message
 * while the model runs the next batches (output-assembly.ts and the evaluation's checks take a
 * message of any number of rows); `flush()` sends what is left before the result.
 */
export class OutputSender {
  private pending: OutputBatch[] = [];
  private pendingBytes = 0;
  private firstStartedAt = 0;

  constructor(
    private readonly send: (batch: OutputBatch) => void,
    private readonly now: () => number = () => performance.now(),
    private readonly limits: { bytes: number; ms: number } = { bytes: SEND_BYTES, ms: SEND_AFTER_MS },
  ) {}

  /** One batch's outputs, its run having begun at `startedAt` (the `now()` clock). */
  add(batch: OutputBatch, startedAt: number): void {
    const bytes = batch.outputs.reduce((sum, output) => sum + output.data.byteLength, 0);
    if (this.pending.length > 0 && (this.pendingBytes + bytes > this.limits.bytes || !joinable(this.pending[0], batch))) this.flush();
    if (this.pending.length === 0) this.firstStartedAt = startedAt;
    this.pending.push(batch);
    this.pendingBytes += bytes;
    // Sent now when the next batch, of this one's size, would not fit, or when the first waited long enough.
    if (this.pendingBytes + bytes > this.limits.bytes || this.now() - this.firstStartedAt >= this.limits.ms) this.flush();
  }

  /** Sends what is held (nothing when nothing is). */
  flush(): void {
    if (this.pending.length === 0) return;
    const batches = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    this.send(batches.length === 1 ? batches[0] : joined(batches));
  }
}

/** Same outputs in the same order, each with the same row shape and value type: their rows can be one message's. */
function joinable(first: OutputBatch, next: OutputBatch): boolean {
  return (
    first.outputs.length === next.outputs.length &&
    first.outputs.every((output, i) => {
      const other = next.outputs[i];
      return (
        other.name === output.name &&
        other.data.constructor === output.data.constructor &&
        other.dims.length === output.dims.length &&
        other.dims.every((size, d) => d === 0 || size === output.dims[d])
      );
    })
  );
}

/** Consecutive batches (each starting where the last ended) as one batch of all their rows. */
function joined(batches: OutputBatch[]): OutputBatch {
  const [first] = batches;
  return {
    start: first.start,
    outputs: first.outputs.map((output, i) => {
      const parts = batches.map((batch) => batch.outputs[i]);
      const length = parts.reduce((sum, part) => sum + part.data.length, 0);
      const rows = parts.reduce((sum, part) => sum + part.dims[0], 0);
      return { name: output.name, dims: [rows, ...output.dims.slice(1)], data: concatenated(parts.map((part) => part.data), length) };
    }),
  };
}
