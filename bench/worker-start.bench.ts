// The worker's start and memory: `npm run bench:worker-start`. One worker process started RUNS times
// each way, order alternating, against one isolated database and Redis prefix:
//   - from its sources under tsx (`node --import tsx worker/src/main.ts`, how it ran until the
//     worker's build), its sandbox child bundled at start by esbuild;
//   - built (`node worker/dist/main.mjs`, scripts/build-worker.ts), as production, the demo and the
//     tests start it.
// Measured: the time from spawn to the worker's "ready:" line; then, SETTLE_MS later (its spare
// sandbox processes started and idle), the resident memory of the worker process, of its helper
// processes (esbuild's services: anything it started that is not a sandbox child) and of its sandbox
// children, from /proc.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createIsolatedEnvironment } from "../tests/support/isolated-environment";
import { BUILT_WORKER, buildWorker } from "../tests/support/built-worker";
import { descendantPids } from "../worker/src/process-tree-cpu";
import { residentBytes } from "../worker/src/sandbox/limit-watch";
import { benchContext, markdownTable, spread } from "./support/report";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 3_000);
const ROOT = path.resolve(import.meta.dirname, "..");

const WAYS = {
  sources: { label: "sources under tsx", args: ["--import", "tsx", "worker/src/main.ts"] },
  built: { label: "built (worker/dist/main.mjs)", args: [BUILT_WORKER] },
} as const;
type Way = keyof typeof WAYS;

interface Start {
  readyMs: number;
  workerMb: number;
  helpersMb: number;
  sandboxMb: number;
  sandboxes: number;
}

/** A process's command line, "" when it is gone. */
function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}

async function start(way: Way, env: NodeJS.ProcessEnv, run: number): Promise<Start> {
  const started = performance.now();
  const child = spawn(process.execPath, WAYS[way].args, {
    cwd: ROOT,
    env: { ...env, WORKER_ID: `bench-start-${way}-${run}`, EXECUTION_PROVIDER: "cpu" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const readyMs = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "ready:" within 60 s:\n${log}`)), 60_000);
    const onData = (chunk: Buffer) => {
      log += chunk;
      if (log.includes("ready:")) {
        clearTimeout(timer);
        resolve(performance.now() - started);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", () => reject(new Error(`the worker exited before it was ready:\n${log}`)));
  });
  await sleep(SETTLE_MS);
  const mb = (pids: number[]) => pids.reduce((sum, pid) => sum + (residentBytes(pid) ?? 0), 0) / 2 ** 20;
  const below = descendantPids(child.pid!);
  // A sandbox child runs the child bundle (node_modules/.cache/.../child-*.cjs, or the built one),
  // possibly behind isolation wrappers (setpriv, unshare), which exec into it.
  const sandboxes = below.filter((pid) => /child-[0-9a-f]+\.cjs|sandbox-child\.cjs|sandbox\/child\.ts/.test(commandLine(pid)));
  const helpers = below.filter((pid) => !sandboxes.includes(pid));
  // Read while they run.
  const figures = { readyMs, workerMb: mb([child.pid!]), helpersMb: mb(helpers), sandboxMb: mb(sandboxes), sandboxes: sandboxes.length };
  child.kill("SIGTERM");
  await exited;
  return figures;
}

const environment = await createIsolatedEnvironment("bench_worker_start");
try {
  buildWorker();
  const env = { ...process.env };
  const results: Record<Way, Start[]> = { sources: [], built: [] };
  // One start of each first, not counted: the page cache holds both ways' files alike.
  for (const way of ["sources", "built"] as const) await start(way, env, -1);
  for (let run = 0; run < RUNS; run++) {
    const order: Way[] = run % 2 === 0 ? ["sources", "built"] : ["built", "sources"];
    for (const way of order) results[way].push(await start(way, env, run));
  }

  const triple = (values: number[], digits = 0) => {
    const s = spread(values, digits);
    return `${s.min} / ${s.median} / ${s.max}`;
  };
  console.log(`\nWorker start: ${RUNS} starts each way, order alternating; memory ${SETTLE_MS / 1000} s after "ready:" (min / median / max)`);
  console.log(benchContext());
  console.log();
  const row = (label: string, pick: (s: Start) => number, digits = 0) => [label, ...(["sources", "built"] as const).map((way) => triple(results[way].map(pick), digits))];
  console.log(
    markdownTable(
      ["measure", WAYS.sources.label, WAYS.built.label],
      [
        row("spawn to ready, ms", (s) => s.readyMs),
        row("worker process, MB resident", (s) => s.workerMb),
        row("its helper processes (esbuild), MB", (s) => s.helpersMb),
        row("worker and helpers, MB", (s) => s.workerMb + s.helpersMb),
        row("its warm sandbox processes, MB (all)", (s) => s.sandboxMb),
        row("warm sandbox processes, count", (s) => s.sandboxes),
      ],
    ),
  );
} finally {
  await environment.dispose();
}
