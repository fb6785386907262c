// Evaluation speed: `npm run bench`. Five measures, each over several runs (min / median / max),
// on one dataset of ROWS x 784 float32 rows (10 classes), in one run of this script:
//   (a) one evaluation, from the job's start (the claim) to the result committed in Postgres, in
//       this process with the worker's own code (claim, RUNNING event, sandbox, inference, metrics,
//       result write; the SCORED event after the commit is not in the figure);
//   (c) raw onnxruntime-node (InferenceSession.create + the same batched run, in a process of its
//       own that holds the inputs and does nothing else: support/raw-onnxruntime.ts),
//       measured with the machine quiet: the sandbox's spares are started and done with their idle
//       work first (sparesSettled: the test set read whole, the allocator primed), as a quiet
//       worker's are, and the order of (a) and (c) alternates from run to run;
//   (b) a burst of BURST back-to-back jobs through BullMQ to one real worker process (the built
//       worker, `node worker/dist/main.mjs`, as production starts it) on this machine's cores,
//       from the moment they are queued to the last result
//       committed: evaluations per minute per worker, the sandbox wait of back-to-back jobs
//       included; with the worker's default of warm sandbox processes (SANDBOX_SPARES=auto: one per
//       usable core, at most two) and with one (runs alternating);
//   (d) the same burst of a CPU-bound model with two worker processes against one: throughput
//       ratio. Each worker confined to one core of its own (`taskset`), as the compose files give
//       each worker container one CPU; and, as a second figure, unconfined processes that each
//       plan for every core of the machine;
//   (e) one evaluation as in (a) after the worker sat idle for IDLE_MS (no job, no query): what a
//       team waits for when its upload is the first in a while;
//   (f) the machine's own scaling from one core to two, after (b) and (d), without the platform:
//       raw onnxruntime on (d)'s model, one long-lived process pinned to core 0 against two pinned
//       to cores 0 and 1 at once (runs per minute), and `node -e 0` started PROCESS_STARTS times
//       back to back by one loop on core 0 against two on cores 0 and 1 at once (starts per
//       second), runs alternating: the ceilings of (b) and (d) on this machine, as an evaluation
//       starts a Node process (support/machine-scaling.ts).
// Goals (issue 11): (a)/(c) <= 1.05 for the MLP 784-512-512-10; >= 600 evaluations per minute per
// worker for the tiny model; two workers >= 1.8 x one on a CPU-bound model.
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { writeNpyFile, type NdArray } from "@goat/contracts/dataset/npy";
import { DirectoryModelStorage, modelStorageKey } from "@goat/contracts/model-storage";
import { usableCores } from "@goat/contracts/usable-cores";
import { buildLinearClassifier, buildMlp } from "../tools/onnx/build-model";
import { createIsolatedEnvironment } from "../tests/support/isolated-environment";
import { startWorker, type WorkerProcess } from "../tests/integration/support/worker-process";
import { buildWorker } from "../tests/support/built-worker";
import { sandboxSpares } from "../worker/src/env";
import { workerStatusEvents } from "../worker/src/status-events";
import { inferenceRunsPerMinute, pinnedRawProcesses, processStartsPerSecond } from "./support/machine-scaling";
import { cpuPerUnit, cpuSnapshot } from "./support/process-cpu";
import { RawOnnxruntimeProcess, type RawRun } from "./support/raw-onnxruntime";
import { benchContext, markdownTable, median, spread } from "./support/report";
import { echoChild, wakeFigures, type WakeFigures } from "./support/wake-latency";

const ROWS = Number(process.env.BENCH_ROWS ?? 10_000);
// 15 runs: this machine's inference times spread by 10-40% within a run; 7 left the MLP ratio's median moving by ~0.1.
const REPS = Number(process.env.BENCH_REPS ?? 15);
const BATCH = Number(process.env.BENCH_BATCH ?? 1_000);
const BURST = Number(process.env.BENCH_BURST ?? 40);
const BURST_RUNS = Number(process.env.BENCH_BURST_RUNS ?? 3);
const CPU_BOUND_JOBS = Number(process.env.BENCH_CPU_BOUND_JOBS ?? 12);
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 15_000);
const IDLE_RUNS = Number(process.env.BENCH_IDLE_RUNS ?? 3);
const PROCESS_STARTS = Number(process.env.BENCH_PROCESS_STARTS ?? 40);

const environment = await createIsolatedEnvironment("bench_eval", { EVALUATION_BACKOFF_MS: "200" });
// After the environment is set: these read it when first used.
const { db } = await import("../lib/db");
const { createTeam, createUser, addTeamMember } = await import("../lib/accounts/users");
const { createTask, importDataset } = await import("../lib/tasks/admin");
const { enqueueEvaluation, evaluationQueue } = await import("../lib/queue/evaluation-queue");
const { createDb } = await import("../worker/src/db");
const { evaluateSubmission } = await import("../worker/src/evaluate-submission");
type EvaluationMilestones = import("../worker/src/evaluate-submission").EvaluationMilestones;
const { SandboxPool } = await import("../worker/src/sandbox/pool");
const { TaskDatasetCache } = await import("../worker/src/task-datasets");

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function seededRows(rows: number, width: number): NdArray {
  let state = 12345;
  const data = new Float32Array(rows * width);
  for (let i = 0; i < data.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    data[i] = state / 2 ** 32;
  }
  return { dtype: "float32", shape: [rows, width], data };
}

const inputs = seededRows(ROWS, 784);
const staging = path.join(environment.root, "staging");
await fs.mkdir(staging, { recursive: true });
await writeNpyFile(path.join(staging, "inputs.npy"), inputs);
await writeNpyFile(path.join(staging, "labels.npy"), { dtype: "int64", shape: [ROWS], data: BigInt64Array.from({ length: ROWS }, (_, i) => BigInt(i % 10)) });
const task = await createTask({
  slug: "bench-eval",
  title: "Evaluation benchmark",
  kind: "CLASSIFICATION",
  inputSpec: [{ name: "input", dtype: "float32", shape: [-1, 784] }],
  outputSpec: [{ name: "output", dtype: "float32", shape: [-1, 10] }],
  metrics: ["accuracy", "macro_f1", "top_k"],
  rankMetric: "accuracy",
  splitSeed: 1,
  batchSize: BATCH,
  evalTimeoutMs: 300_000,
  evalMemoryMb: 4_096,
});
await importDataset(task.slug, { inputs: path.join(staging, "inputs.npy"), labels: path.join(staging, "labels.npy") });
const user = await createUser({ email: "bench@bench.local", name: "Bench", password: "bench-password-1" });
const team = await createTeam("Bench");
await addTeamMember(team.id, user.id);
const storage = new DirectoryModelStorage(process.env.STORAGE_DIR!);

const MODELS = {
  tiny: { label: "tiny (linear 784-10)", bytes: buildLinearClassifier({ weights: new Float32Array(7840).fill(0.001), bias: new Float32Array(10), inDim: 784, outDim: 10 }) },
  mlp: { label: "MLP 784-512-512-10", bytes: buildMlp({ sizes: [784, 512, 512, 10], seed: 1 }) },
  cpuBound: { label: "MLP 784-2048-2048-10 (CPU-bound)", bytes: buildMlp({ sizes: [784, 2048, 2048, 10], seed: 2 }) },
};
type ModelName = keyof typeof MODELS;

const storedKeys = new Map<ModelName, { key: string; sha256: string }>();
/** A submission row of the model, its file in model storage, as an accepted upload leaves them. */
async function submission(model: ModelName): Promise<number> {
  const { bytes, label } = MODELS[model];
  let stored = storedKeys.get(model);
  if (!stored) {
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    const file = path.join(staging, `${sha256}.onnx`);
    await fs.writeFile(file, bytes);
    stored = { key: modelStorageKey(task.slug, sha256), sha256 };
    await storage.putFile(stored.key, file);
    storedKeys.set(model, stored);
  }
  const row = await db.submission.create({
    data: { taskId: task.id, teamId: team.id, userId: user.id, fileName: `${label}.onnx`, sha256: stored.sha256, sizeBytes: bytes.byteLength, storageKey: stored.key, paramCount: 0n },
    select: { id: true },
  });
  return row.id;
}

// ---- (a) and (c): one evaluation in this process against raw onnxruntime, the machine quiet ----

/** Raw onnxruntime's time, and its session's creation and inference (as the child's receipt splits them). */
// (c) in a process of its own, quiet between runs (support/raw-onnxruntime.ts).
const raw = new RawOnnxruntimeProcess(path.join(staging, "inputs.npy"));
for (const model of ["mlp", "tiny"] as const) await raw.load(model, MODELS[model].bytes);
const rawOnnxruntime = (model: ModelName) => raw.run(model, BATCH);

// The worker's context as worker/src/consumer.ts builds it: its own Prisma client, its status
// events and webhook triggers on Redis (the RUNNING and SCORED events of each evaluation).
const sandbox = new SandboxPool({ maxSpare: 1 });
const workerDb = createDb(process.env.DATABASE_URL!);
const events = workerStatusEvents({ db: workerDb, redisUrl: process.env.REDIS_URL!, queuePrefix: process.env.QUEUE_PREFIX!, log: console });
const ctx = {
  db: workerDb,
  storage,
  sandbox,
  datasets: new TaskDatasetCache(process.env.DATA_DIR!),
  workerId: "bench-in-process",
  executionProvider: { provider: "cpu" as const, deviceId: 0, intraOpThreads: 1 },
  publishStatus: events.publishStatus,
};

interface PlatformRun {
  ms: number;
  waitMs: number;
  /** from the receipt: the child's session creation and inference */
  sessionMs: number;
  inferenceMs: number;
  /** when each step ended (ms from the job's start) */
  milestones: EvaluationMilestones;
}

async function platformEvaluation(model: ModelName): Promise<PlatformRun> {
  const id = await submission(model);
  const outcome = await evaluateSubmission(ctx, id);
  if (outcome.outcome !== "scored") throw new Error(`bench submission ${id} not scored: ${outcome.outcome}`);
  // From the claim to the result's commit (the SCORED event after it is not counted).
  const ms = outcome.committedMs;
  const result = await db.result.findUniqueOrThrow({ where: { submissionId: id }, select: { receipt: true } });
  const { timings } = result.receipt as { timings: { sandboxWaitMs: number; sessionMs: number; inferenceMs: number } };
  return { ms, waitMs: timings.sandboxWaitMs, sessionMs: timings.sessionMs, inferenceMs: timings.inferenceMs, milestones: outcome.milestones };
}

/**
 * Nothing else of this benchmark runs: the spares are started, hold the inputs and are done with a
 * waiting spare's idle work (the test set read whole, the allocator primed), and a moment passes.
 */
async function quiet() {
  await sandbox.sparesSettled();
  await sleep(250);
}

const singleRows: string[][] = [];
const breakdownRows: string[][] = [];
/** The MLP's raw inference, median ms: the idle gap of the wake-up measure below. */
let mlpRawMedianMs = 80;
for (const model of ["mlp", "tiny"] as const) {
  await platformEvaluation(model); // the label cache, the inputs and the spare
  await rawOnnxruntime(model);
  const platform: number[] = [];
  const raw: number[] = [];
  const rawRuns: RawRun[] = [];
  const runs: PlatformRun[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const platformFirst = rep % 2 === 0;
    for (const which of platformFirst ? ["platform", "raw"] : ["raw", "platform"]) {
      await quiet();
      if (which === "raw") {
        const run = await rawOnnxruntime(model);
        raw.push(run.ms);
        rawRuns.push(run);
      } else {
        const run = await platformEvaluation(model);
        platform.push(run.ms);
        runs.push(run);
      }
    }
  }
  const p = spread(platform);
  const r = spread(raw);
  if (model === "mlp") mlpRawMedianMs = median(raw);
  singleRows.push([
    MODELS[model].label,
    `${p.min} / ${p.median} / ${p.max}`,
    `${r.min} / ${r.median} / ${r.max}`,
    (median(platform) / median(raw)).toFixed(3),
    (median(platform) - median(raw)).toFixed(1),
    median(runs.map((run) => run.waitMs)).toFixed(1),
  ]);
  const of = (pick: (run: PlatformRun) => number) => median(runs.map(pick)).toFixed(1);
  breakdownRows.push([
    MODELS[model].label,
    of((run) => run.milestones.claimed),
    of((run) => run.milestones.evaluating - run.milestones.claimed),
    of((run) => run.sessionMs),
    of((run) => run.inferenceMs),
    of((run) => run.milestones.returned - run.milestones.evaluating - run.sessionMs - run.inferenceMs),
    of((run) => run.milestones.scored - run.milestones.returned),
    of((run) => run.milestones.intervals - run.milestones.scored),
    of((run) => run.milestones.committed - run.milestones.intervals),
    `${median(rawRuns.map((run) => run.sessionMs)).toFixed(1)} / ${median(rawRuns.map((run) => run.inferenceMs)).toFixed(1)}`,
  ]);
}
// The machine's wake-up, as the evaluations above met it: through the worker's own pool, and to a
// Node child over IPC, after a gap as long as the MLP's raw inference.
const WAKE_RUNS = 20;
const wakeGapMs = Math.round(mlpRawMedianMs);
await quiet();
const echo = echoChild();
let wake: { postgres: WakeFigures; commit: WakeFigures; ipc: WakeFigures };
// A one-row insert that commits on its own: the least a stored result costs (a round trip and the
// WAL's flush to this machine's disk), in a table of the benchmark's own database.
await ctx.db.pool.query("CREATE TABLE IF NOT EXISTS bench_commit_probe (at timestamptz NOT NULL)");
try {
  wake = {
    postgres: await wakeFigures(() => ctx.db.pool.query("SELECT 1"), wakeGapMs, WAKE_RUNS),
    commit: await wakeFigures(() => ctx.db.pool.query("INSERT INTO bench_commit_probe VALUES (now())"), wakeGapMs, WAKE_RUNS),
    ipc: await wakeFigures(() => echo.ping(), wakeGapMs, WAKE_RUNS),
  };
} finally {
  echo.close();
}

// (e): the same evaluation after an idle spell (the spare is ready; nothing else of this process runs).
const idleRuns: PlatformRun[] = [];
for (let run = 0; run < IDLE_RUNS; run++) {
  await quiet();
  await sleep(IDLE_MS);
  idleRuns.push(await platformEvaluation("mlp"));
}
await sandbox.close();
raw.close();

// ---- (b) and (d): bursts of queued jobs through real worker processes ----

/**
 * The last finish time of the submissions, once all are scored. Their own finishedAt times make the
 * figure, so polling slowly costs no precision, and little CPU on the cores the worker uses; with
 * the last few left it polls often, so that what is measured after (the burst's CPU) takes in little
 * of the quiet after the last one.
 */
async function waitUntilScored(ids: number[]): Promise<Date> {
  for (;;) {
    const rows = await db.submission.findMany({ where: { id: { in: ids } }, select: { status: true, finishedAt: true } });
    const failed = rows.find((row) => row.status === "FAILED" || row.status === "CANCELLED");
    if (failed) throw new Error(`a bench submission ended ${failed.status}`);
    const left = rows.filter((row) => row.status !== "SCORED").length;
    if (left === 0) return new Date(Math.max(...rows.map((row) => row.finishedAt!.getTime())));
    await sleep(left <= 2 ? 50 : 500);
  }
}

/** Submission rows of the model, as uploads leave them before they are queued. */
async function submissions(model: ModelName, jobs: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < jobs; i++) ids.push(await submission(model));
  return ids;
}

async function enqueueAll(ids: number[]): Promise<number[]> {
  for (const id of ids) await enqueueEvaluation(id, "upload");
  return ids;
}

interface BurstSetup {
  /** the workers' SANDBOX_SPARES; their default (auto) when unset */
  spares?: number;
  /** each worker on a core of its own (worker i on CPU i), as a one-CPU container */
  oneCoreEach?: boolean;
}

interface BurstRun {
  perMinute: number;
  /** CPU ms per evaluation by role, from the jobs' queueing to the last one scored */
  cpu: CpuPerEvaluation;
}
type CpuPerEvaluation = ReturnType<typeof cpuPerUnit>;

/** Evaluations per minute of `workers` worker processes on a burst of `jobs` queued at once. */
async function burst(model: ModelName, workers: number, jobs: number, setup: BurstSetup = {}): Promise<BurstRun> {
  const started: WorkerProcess[] = [];
  try {
    for (let i = 0; i < workers; i++) {
      const env = { INTRA_OP_THREADS: "1", ...(setup.spares === undefined ? {} : { SANDBOX_SPARES: String(setup.spares) }) };
      started.push(await startWorker(`bench-worker-${i + 1}`, env, 30_000, setup.oneCoreEach ? String(i) : undefined));
    }
    // Warm-up: every worker has evaluated this task once (its spare holds the inputs).
    await waitUntilScored(await enqueueAll(await submissions(model, 2 * workers)));
    // The burst's rows exist before the clock starts: creating them is the uploads' work, not the
    // workers' (until 2026-11-30 it was inside the figure).
    const rows = await submissions(model, jobs);
    await sleep(500);
    const pids = started.map((worker) => worker.child.pid!);
    const cpuBefore = cpuSnapshot(pids);
    const queued = Date.now();
    const ids = await enqueueAll(rows);
    const last = await waitUntilScored(ids);
    const cpu = cpuPerUnit(cpuBefore, cpuSnapshot(pids), jobs);
    return { perMinute: (jobs / (last.getTime() - queued)) * 60_000, cpu };
  } finally {
    await Promise.all(started.map((worker) => worker.stop()));
  }
}

/** Alternates which setup goes first from run to run, so that a drift of the machine favours none. */
async function alternating<K extends string, R>(setups: K[], measure: (setup: K) => Promise<R>): Promise<Record<K, R[]>> {
  const results = Object.fromEntries(setups.map((setup) => [setup, [] as R[]])) as Record<K, R[]>;
  for (let run = 0; run < BURST_RUNS; run++) {
    for (const setup of run % 2 === 0 ? setups : [...setups].reverse()) results[setup].push(await measure(setup));
  }
  return results;
}

const usable = usableCores();
const defaultSpares = sandboxSpares("auto", usable, 1);
// The worker processes of (b) and (d) run the built worker, as production does (scripts/build-worker.ts).
if (BURST_RUNS > 0) buildWorker();
const tinyBurst = await alternating(["default", "one"], (setup) => burst("tiny", 1, BURST, setup === "one" ? { spares: 1 } : {}));

const scaling = await alternating(["one-core 1", "one-core 2", "unconfined 1", "unconfined 2"], (setup) => {
  const [confinement, workers] = setup.split(" ");
  return burst("cpuBound", Number(workers), CPU_BOUND_JOBS, { oneCoreEach: confinement === "one-core" });
});
/** Each run's two-process figure over the one-process figure of the same run. */
const perRunRatios = (two: number[], one: number[]) => two.map((value, run) => value / one[run]);
const ratios = (confinement: "one-core" | "unconfined") =>
  perRunRatios(scaling[`${confinement} 2`].map((run) => run.perMinute), scaling[`${confinement} 1`].map((run) => run.perMinute));

// ---- (f): the machine's own scaling, one core against two ----

// Two raw processes for the whole section, the one on core 0 alone for one core; nothing of (b)
// and (d) runs any more. Setups "compute 1", "starts 2"...: the measure and its processes.
async function machineScalingRuns() {
  const pinned = await pinnedRawProcesses(path.join(staging, "inputs.npy"), [0, 1], { name: "cpuBound", bytes: MODELS.cpuBound.bytes }, BATCH);
  try {
    return await alternating(["compute 1", "compute 2", "starts 1", "starts 2"], (setup) => {
      const processes = Number(setup.split(" ")[1]);
      return setup.startsWith("compute")
        ? inferenceRunsPerMinute(pinned.slice(0, processes), "cpuBound", BATCH, Math.ceil(CPU_BOUND_JOBS / processes))
        : processStartsPerSecond(processes === 2 ? [0, 1] : [0], PROCESS_STARTS);
    });
  } finally {
    for (const raw of pinned) raw.close();
  }
}
const machineScaling = BURST_RUNS > 0 && usable >= 2 ? await machineScalingRuns() : undefined;

// ---- report ----

const rates = (runs: BurstRun[]) => runs.map((run) => run.perMinute);
/** Median CPU ms per evaluation by role over the runs of one setup. */
const cpuRow = (label: string, runs: BurstRun[]) => [
  label,
  ...(["workers", "launchers", "sandboxes", "postgres", "redis", "other", "machine"] as const).map((role) => median(runs.map((run) => run.cpu[role])).toFixed(1)),
  ...(["workerFaults", "sandboxFaults"] as const).map((role) => median(runs.map((run) => run.cpu[role])).toFixed(0)),
];
const triple = (values: number[], digits = 1) => {
  const s = spread(values, digits);
  return `${s.min} / ${s.median} / ${s.max}`;
};
console.log(`\nEvaluation benchmark: ${ROWS} rows x 784 float32, batch ${BATCH}, CPU execution provider, 1 intra-op thread`);
console.log(benchContext());
console.log(`\n(a) one evaluation, job start -> result committed, against (c) raw onnxruntime in a process of its own on a quiet machine (${REPS} runs each, order alternating; min / median / max, ms)\n`);
console.log(markdownTable(["model", "platform ms", "raw ORT ms", "ratio of medians", "overhead ms", "sandbox wait ms (median)"], singleRows));
console.log("\nwhere the platform's time goes (medians, ms; the evaluation's milestones and its receipt's session and inference)\n");
console.log(
  markdownTable(
    ["model", "claim", "model staged, child told", "session", "inference", "rest of the child, outputs back", "checks, metrics", "intervals", "result write", "raw: session / inference"],
    breakdownRows,
  ),
);
console.log(`\nthe machine's wake-up: a round trip back to back, and after its peer sat idle ${wakeGapMs} ms (the MLP's raw inference; medians of ${WAKE_RUNS}, ms)\n`);
console.log(
  markdownTable(
    ["round trip", "back to back", "after the idle gap"],
    [
      ["Postgres `SELECT 1` through the worker's pool", wake.postgres.backToBack.toFixed(3), wake.postgres.afterGap.toFixed(3)],
      ["a message to a Node child over IPC and back", wake.ipc.backToBack.toFixed(3), wake.ipc.afterGap.toFixed(3)],
      ["Postgres one-row insert, committed (a round trip and the WAL's flush)", wake.commit.backToBack.toFixed(3), wake.commit.afterGap.toFixed(3)],
    ],
  ),
);
// The least overhead any platform pays here: the claim (a round trip), the model to its child and
// the outputs back (two IPC trips), the result committed, each after the wait.
const overheadFloorMs = wake.postgres.afterGap + 2 * wake.ipc.afterGap + wake.commit.afterGap;
console.log(
  `An evaluation makes at least four such trips after a wait (the claim, the model to its sandbox child, the outputs back, the result write): the difference of the columns is the machine's, in each of them. Their sum, ${overheadFloorMs.toFixed(1)} ms, is the least overhead of (a) on this machine; the goal's 5% of the MLP's raw time is ${(0.05 * mlpRawMedianMs).toFixed(1)} ms.`,
);
if (IDLE_RUNS > 0) {
  console.log(`\n(e) one evaluation of the ${MODELS.mlp.label} after the worker sat idle ${IDLE_MS / 1000} s (${IDLE_RUNS} runs; min / median / max, ms)\n`);
  const idle = (pick: (run: PlatformRun) => number) => triple(idleRuns.map(pick));
  console.log(
    markdownTable(
      ["measure", "min / median / max"],
      [
        ["job start -> result committed", idle((run) => run.ms)],
        ["of which the result write", idle((run) => run.milestones.committed - run.milestones.intervals)],
      ],
    ),
  );
}
if (BURST_RUNS > 0) {
  console.log(`\n(b) ${BURST} back-to-back jobs of the tiny model through BullMQ, one worker process on ${usable} core(s) (${BURST_RUNS} runs, order alternating)\n`);
  console.log(
    markdownTable(
      ["measure", "min / median / max"],
      [
        [`evaluations per minute per worker (the default: ${defaultSpares} warm sandbox process(es) on ${usable} core(s))`, triple(rates(tinyBurst.default), 0)],
        ["the same with SANDBOX_SPARES=1 (one warm process)", triple(rates(tinyBurst.one), 0)],
      ],
    ),
  );
  console.log("\nwhere the burst's CPU goes (medians over the runs; CPU ms per evaluation, from the queueing to the last result; /proc, 10 ms ticks)\n");
  console.log(
    markdownTable(
      ["setup", "worker process", "its launcher", "sandbox children", "postgres", "redis", "the rest (this script, the kernel)", "machine busy", "page faults: worker", "sandbox children"],
      [cpuRow(`the default (${defaultSpares} spares)`, tinyBurst.default), cpuRow("SANDBOX_SPARES=1", tinyBurst.one)],
    ),
  );
  console.log(`\n(d) ${CPU_BOUND_JOBS} jobs of ${MODELS.cpuBound.label}, two worker processes against one (${BURST_RUNS} runs each, order alternating)\n`);
  console.log(
    markdownTable(
      ["measure", "min / median / max"],
      [
        ["evaluations per minute, 1 worker on one core", triple(rates(scaling["one-core 1"]))],
        ["evaluations per minute, 2 workers on one core each", triple(rates(scaling["one-core 2"]))],
        ["throughput ratio 2 / 1, one core each (as the compose files run workers)", triple(ratios("one-core"), 2)],
        ["evaluations per minute, 1 worker, unconfined", triple(rates(scaling["unconfined 1"]))],
        ["evaluations per minute, 2 workers, unconfined", triple(rates(scaling["unconfined 2"]))],
        ["throughput ratio 2 / 1, unconfined (each worker plans for every core)", triple(ratios("unconfined"), 2)],
      ],
    ),
  );
  if (machineScaling) {
    const { "compute 1": compute1, "compute 2": compute2, "starts 1": starts1, "starts 2": starts2 } = machineScaling;
    console.log(`\n(f) the machine's own scaling, without the platform: each process pinned to a core of its own (${BURST_RUNS} runs each, order alternating)\n`);
    console.log(
      markdownTable(
        ["measure", "min / median / max"],
        [
          [`raw onnxruntime runs per minute of ${MODELS.cpuBound.label}, 1 process on core 0 (${CPU_BOUND_JOBS} runs)`, triple(compute1)],
          [`the same, 2 processes on cores 0 and 1 at once (${Math.ceil(CPU_BOUND_JOBS / 2)} runs each)`, triple(compute2)],
          ["throughput ratio 2 / 1, raw onnxruntime", triple(perRunRatios(compute2, compute1), 2)],
          [`Node process starts per second (\`node -e 0\` back to back), 1 loop on core 0 (${PROCESS_STARTS} starts)`, triple(starts1)],
          [`the same, 2 loops on cores 0 and 1 at once (${PROCESS_STARTS} starts each)`, triple(starts2)],
          ["throughput ratio 2 / 1, process starts", triple(perRunRatios(starts2, starts1), 2)],
        ],
      ),
    );
    console.log(
      "\nThe platform starts one Node process per evaluation (its sandbox child): (b), mostly process starts, cannot scale across cores better than the machine's process starts do; (d), mostly inference, lies between the two ratios above by the share of each in an evaluation.",
    );
  } else {
    console.log(`\n(f) the machine's own scaling: skipped, ${usable} usable core(s) here; it compares one core with two.`);
  }
}
console.log("\nGoals (issue 11): MLP ratio <= 1.05; tiny >= 600 evaluations per minute per worker; 2 / 1 workers >= 1.8.");

await evaluationQueue().close();
await events.close();
await ctx.db.$disconnect();
await db.$disconnect();
await environment.dispose();
process.exit(0);
