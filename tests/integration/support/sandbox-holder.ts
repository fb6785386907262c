/**
 * A stand-in worker for sandbox.test.ts: holds a SandboxPool, prints its warm child's pid and its
 * launcher's as a JSON line, then evaluates the model given (the test passes one that never returns from session.run)
 * and waits to be killed. Usage: sandbox-holder.ts <model.onnx> <dataset folder>
 */
import { SandboxPool } from "../../../worker/src/sandbox/pool";

const [modelPath, datasetDir] = process.argv.slice(2);
const inputSpecs = [{ name: "input", dtype: "float32" as const, shape: [-1, 784] }];
const pool = new SandboxPool({ maxSpare: 1, spareStart: "after-evaluation", logger: { warn: () => undefined } });
pool.warmUp({ datasetDir, inputSpecs });
await pool.sparesReady();
console.log(JSON.stringify({ childPid: pool.processIds[0], launcherPid: pool.launcherPid }));
await pool.evaluate(
  { modelPath, datasetDir, inputSpecs, batchSize: 128, executionProvider: { provider: "cpu", deviceId: 0, intraOpThreads: 1 } },
  { timeoutMs: 600_000, memoryMb: 1024 },
);
