// Evaluation speed: `npm run bench`. For a 784-512-512-10 MLP on 10,000 rows, the end-to-end
// evaluation (job start -> result stored: claim, sandbox, inference, metrics, result write) beside
// the raw onnxruntime-node time (session + batched inference, in this process) on the same data in
// the same run; and the same for a tiny model, whose difference is the pipeline's fixed overhead.
// Goals (issue 2): ratio <= 1.05, fixed overhead <= 150 ms. Prints a table; medians of REPS runs.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import * as ort from "onnxruntime-node";
import pg from "pg";
import { writeNpyFile, type NdArray } from "@goat/contracts/dataset/npy";
import { datasetFolderVersion } from "@goat/contracts/dataset/task-dataset";
import { datasetVersionDir } from "@goat/contracts/paths";
import { DirectoryModelStorage, modelStorageKey } from "@goat/contracts/model-storage";
import { createDb } from "../worker/src/db";
import { evaluateSubmission, type EvaluationContext } from "../worker/src/evaluate-submission";
import { SandboxPool } from "../worker/src/sandbox/pool";
import { TaskDatasetCache } from "../worker/src/task-datasets";
import { buildLinearClassifier, buildMlp } from "../tools/onnx/build-model";

const ROWS = Number(process.env.BENCH_ROWS ?? 10_000);
const REPS = Number(process.env.BENCH_REPS ?? 7);
const BATCH = Number(process.env.BENCH_BATCH ?? 1_000);
const ADMIN_URL = process.env.BENCH_ADMIN_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function seededRows(rows: number, width: number): NdArray {
  let state = 12345;
  const data = new Float32Array(rows * width);
  for (let i = 0; i < data.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    data[i] = state / 2 ** 32;
  }
  return { dtype: "float32", shape: [rows, width], data };
}

async function rawOnnxruntime(model: Uint8Array, inputs: NdArray): Promise<number> {
  const started = performance.now();
  const session = await ort.InferenceSession.create(model, { executionProviders: ["cpu"], intraOpNumThreads: 1 });
  const data = inputs.data as Float32Array;
  const width = inputs.shape[1];
  for (let offset = 0; offset < ROWS; offset += BATCH) {
    const rows = Math.min(BATCH, ROWS - offset);
    const tensor = new ort.Tensor("float32", data.subarray(offset * width, (offset + rows) * width), [rows, width]);
    await session.run({ [session.inputNames[0]]: tensor });
  }
  const elapsed = performance.now() - started;
  await session.release();
  return elapsed;
}

async function main() {
  const runId = randomBytes(4).toString("hex");
  const database = `goat_bench_${runId}`;
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "goat-bench-"));
  const databaseUrl = ADMIN_URL.replace(/\/[^/]*$/, `/${database}`);
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${database}"`);
  execFileSync("scripts/prisma", ["migrate", "deploy"], { env: { ...process.env, DATABASE_URL: databaseUrl }, stdio: "pipe" });

  const db = createDb(databaseUrl);
  const storage = new DirectoryModelStorage(path.join(root, "storage"));
  const dataDir = path.join(root, "data");
  const inputs = seededRows(ROWS, 784);
  // The dataset is written as an import leaves it: versions/<its sha256>/ (contracts/src/paths.ts).
  const staging = path.join(root, "dataset");
  await fs.mkdir(staging, { recursive: true });
  await writeNpyFile(path.join(staging, "inputs.npy"), inputs);
  await writeNpyFile(path.join(staging, "labels.npy"), {
    dtype: "int64",
    shape: [ROWS],
    data: BigInt64Array.from({ length: ROWS }, (_, i) => BigInt(i % 10)),
  });
  const datasetVersion = await datasetFolderVersion(staging);
  await fs.mkdir(path.dirname(datasetVersionDir(dataDir, "bench", datasetVersion)), { recursive: true });
  await fs.rename(staging, datasetVersionDir(dataDir, "bench", datasetVersion));

  const user = await db.user.create({ data: { email: "bench@local", name: "bench", passwordHash: "-" } });
  const team = await db.team.create({ data: { name: "bench", inviteCode: runId } });
  const task = await db.task.create({
    data: {
      slug: "bench",
      title: "bench",
      kind: "CLASSIFICATION",
      inputSpec: [{ name: "input", dtype: "float32", shape: [-1, 784] }],
      outputSpec: [{ name: "output", dtype: "float32", shape: [-1, 10] }],
      metrics: ["accuracy", "macro_f1", "top_k"],
      rankMetric: "accuracy",
      direction: "MAXIMIZE",
      batchSize: BATCH,
      splitSeed: 1,
      datasetVersion,
      evalTimeoutMs: 120_000,
      evalMemoryMb: 4_096,
    },
  });

  const sandbox = new SandboxPool({ maxSpare: 1 });
  const datasets = new TaskDatasetCache(dataDir);
  const ctx: EvaluationContext = {
    db,
    storage,
    sandbox,
    datasets,
    workerId: "bench",
    executionProvider: { provider: "cpu", deviceId: 0, intraOpThreads: 1 },
  };
  const inputSpecs = [{ name: "input", dtype: "float32" as const, shape: [-1, 784] }];
  sandbox.warmUp({ dataset: { version: datasetVersion, loadInputs: async () => (await datasets.dataset({ slug: "bench", datasetVersion, inputSpecs })).inputs }, inputSpecs });

  const models = {
    "MLP 784-512-512-10": buildMlp({ sizes: [784, 512, 512, 10], seed: 1 }),
    "tiny (linear 784-10)": buildLinearClassifier({ weights: new Float32Array(7840).fill(0.001), bias: new Float32Array(10), inDim: 784, outDim: 10 }),
  };

  async function endToEnd(name: string, model: Uint8Array): Promise<{ totalMs: number; waitMs: number }> {
    const sha = `${randomBytes(16).toString("hex")}`;
    const key = modelStorageKey("bench", sha);
    const file = path.join(root, `${sha}.onnx`);
    await fs.writeFile(file, model);
    await storage.putFile(key, file);
    const submission = await db.submission.create({
      data: { taskId: task.id, teamId: team.id, userId: user.id, fileName: name, sha256: sha, sizeBytes: model.byteLength, storageKey: key, paramCount: 0n },
    });
    const outcome = await evaluateSubmission(ctx, submission.id);
    if (outcome.outcome !== "scored") throw new Error(`bench submission not scored: ${outcome.outcome}`);
    const result = await db.result.findUniqueOrThrow({ where: { submissionId: submission.id } });
    const timings = (result.receipt as { timings: { sandboxWaitMs: number } }).timings;
    return { totalMs: outcome.totalMs, waitMs: timings.sandboxWaitMs };
  }

  const rows: string[][] = [];
  for (const [name, model] of Object.entries(models)) {
    await endToEnd(name, model); // warm the label cache and the spare
    await rawOnnxruntime(model, inputs);
    const e2e: number[] = [];
    const raw: number[] = [];
    const waits: number[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      await new Promise((resolve) => setTimeout(resolve, 300)); // let the next spare finish starting, as between real jobs
      const run = await endToEnd(name, model);
      e2e.push(run.totalMs);
      waits.push(run.waitMs);
      raw.push(await rawOnnxruntime(model, inputs));
    }
    const e = median(e2e);
    const r = median(raw);
    rows.push([name, String(ROWS), e.toFixed(1), r.toFixed(1), (e / r).toFixed(3), (e - r).toFixed(1), median(waits).toFixed(1)]);
  }

  const header = ["model", "rows", "end-to-end ms", "raw ORT ms", "ratio", "overhead ms", "sandbox wait ms"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(" | ")} |`;
  console.log(`\nEvaluation benchmark: medians of ${REPS} runs, batch ${BATCH}, CPU EP, 1 intra-op thread, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "?"})`);
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const row of rows) console.log(line(row));
  console.log("\nend-to-end = job start to result stored (claim, sandbox session + inference, metrics, result write);");
  console.log("raw ORT = InferenceSession.create + batched run in this process. Goals: MLP ratio <= 1.05; tiny overhead <= 150 ms.");

  await sandbox.close();
  await db.$disconnect();
  await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  await admin.end();
  await fs.rm(root, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
