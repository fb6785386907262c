import { describe, expect, it } from "vitest";
import { PlatformFault } from "../../worker/src/faults";
import { OutputAssembly } from "../../worker/src/sandbox/output-assembly";
import type { OutputBatch } from "../../worker/src/sandbox/protocol";

// The sandbox child sends each batch's outputs as it computes them (worker/src/sandbox/child.ts);
// the parent puts the test set's outputs together in row order, and refuses batches that do not add up.
const rowsOf = (start: number, rows: number, width: number) => Float32Array.from({ length: rows * width }, (_, i) => start * width + i);
const batch = (start: number, rows: number, width = 2): OutputBatch => ({
  start,
  outputs: [
    { name: "logits", dims: [rows, width], data: rowsOf(start, rows, width) },
    { name: "ids", dims: [rows], data: Float64Array.from({ length: rows }, (_, i) => start + i) },
  ],
});

function faultOf(fn: () => unknown): PlatformFault {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PlatformFault);
    expect((error as PlatformFault).code).toBe("SANDBOX_PROTOCOL");
    return error as PlatformFault;
  }
  throw new Error("no fault");
}

describe("OutputAssembly", () => {
  it("puts the batches together in row order, in the order of the names asked for", () => {
    const assembly = new OutputAssembly();
    assembly.add(batch(0, 3));
    assembly.add(batch(3, 3));
    assembly.add(batch(6, 1));
    const [ids, logits] = assembly.finish(7, ["ids", "logits"]);
    expect(logits.dims).toEqual([7, 2]);
    expect(Array.from(logits.data)).toEqual(Array.from({ length: 14 }, (_, i) => i));
    expect(logits.data).toBeInstanceOf(Float32Array);
    expect(ids).toEqual({ name: "ids", dims: [7], data: Float64Array.from([0, 1, 2, 3, 4, 5, 6]) });
  });

  it("gives a single batch's arrays as they came, and empty outputs for a test set of no rows", () => {
    const one = new OutputAssembly();
    const only = batch(0, 4);
    one.add(only);
    expect(one.finish(4, ["logits"])[0].data).toBe(only.outputs[0].data);
    expect(new OutputAssembly().finish(0, ["logits"])).toEqual([{ name: "logits", dims: [0], data: new Float32Array(0) }]);
  });

  it("refuses a batch that skips or repeats rows, and a result with rows missing", () => {
    const assembly = new OutputAssembly();
    assembly.add(batch(0, 3));
    expect(faultOf(() => assembly.add(batch(4, 3))).message).toMatch(/starts at row 4, after 3 rows/);
    expect(faultOf(() => assembly.add(batch(0, 3))).message).toMatch(/starts at row 0/);
    expect(faultOf(() => assembly.finish(5, ["logits"])).message).toMatch(/3 rows of 5/);
  });

  it("refuses batches whose outputs differ from the first batch's or do not match their dimensions", () => {
    const assembly = new OutputAssembly();
    assembly.add(batch(0, 2));
    faultOf(() => assembly.add({ start: 2, outputs: [batch(2, 2).outputs[0]] }));
    faultOf(() => assembly.add(batch(2, 2, 3)));
    const fresh = new OutputAssembly();
    faultOf(() => fresh.add({ start: 0, outputs: [{ name: "logits", dims: [2, 2], data: new Float32Array(3) }] }));
    faultOf(() => fresh.add({ start: 0, outputs: [{ name: "a", dims: [2], data: new Float32Array(2) }, { name: "b", dims: [3], data: new Float32Array(3) }] }));
    faultOf(() => fresh.add({ start: 0, outputs: [{ name: "a", dims: [2], data: [1, 2] as unknown as Float32Array }] }));
    faultOf(() => new OutputAssembly().finish(1, ["logits"]));
  });
});
