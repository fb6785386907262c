// Raw onnxruntime-node for `npm run bench`'s (c) and (f), in a process of its own that does nothing
// else: a session created from the model's bytes and the test inputs run through it batch by batch,
// as the sandbox child does, without the platform around it. Started by raw-onnxruntime.ts (IPC,
// advanced serialization); its one argument is the inputs' .npy file, read once at start.
import { performance } from "node:perf_hooks";
import * as ort from "onnxruntime-node";
import { readNpyFile } from "@goat/contracts/dataset/npy";
import type { RawOnnxruntimeMessage, RawOnnxruntimeRequest, RawRun } from "./raw-onnxruntime";

const inputs = await readNpyFile(process.argv[2]);
const [rows, width] = inputs.shape;
const data = inputs.data as Float32Array;
const models = new Map<string, Uint8Array>();

async function run(model: Uint8Array, batch: number): Promise<RawRun> {
  const started = performance.now();
  const session = await ort.InferenceSession.create(model, { executionProviders: ["cpu"], intraOpNumThreads: 1 });
  const created = performance.now();
  for (let offset = 0; offset < rows; offset += batch) {
    const n = Math.min(batch, rows - offset);
    await session.run({ [session.inputNames[0]]: new ort.Tensor("float32", data.subarray(offset * width, (offset + n) * width), [n, width]) });
  }
  const finished = performance.now();
  await session.release();
  return { ms: finished - started, sessionMs: created - started, inferenceMs: finished - created };
}

const send = (message: RawOnnxruntimeMessage) => process.send?.(message);
process.on("disconnect", () => process.exit(0));
process.on("message", (request: RawOnnxruntimeRequest) => {
  if (request.type === "model") {
    models.set(request.name, request.bytes);
    send({ type: "loaded", name: request.name });
    return;
  }
  const model = models.get(request.name);
  if (!model) {
    send({ type: "failed", message: `no model named ${request.name}` });
    return;
  }
  run(model, request.batch).then(
    (result) => send({ type: "ran", run: result }),
    (error: Error) => send({ type: "failed", message: error.message }),
  );
});
send({ type: "ready" });
