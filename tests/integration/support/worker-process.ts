import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import path from "node:path";
import { BUILT_WORKER, builtWorkerArgs } from "../../support/built-worker";

/**
 * A real worker process (`node <WORKER_NODE_FLAGS> worker/dist/main.mjs`, built by the globalSetup), as production runs it, pointed at the test
 * run's Postgres, Redis prefix, storage and data directories. Short BullMQ locks so that a killed
 * worker's job moves to another worker within seconds.
 */
export interface WorkerProcess {
  id: string;
  child: ChildProcess;
  output(): string;
  /** Its log records (pino writes one JSON object per line), for assertions on fields rather than on escaped text. */
  logRecords(): WorkerLogRecord[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface WorkerLogRecord {
  msg: string;
  submissionId?: number;
  attempt?: number;
  status?: string;
  err?: { type: string; message: string };
}

const ROOT = path.resolve(import.meta.dirname, "../../..");

/**
 * `setpriv --pdeathsig KILL` (util-linux) where it runs: the kernel kills the worker when the test
 * process that started it dies, even without its clean-up (an interrupted run left its workers
 * running, taking CPU from everything after).
 */
let diesWithTestRun: string[] | undefined;
function dyingWithTestRun(): string[] {
  diesWithTestRun ??= spawnSync("setpriv", ["--pdeathsig", "KILL", "true"]).status === 0 ? ["setpriv", "--pdeathsig", "KILL"] : [];
  return diesWithTestRun;
}

/**
 * `cpuList` confines the worker and its sandbox children to those CPUs (`taskset -c`, util-linux),
 * as a container's CPU limit confines a deployed worker: Node counts only the CPUs it may run on,
 * so the worker plans for that many cores (contracts/src/usable-cores.ts).
 */
export async function startWorker(
  id: string,
  extraEnv: Record<string, string> = {},
  readyTimeoutMs = 30_000,
  cpuList?: string,
  main = BUILT_WORKER,
  memoryCgroup?: string,
): Promise<WorkerProcess> {
  const command = [
    ...dyingWithTestRun(),
    // `memoryCgroup`: a cgroup directory the worker joins before it starts, its sandbox children with it (a container's memory limit).
    ...(memoryCgroup !== undefined ? ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', memoryCgroup] : []),
    ...(cpuList !== undefined ? ["taskset", "-c", cpuList] : []),
    process.execPath,
    ...builtWorkerArgs(main),
  ];
  const child = spawn(command[0], command.slice(1), {
    cwd: ROOT,
    env: {
      ...process.env,
      WORKER_ID: id,
      EXECUTION_PROVIDER: "cpu",
      LOCK_DURATION_MS: "3000",
      STALLED_INTERVAL_MS: "1000",
      ...extraEnv,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout!.on("data", (chunk) => (log += chunk));
  child.stderr!.on("data", (chunk) => (log += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL"); // a worker that never got ready must not outlive the run that started it
      reject(new Error(`worker ${id} did not get ready:\n${log}`));
    }, readyTimeoutMs);
    const check = () => {
      if (log.includes("ready:")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", check);
    child.once("exit", () => {
      clearTimeout(timer);
      reject(new Error(`worker ${id} exited before it was ready:\n${log}`));
    });
  });

  return {
    id,
    child,
    output: () => log,
    logRecords: () =>
      log
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as WorkerLogRecord),
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}

/** A worker's `GET /health` (worker/src/health.ts): its status code and JSON body. */
export async function workerHealthAt(port: number): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`http://127.0.0.1:${port}/health`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
