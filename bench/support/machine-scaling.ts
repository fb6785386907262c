// The machine's own scaling from one core to two, without the platform: `npm run bench`'s (f), the
// ceilings of its (b) and (d) on the machine it runs on. On this project's 2-core VM two raw
// onnxruntime processes on a CPU-bound MLP did ~2.1 x one, while two loops of `node -e 0` started
// ~1.6 x one's processes per second and two loops of fork+exec of /bin/true ~0.8 x (measured by
// hand): an evaluation starts a Node process (its sandbox child), so two workers there cannot reach
// 2 x one whatever the platform does. Each process is pinned to its CPU with `taskset -c`
// (util-linux), as (d) pins its workers (tests/integration/support/worker-process.ts).
import { spawn, type ChildProcess } from "node:child_process";
import { performance } from "node:perf_hooks";
import { RawOnnxruntimeProcess } from "./raw-onnxruntime";

/**
 * Raw onnxruntime processes, one pinned to each CPU given, the model handed to each and run once
 * through the inputs: what the clock then measures is runs only, not the processes' start, the
 * model's copy or the first session's one-time costs (a worker of (d) has its warm-up too).
 */
export async function pinnedRawProcesses(inputsPath: string, cpus: number[], model: { name: string; bytes: Uint8Array }, batch: number): Promise<RawOnnxruntimeProcess[]> {
  const processes = cpus.map((cpu) => new RawOnnxruntimeProcess(inputsPath, cpu));
  try {
    await Promise.all(
      processes.map(async (raw) => {
        await raw.load(model.name, model.bytes);
        await raw.run(model.name, batch);
      }),
    );
  } catch (error) {
    for (const raw of processes) raw.close();
    throw error;
  }
  return processes;
}

/**
 * Runs per minute of the processes together, each doing `runsEach` runs (a session created and the
 * whole inputs run through it, as raw-onnxruntime.ts does) at the same time as the others: from the
 * first run's start to the last one's end.
 */
export async function inferenceRunsPerMinute(processes: RawOnnxruntimeProcess[], model: string, batch: number, runsEach: number): Promise<number> {
  const started = performance.now();
  await Promise.all(
    processes.map(async (raw) => {
      for (let run = 0; run < runsEach; run++) await raw.run(model, batch);
    }),
  );
  return ((processes.length * runsEach) / (performance.now() - started)) * 60_000;
}

type StartLoopMessage = { type: "ready" } | { type: "done" } | { type: "failed"; message: string };

/**
 * The start loop's program, run with `node -e`: plain JavaScript in a string, as the worker's
 * launcher is (worker/src/sandbox/spawner.ts). Told how many, it starts `node -e 0` that many
 * times, each once the last one has exited, and reports that it is done (or the first failure).
 */
const START_LOOP_SOURCE = `"use strict";
const { spawn } = require("node:child_process");
process.on("disconnect", () => process.exit(0));
const started = () =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, ["-e", "0"], { stdio: "ignore" });
    child.once("error", (error) => resolve(error.message));
    child.once("exit", (code, signal) => resolve(code === 0 ? null : "node -e 0 ended (" + (signal ?? "exit code " + code) + ")"));
  });
process.once("message", async ({ starts }) => {
  for (let i = 0; i < starts; i++) {
    const failure = await started();
    if (failure !== null) return process.send({ type: "failed", message: failure });
  }
  process.send({ type: "done" });
});
process.send({ type: "ready" });
`;

/** The loop's next message; a failure or the loop's end rejects. */
function nextMessage(loop: ChildProcess): Promise<StartLoopMessage> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      loop.off("message", onMessage);
      reject(new Error(`start loop ended (${signal ?? `exit code ${code}`})`));
    };
    const onMessage = (message: StartLoopMessage) => {
      loop.off("exit", onExit);
      if (message.type === "failed") reject(new Error(message.message));
      else resolve(message);
    };
    loop.once("message", onMessage);
    loop.once("exit", onExit);
  });
}

/**
 * Node process starts per second: one loop pinned to each CPU given, all at once, each starting
 * `node -e 0` `startsEach` times back to back (spawn, wait for its exit, the next). Each loop is a
 * bare Node process of its own, as the worker's launcher is, not this script: a fork's cost grows
 * with the forking process's memory (spawner.ts). The loops are started and ready before the clock
 * starts; it stops when the last one is done.
 */
export async function processStartsPerSecond(cpus: number[], startsEach: number): Promise<number> {
  // A bare environment, as the platform gives its children one of its own (no NODE_OPTIONS, say).
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
  const loops = cpus.map((cpu) => spawn("taskset", ["-c", String(cpu), process.execPath, "-e", START_LOOP_SOURCE], { stdio: ["ignore", "ignore", "inherit", "ipc"], env: env as NodeJS.ProcessEnv }));
  try {
    await Promise.all(loops.map(nextMessage));
    const started = performance.now();
    await Promise.all(
      loops.map((loop) => {
        const done = nextMessage(loop);
        loop.send({ starts: startsEach });
        return done;
      }),
    );
    return (cpus.length * startsEach) / ((performance.now() - started) / 1000);
  } finally {
    for (const loop of loops) loop.kill();
  }
}
