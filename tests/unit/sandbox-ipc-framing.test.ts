import { spawn } from "node:child_process";
import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { encodeMessage, MessageDecoder } from "../../worker/src/sandbox/ipc-framing";

/**
 * The worker speaks Node's own "advanced" IPC framing to sandbox children over the socket their
 * launcher hands it (worker/src/sandbox/spawner.ts). Checked against Node itself: a real node
 * process whose IPC channel is that socket (NODE_CHANNEL_FD), as a sandbox child's is.
 */

const message = {
  type: "batch",
  start: 128,
  outputs: [{ name: "logits", dims: [2, 3], data: new Float32Array([1.5, -2, 3, Number.NaN, 0, 7]) }],
  wide: new Float64Array([1e300, -0]),
  ints: new BigInt64Array([2n ** 62n]),
  bytes: Buffer.from("hello"),
  nested: { list: [1, "two", null, true], when: new Date(0) },
};

describe("Node's advanced IPC framing (ipc-framing.ts)", () => {
  it("round-trips messages with typed arrays, whatever the chunks the stream cuts them into", () => {
    const stream = Buffer.concat([encodeMessage(message), encodeMessage({ type: "ready" }), encodeMessage(message)]);
    for (const chunkBytes of [1, 3, 4, 5, 64, stream.length]) {
      const decoder = new MessageDecoder();
      const received: unknown[] = [];
      for (let at = 0; at < stream.length; at += chunkBytes) received.push(...decoder.push(stream.subarray(at, at + chunkBytes)));
      expect(received).toHaveLength(3);
      expect(received[1]).toEqual({ type: "ready" });
      for (const got of [received[0], received[2]] as (typeof message)[]) {
        expect(got.outputs[0].data).toBeInstanceOf(Float32Array);
        expect(Array.from(got.outputs[0].data)).toEqual([1.5, -2, 3, Number.NaN, 0, 7]);
        expect(got.wide).toBeInstanceOf(Float64Array);
        expect(Object.is(got.wide[1], -0)).toBe(true);
        expect(got.ints[0]).toBe(2n ** 62n);
        expect(Buffer.from(got.bytes).toString()).toBe("hello");
        expect(got.nested).toEqual(message.nested);
      }
    }
  });

  it("is what a node process speaks on its IPC channel (NODE_CHANNEL_FD): it receives ours, and we read its replies", async () => {
    const echo = `process.on("message", (m) => process.send({ echo: m, sum: m.data.reduce((a, b) => a + b, 0) }));`;
    const channelEnv: Record<string, string> = { NODE_CHANNEL_FD: "3", NODE_CHANNEL_SERIALIZATION_MODE: "advanced" };
    const child = spawn(process.execPath, ["-e", echo], {
      stdio: ["ignore", "ignore", "inherit", "pipe"],
      env: channelEnv as NodeJS.ProcessEnv, // Next.js types make NODE_ENV required
    });
    const channel = child.stdio[3] as Socket;
    const decoder = new MessageDecoder();
    const replies: { echo: { data: Float32Array; n: number }; sum: number }[] = [];
    channel.on("data", (chunk: Buffer) => replies.push(...(decoder.push(chunk) as typeof replies)));
    const big = new Float32Array(300_000).fill(0.5); // 1.2 MB: several chunks each way
    channel.write(encodeMessage({ n: 1, data: new Float32Array([1, 2, 3]) }));
    channel.write(encodeMessage({ n: 2, data: big }));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    for (const started = Date.now(); replies.length < 2 && Date.now() - started < 10_000; ) await new Promise((resolve) => setTimeout(resolve, 20));
    // Closing our end is the child's 'disconnect' (a sandbox child then exits at once).
    channel.destroy();
    expect(await exited).toBe(0);
    expect(replies.map((reply) => reply.echo.n)).toEqual([1, 2]);
    expect(replies[0].sum).toBe(6);
    expect(replies[1].sum).toBe(150_000);
    expect(replies[1].echo.data).toBeInstanceOf(Float32Array);
    expect(replies[1].echo.data.length).toBe(300_000);
  });

  it("refuses a frame that is not a serialized message", () => {
    const frame = Buffer.alloc(8);
    frame.writeUInt32BE(4, 0);
    frame.write("junk", 4);
    expect(() => new MessageDecoder().push(frame)).toThrow();
  });
});
