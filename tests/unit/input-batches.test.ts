import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatasetFormatError, encodeNpy, type NdArray } from "@goat/contracts/dataset/npy";
import { PlatformFault } from "../../worker/src/faults";
import { StagedInputFiles, type InputBatch } from "../../worker/src/sandbox/input-batches";

// The sandbox child's test inputs, read batch by batch from the staged .npy files into two reused
// buffers: every batch must hold exactly the rows the whole arrays hold, whatever the batch size.

const ROWS = 10;
let dir: string;
const file = (name: string) => path.join(dir, name);
const pixels: NdArray = { dtype: "float32", shape: [ROWS, 3], data: Float32Array.from({ length: ROWS * 3 }, (_, i) => i / 7) };
const ids: NdArray = { dtype: "int64", shape: [ROWS, 2], data: BigInt64Array.from({ length: ROWS * 2 }, (_, i) => BigInt(i) * 1_000_000_007n) };
/** An array's values as a plain list, to compare with the batches' rows. */
const valuesOf = (array: NdArray): (number | bigint)[] => Array.from(array.data as ArrayLike<number | bigint>);
/** Raw bytes 0, 1, 2, 0, 1, 2, ...: a byte of 2 is true, read as 1 (as parseNpy reads it). */
const flagBytes = Uint8Array.from({ length: ROWS }, (_, i) => i % 3);

/**
 * Each batch's rows copied out (the views are reused once the next batch is asked for). A caller that takes its
 * time with each batch (`turnMs`, as a slow model's run) has the next one read meanwhile; a quick one
 * has it read when it asks: both must see the same rows.
 */
async function collect(batches: AsyncGenerator<InputBatch>, turnMs = 0): Promise<{ start: number; rows: number; values: Record<string, (number | bigint)[]>; dims: Record<string, number[]> }[]> {
  const seen = [];
  for await (const batch of batches) {
    if (turnMs > 0) {
      // Busy, as a model's run blocks the thread, before the rows are read: the batch must stay
      // intact through the caller's whole turn while the next one is read.
      const until = performance.now() + turnMs;
      while (performance.now() < until);
    }
    const values: Record<string, (number | bigint)[]> = {};
    const dims: Record<string, number[]> = {};
    for (const [name, array] of batch.arrays) {
      values[name] = Array.from(array.data as ArrayLike<number | bigint>);
      dims[name] = array.dims;
    }
    seen.push({ start: batch.start, rows: batch.rows, values, dims });
  }
  return seen;
}

function rowsOf(array: NdArray, start: number, rows: number): (number | bigint)[] {
  const width = array.shape.slice(1).reduce((a, b) => a * b, 1);
  return Array.from(array.data.subarray(start * width, (start + rows) * width) as ArrayLike<number | bigint>);
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "goat-input-batches-"));
  writeFileSync(file("pixels.npy"), encodeNpy(pixels));
  writeFileSync(file("ids.npy"), encodeNpy(ids));
  // A bool file written byte by byte, with 2s that NumPy would read as True.
  const header = encodeNpy({ dtype: "bool", shape: [ROWS], data: new Uint8Array(ROWS) });
  const raw = Uint8Array.from(header);
  raw.set(flagBytes, raw.length - ROWS);
  writeFileSync(file("flags.npy"), raw);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const staged = () => [
  { name: "pixels", path: file("pixels.npy") },
  { name: "ids", path: file("ids.npy") },
  { name: "flags", path: file("flags.npy") },
];

describe("StagedInputFiles", () => {
  for (const [label, batchRows, batchSize, turnMs] of [
    ["first batch read at open, for the batch size asked", 4, 4, 0],
    ["set aside again for another batch size", 4, 3, 0],
    ["opened without a batch size", undefined, 6, 0],
    ["one batch larger than the test set", 16, 16, 0],
    ["one row per batch", 1, 1, 0],
    ["a slow caller: each batch read during its turn", 4, 4, 3],
    ["a slow caller, one row per batch", 1, 1, 2],
  ] as const) {
    it(`gives every row of every input once, in order, as typed arrays of the file's dtype (${label})`, async () => {
      const inputs = StagedInputFiles.open(staged(), batchRows);
      try {
        expect(inputs.shapeOf("pixels")).toEqual([ROWS, 3]);
        expect(inputs.shapeOf("missing")).toBeUndefined();
        const batches = await collect(inputs.batches(["pixels", "ids", "flags"], batchSize), turnMs);
        expect(batches.map((b) => b.start)).toEqual(Array.from({ length: Math.ceil(ROWS / batchSize) }, (_, k) => k * batchSize));
        for (const batch of batches) {
          expect(batch.rows).toBe(Math.min(batchSize, ROWS - batch.start));
          expect(batch.dims).toEqual({ pixels: [batch.rows, 3], ids: [batch.rows, 2], flags: [batch.rows] });
          expect(batch.values.pixels).toEqual(rowsOf(pixels, batch.start, batch.rows));
          expect(batch.values.ids).toEqual(rowsOf(ids, batch.start, batch.rows));
          expect(batch.values.flags).toEqual(Array.from(flagBytes.subarray(batch.start, batch.start + batch.rows), (b) => (b === 0 ? 0 : 1)));
        }
      } finally {
        inputs.close();
      }
    });
  }

  it("reads only the inputs asked for, as often as asked", async () => {
    const inputs = StagedInputFiles.open(staged(), 4);
    try {
      for (let round = 0; round < 2; round++) {
        const batches = await collect(inputs.batches(["ids"], 4));
        expect(batches.map((b) => Object.keys(b.values))).toEqual([["ids"], ["ids"], ["ids"]]);
        expect(batches.flatMap((b) => b.values.ids)).toEqual(valuesOf(ids));
      }
    } finally {
      inputs.close();
    }
  });

  it("reads a header longer than its first read (a padded version 1.0 header)", async () => {
    const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${ROWS}, 3), }`.padEnd(6000 - 10 - 1, " ") + "\n";
    const bytes = new Uint8Array(10 + dict.length + pixels.data.byteLength);
    bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    new DataView(bytes.buffer).setUint16(8, dict.length, true);
    for (let i = 0; i < dict.length; i++) bytes[10 + i] = dict.charCodeAt(i);
    bytes.set(new Uint8Array(pixels.data.buffer), 10 + dict.length);
    writeFileSync(file("long-header.npy"), bytes);
    const inputs = StagedInputFiles.open([{ name: "pixels", path: file("long-header.npy") }], 3);
    try {
      expect((await collect(inputs.batches(["pixels"], 3))).flatMap((b) => b.values.pixels)).toEqual(valuesOf(pixels));
    } finally {
      inputs.close();
    }
  });

  it("refuses at open a file that is not a .npy, or whose data is shorter than its header says", () => {
    writeFileSync(file("not-npy.npy"), "plain text");
    expect(() => StagedInputFiles.open([{ name: "x", path: file("not-npy.npy") }], 4)).toThrow(DatasetFormatError);
    const whole = encodeNpy(pixels);
    writeFileSync(file("short.npy"), whole.subarray(0, whole.length - 4));
    expect(() => StagedInputFiles.open([{ name: "pixels", path: file("short.npy") }], 4)).toThrow(/truncated/);
    expect(() => StagedInputFiles.open([{ name: "pixels", path: file("absent.npy") }])).toThrow(/ENOENT/);
  });

  it("fails a read of a file cut short after it was opened as a platform fault (the evaluation is retried)", async () => {
    writeFileSync(file("cut.npy"), encodeNpy(pixels));
    const inputs = StagedInputFiles.open([{ name: "pixels", path: file("cut.npy") }], 4);
    try {
      truncateSync(file("cut.npy"), 200);
      // The first batch was read at open; the second is read from the cut file.
      const error = await collect(inputs.batches(["pixels"], 4)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PlatformFault);
      expect((error as PlatformFault).code).toBe("DATASET_UNAVAILABLE");
    } finally {
      inputs.close();
    }
  });

  it("reads the whole test set while idle: the batches are then served from memory (the file can go)", async () => {
    writeFileSync(file("idle.npy"), encodeNpy(pixels));
    const inputs = StagedInputFiles.open([{ name: "pixels", path: file("idle.npy") }, { name: "flags", path: file("flags.npy") }], 4);
    try {
      await inputs.loadWhileIdle(() => false);
      truncateSync(file("idle.npy"), 0); // a read now would fail (see the cut file above)
      const batches = await collect(inputs.batches(["pixels", "flags"], 3), 1);
      expect(batches.flatMap((b) => b.values.pixels)).toEqual(valuesOf(pixels));
      expect(batches.flatMap((b) => b.values.flags)).toEqual(Array.from(flagBytes, (b) => (b === 0 ? 0 : 1)));
    } finally {
      inputs.close();
    }
  });

  it("stops reading the whole test set when told, and serves the rest batch by batch", async () => {
    // 3,000 rows of 784 float32: ~9 MB, several of loadWhileIdle's 1 MB slices.
    const big: NdArray = { dtype: "float32", shape: [3000, 784], data: Float32Array.from({ length: 3000 * 784 }, (_, i) => (i % 9973) / 17) };
    writeFileSync(file("big.npy"), encodeNpy(big));
    const inputs = StagedInputFiles.open([{ name: "big", path: file("big.npy") }], 256);
    try {
      let slices = 0;
      await inputs.loadWhileIdle(() => ++slices > 2); // two slices read, then the evaluation comes
      const read = (inputs as unknown as { wholeRows: number }).wholeRows;
      expect(read).toBeGreaterThan(0);
      expect(read).toBeLessThan(3000);
      for (const turnMs of [0, 2]) {
        const seen = new Float32Array(big.data.length);
        let batches = 0;
        for await (const batch of inputs.batches(["big"], 256)) {
          const until = performance.now() + turnMs;
          while (performance.now() < until); // as a model's run, while the next batch may be read
          seen.set(batch.arrays.get("big")!.data as Float32Array, batch.start * 784);
          batches++;
        }
        expect(batches).toBe(Math.ceil(3000 / 256));
        expect(Buffer.from(seen.buffer).equals(Buffer.from(big.data.buffer))).toBe(true);
      }
    } finally {
      inputs.close();
    }
  });

  it("refuses inputs the files do not hold, and inputs whose row counts differ", async () => {
    writeFileSync(file("fewer.npy"), encodeNpy({ dtype: "float32", shape: [ROWS - 1, 3], data: pixels.data.subarray(0, (ROWS - 1) * 3) }));
    const inputs = StagedInputFiles.open([...staged(), { name: "fewer", path: file("fewer.npy") }]);
    try {
      await expect(collect(inputs.batches(["pixels", "other"], 4))).rejects.toThrow(/"other" was not staged/);
      await expect(collect(inputs.batches(["pixels", "fewer"], 4))).rejects.toThrow(/row counts differ/);
    } finally {
      inputs.close();
    }
  });
});
