/**
 * The flags a worker process is started with: `node <WORKER_NODE_FLAGS> dist/main.mjs` (worker/Dockerfile,
 * `npm run worker`, the tests' and benchmarks' workers; tests/unit/worker-node-flags.test.ts checks
 * that they say the same).
 *
 * `--max-semi-space-size=2` caps V8's young generation at 2 MB per semi-space (16 MB by default).
 * Each evaluation forks the worker to start a sandbox child, and a fork write-protects every page the
 * worker has written: the first write to each page afterwards faults (and copies it while the child
 * has not yet exec'd), and the child's exec tears down the copied page tables. New objects are
 * written across the young generation, so with 16 MB semi-spaces each evaluation paid faults over
 * up to 16 MB, in the worker, on the cores that run the models. Measured (docs/performance.md,
 * 2026-12-02): a process that spawns a child and then writes N MB pays ~0.3 ms of CPU per MB per
 * spawn; in `npm run bench`'s (b), seven runs each way alternating, the machine's CPU per tiny
 * evaluation had a median of 184 ms with the cap against 212 without, and the burst 632 against 532
 * evaluations per minute (the runs' ranges overlap on this noisy machine: 527-644 against 493-599).
 * The cost is more frequent scavenges of a smaller space, each cheaper (the worker's GC time in its
 * CPU profiles stayed within the same range).
 */
export const WORKER_NODE_FLAGS = ["--max-semi-space-size=2"] as const;

/**
 * The flags of WORKER_NODE_FLAGS that this process was not started with (on the command line or in
 * NODE_OPTIONS): the worker warns at start, as a deployment that starts it another way loses them.
 */
export function missingWorkerNodeFlags(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ""): string[] {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/).filter(Boolean)]);
  return WORKER_NODE_FLAGS.filter((flag) => !given.has(flag));
}
