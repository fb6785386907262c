import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { WORKER_NODE_FLAGS } from "../../worker/src/node-flags";

/**
 * The worker as production starts it: `node <WORKER_NODE_FLAGS> worker/dist/main.mjs`, built by scripts/build-worker.ts
 * (`npm run worker:build`). Built once per test run by the globalSetup of every project that starts
 * workers, so a run always tests the sources as they are.
 */
const ROOT = path.resolve(import.meta.dirname, "../..");
export const BUILT_WORKER = path.join(ROOT, "worker", "dist", "main.mjs");

/**
 * Builds it, once per process: the integration and security projects share one globalSetup file,
 * which vitest runs once for each, in the same process.
 */
export function buildWorker(): void {
  if (process.env.GOAT_WORKER_BUILT_BY === String(process.pid)) return;
  execFileSync(process.execPath, ["--import", "tsx", "scripts/build-worker.ts"], { cwd: ROOT, stdio: "pipe" });
  process.env.GOAT_WORKER_BUILT_BY = String(process.pid);
}

/**
 * Node's arguments for the built worker (or a copy of it: `main`), as production gives them
 * (worker/src/node-flags.ts); a clear error where no globalSetup built it (a script of its own must
 * call buildWorker()).
 */
export function builtWorkerArgs(main = BUILT_WORKER): string[] {
  if (!existsSync(main)) throw new Error(`${main} is missing: build the worker first (npm run worker:build)`);
  return [...WORKER_NODE_FLAGS, main];
}
