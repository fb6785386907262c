import { describe, expect, it } from "vitest";
import { OutputAssembly } from "../../worker/src/sandbox/output-assembly";
import { OutputSender, SEND_AFTER_MS, SEND_BYTES } from "../../worker/src/sandbox/output-sender";
import type { OutputBatch } from "../../worker/src/sandbox/protocol";

// The sandbox child joins the outputs of consecutive small batches into one `batch` message
// (worker/src/sandbox/output-sender.ts); the parent's assembly takes a message of any number of rows.
const batch = (start: number, rows: number, width: number): OutputBatch => ({
  start,
  outputs: [
    { name: "logits", dims: [rows, width], data: Float32Array.from({ length: rows * width }, (_, i) => start * width + i) },
    { name: "ids", dims: [rows], data: Float64Array.from({ length: rows }, (_, i) => start + i) },
  ],
});
/** bytes of one batch of `batch(start, rows, width)` */
const bytesOf = (rows: number, width: number) => rows * width * 4 + rows * 8;

function recorder(clock = { now: 0 }) {
  const sent: OutputBatch[] = [];
  const sender = new OutputSender((message) => sent.push(message), () => clock.now);
  return { sent, sender, clock };
}

describe("OutputSender", () => {
  it("joins consecutive small batches into one message of their rows, and flush() sends the rest", () => {
    const { sent, sender } = recorder();
    // 256 rows of 10 classes: 10 KB of logits and 2 KB of ids per batch; five fit in 64 KiB, a sixth would not.
    const perBatch = bytesOf(256, 10);
    const fit = Math.floor(SEND_BYTES / perBatch);
    expect(fit).toBe(5);
    for (let i = 0; i < 7; i++) sender.add(batch(i * 256, 256, 10), 0);
    expect(sent.map((message) => [message.start, message.outputs[0].dims])).toEqual([[0, [5 * 256, 10]]]);
    sender.flush();
    sender.flush(); // nothing held: nothing sent
    expect(sent.map((message) => [message.start, message.outputs[0].dims, message.outputs[1].dims])).toEqual([
      [0, [1280, 10], [1280]],
      [1280, [512, 10], [512]],
    ]);
    const [first] = sent;
    expect(first.outputs[0].data).toBeInstanceOf(Float32Array);
    expect(first.outputs[1].data).toBeInstanceOf(Float64Array);
    expect(first.outputs.map((output) => output.data.byteLength).reduce((a, b) => a + b)).toBe(fit * perBatch);
    expect(first.outputs.map((output) => output.data.byteLength).reduce((a, b) => a + b)).toBeLessThanOrEqual(SEND_BYTES);

    // What the parent puts together is what the batches held, row for row.
    const assembly = new OutputAssembly();
    for (const message of sent) assembly.add(message);
    const [logits, ids] = assembly.finish(7 * 256, ["logits", "ids"]);
    expect(Array.from(logits.data)).toEqual(Array.from({ length: 7 * 256 * 10 }, (_, i) => i));
    expect(Array.from(ids.data)).toEqual(Array.from({ length: 7 * 256 }, (_, i) => i));
  });

  it("sends a batch alone when another of its size would not fit (1,000 rows of 10 classes)", () => {
    const { sent, sender } = recorder();
    for (let i = 0; i < 3; i++) {
      sender.add(batch(i * 1000, 1000, 10), 0);
      expect(sent).toHaveLength(i + 1); // at once, before the next batch runs
    }
    expect(sent[2]).toEqual(batch(2000, 1000, 10));
  });

  it("sends what it holds before a batch that would take it over the size, or cannot be joined", () => {
    const { sent, sender } = recorder();
    sender.add(batch(0, 10, 10), 0);
    sender.add(batch(10, 2000, 10), 0); // 88 KB: the 10 rows held go first, then this one alone
    expect(sent.map((message) => [message.start, message.outputs[0].dims[0]])).toEqual([
      [0, 10],
      [10, 2000],
    ]);
    sender.add(batch(2010, 10, 10), 0);
    const otherWidth = batch(2020, 10, 12); // another row shape (the parent refuses it; never joined)
    sender.add(otherWidth, 0);
    expect(sent.map((message) => [message.start, message.outputs[0].dims])).toEqual([
      [0, [10, 10]],
      [10, [2000, 10]],
      [2010, [10, 10]],
    ]);
    sender.flush();
    expect(sent[3]).toBe(otherWidth);
  });

  it(`sends at once once the first batch held began ${SEND_AFTER_MS} ms ago (a slow model's batches go one by one)`, () => {
    const { sent, sender, clock } = recorder();
    clock.now = 4;
    sender.add(batch(0, 10, 10), 0);
    clock.now = SEND_AFTER_MS - 1;
    sender.add(batch(10, 10, 10), 4);
    expect(sent).toHaveLength(0);
    clock.now = SEND_AFTER_MS;
    sender.add(batch(20, 10, 10), SEND_AFTER_MS - 1);
    expect(sent.map((message) => [message.start, message.outputs[0].dims[0]])).toEqual([[0, 30]]);
    // The next message's clock starts with its own first batch.
    clock.now = SEND_AFTER_MS + 5;
    sender.add(batch(30, 10, 10), SEND_AFTER_MS + 1);
    expect(sent).toHaveLength(1);
    clock.now = 2 * SEND_AFTER_MS + 1;
    sender.add(batch(40, 10, 10), SEND_AFTER_MS + 6);
    expect(sent.map((message) => [message.start, message.outputs[0].dims[0]])).toEqual([
      [0, 30],
      [30, 20],
    ]);
  });
});
