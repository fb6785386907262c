import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeNpyFile, type NdArray } from "@goat/contracts/dataset/npy";
import { datasetFolderVersion } from "@goat/contracts/dataset/task-dataset";
import { DirectoryModelStorage, modelStorageKey } from "@goat/contracts/model-storage";
import { datasetVersionDir, taskDatasetDir } from "@goat/contracts/paths";
import { sweepDatasetVersions } from "@/lib/datasets/dataset-versions";
import { db } from "@/lib/db";
import { importDataset } from "@/lib/tasks/admin";
import { buildLinearClassifier } from "@/tools/onnx/build-model";
import { createDb, type Db } from "../../worker/src/db";
import { evaluateSubmission, type EvaluationContext } from "../../worker/src/evaluate-submission";
import { PlatformFault } from "../../worker/src/faults";
import { SandboxPool } from "../../worker/src/sandbox/pool";
import { TaskDatasetCache } from "../../worker/src/task-datasets";
import { int64Labels, participantWithTeam, taskWithDataset, uniqueName } from "./support/fixtures";

/**
 * Immutable dataset versions (docs/architecture.md, "Datasets"): a re-import writes a new folder
 * and flips the task's version; the worker and its warm spare read inputs and labels of the version
 * the evaluation claimed, verified by hash, and the old folder stays while an evaluation uses it.
 *
 * The model is the identity (3 features -> 3 logits): it predicts the hottest input column, and each
 * dataset's inputs are one-hot rows of its own labels. A version scored with its own inputs and labels
 * is 100% accurate; any mix of two versions (labels shifted by one class) scores 0%.
 */
const WIDTH = 3;

/** One dataset version: labels `(i + shift) % 3`, inputs one-hot of those labels. */
function dataset(rows: number, shift: number): { inputs: NdArray; labels: NdArray } {
  const labels = Array.from({ length: rows }, (_, i) => (i + shift) % WIDTH);
  const data = new Float32Array(rows * WIDTH);
  labels.forEach((label, i) => (data[i * WIDTH + label] = 1));
  return { inputs: { dtype: "float32", shape: [rows, WIDTH], data }, labels: int64Labels(labels) };
}

let workerDb: Db;
let pool: SandboxPool;
let storage: DirectoryModelStorage;
let ctx: EvaluationContext;
let slug: string;
let taskId: number;
let owner: { teamId: number; userId: number };
let modelKey: string;
let modelSize: number;

async function importVersion(rows: number, shift: number): Promise<string> {
  const dir = path.join(process.env.GOAT_TEST_ROOT!, uniqueName("dataset"));
  await fs.mkdir(dir, { recursive: true });
  const { inputs, labels } = dataset(rows, shift);
  await writeNpyFile(path.join(dir, "inputs.npy"), inputs);
  await writeNpyFile(path.join(dir, "labels.npy"), labels);
  const { version } = await importDataset(slug, { inputs: path.join(dir, "inputs.npy"), labels: path.join(dir, "labels.npy") });
  return version;
}

async function newSubmission(): Promise<number> {
  const row = await db.submission.create({
    data: { taskId, ...owner, fileName: "identity.onnx", sha256: "0".repeat(64), sizeBytes: modelSize, storageKey: modelKey, paramCount: 12n },
    select: { id: true },
  });
  return row.id;
}

async function scored(submissionId: number) {
  const row = await db.submission.findUniqueOrThrow({ where: { id: submissionId }, include: { result: true } });
  const receipt = row.result?.receipt as { rows: number; datasetVersion: string } | undefined;
  return {
    status: row.status,
    claimedVersion: row.datasetVersion,
    rows: receipt?.rows,
    receiptVersion: receipt?.datasetVersion,
    publicAccuracy: (row.result?.publicMetrics as { accuracy?: number } | undefined)?.accuracy,
    privateAccuracy: (row.result?.privateMetrics as { accuracy?: number } | undefined)?.accuracy,
  };
}

/** Waits until the pool holds a ready spare that already received the inputs of its current key. */
async function waitForWarmSpare(): Promise<void> {
  type Spare = { isReady: boolean; hasPrepared(key: string): boolean };
  const internals = pool as unknown as { spares: Spare[]; inputs?: { key: string } };
  const deadline = Date.now() + 30_000;
  for (;;) {
    const key = internals.inputs?.key;
    if (key && internals.spares.some((spare) => spare.isReady && spare.hasPrepared(key))) return;
    if (Date.now() > deadline) throw new Error("no warm spare after 30 s");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function versionFolders(): Promise<string[]> {
  return (await fs.readdir(path.join(taskDatasetDir(process.env.DATA_DIR!, slug), "versions"))).sort();
}

beforeAll(async () => {
  const first = dataset(30, 0);
  const task = await taskWithDataset({ ...first, outputSpec: [{ name: "output", dtype: "float32", shape: [-1, WIDTH] }], publicFraction: 0.5 });
  slug = task.slug;
  taskId = task.id;
  const caller = await participantWithTeam();
  owner = { teamId: caller.team.id, userId: caller.user.id };

  const identity = buildLinearClassifier({ weights: Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]), bias: new Float32Array(WIDTH), inDim: WIDTH, outDim: WIDTH });
  storage = new DirectoryModelStorage(path.join(process.env.GOAT_TEST_ROOT!, uniqueName("models")));
  const file = path.join(process.env.GOAT_TEST_ROOT!, `${uniqueName("identity")}.onnx`);
  await fs.writeFile(file, identity);
  modelKey = modelStorageKey(slug, createHash("sha256").update(identity).digest("hex"));
  modelSize = identity.byteLength;
  await storage.putFile(modelKey, file);

  workerDb = createDb(process.env.DATABASE_URL!);
  pool = new SandboxPool({ maxSpare: 1, spareStart: "with-evaluation", logger: { warn: () => undefined } });
  ctx = {
    db: workerDb,
    storage,
    sandbox: pool,
    datasets: new TaskDatasetCache(process.env.DATA_DIR!),
    workerId: "dataset-versions-test",
    executionProvider: { provider: "cpu", deviceId: 0, intraOpThreads: 1 },
  };
});

afterAll(async () => {
  await pool?.close();
  await workerDb?.$disconnect();
});

describe("a re-import while a warm spare holds the previous version's inputs", () => {
  it("scores the next evaluation with the new version's inputs AND labels, same row count or not", async () => {
    const first = await newSubmission();
    await evaluateSubmission(ctx, first);
    const v1 = (await db.task.findUniqueOrThrow({ where: { id: taskId } })).datasetVersion!;
    expect(await scored(first)).toEqual({ status: "SCORED", claimedVersion: v1, rows: 30, receiptVersion: v1, publicAccuracy: 1, privateAccuracy: 1 });

    // Same row count, every label moved by one class: a mix of versions would score 0.
    await waitForWarmSpare();
    const v2 = await importVersion(30, 1);
    expect(v2).not.toBe(v1);
    const second = await newSubmission();
    await evaluateSubmission(ctx, second);
    expect(await scored(second)).toEqual({ status: "SCORED", claimedVersion: v2, rows: 30, receiptVersion: v2, publicAccuracy: 1, privateAccuracy: 1 });

    // A different row count.
    await waitForWarmSpare();
    const v3 = await importVersion(45, 2);
    const third = await newSubmission();
    await evaluateSubmission(ctx, third);
    expect(await scored(third)).toEqual({ status: "SCORED", claimedVersion: v3, rows: 45, receiptVersion: v3, publicAccuracy: 1, privateAccuracy: 1 });
    // Each import made its own folder; none was written over.
    expect(await versionFolders()).toEqual([v1, v2, v3].sort());
  }, 120_000);

  it("a flip under a running evaluation: its folder is kept while it runs; the new version is a new scoring version, so it runs again on it", async () => {
    const claimed = (await db.task.findUniqueOrThrow({ where: { id: taskId } })).datasetVersion!;
    const id = await newSubmission();
    let next = "";
    let rounds = 0;
    let foldersDuringFirstRound: string[] = [];
    // The flip and a sweep happen after the claim, before the first round reads its dataset.
    const real = ctx.datasets;
    const flipping = {
      dataset: real.dataset.bind(real),
      labels: async (task: Parameters<TaskDatasetCache["labels"]>[0]) => {
        rounds++;
        if (rounds === 1) {
          next = await importVersion(12, 1);
          await sweepDatasetVersions({ slug, graceMs: 0 });
          foldersDuringFirstRound = await versionFolders();
        }
        return real.labels(task);
      },
    } as unknown as TaskDatasetCache;
    await evaluateSubmission({ ...ctx, datasets: flipping }, id);

    // While the first round ran: its version and the new current one; the unused older ones were removed.
    expect(foldersDuringFirstRound).toEqual([claimed, next].sort());
    // The first round's result was of the old scoring version: never stored; the second round took
    // the current dataset version and scored on it alone (12 rows), never a mix.
    expect(rounds).toBe(2);
    expect(await scored(id)).toEqual({ status: "SCORED", claimedVersion: next, rows: 12, receiptVersion: next, publicAccuracy: 1, privateAccuracy: 1 });
    // Nothing runs on the old version any more: the next sweep removes it.
    const report = await sweepDatasetVersions({ slug, graceMs: 0 });
    expect(report.removed).toEqual([`${slug}/versions/${claimed}`]);
    expect(await versionFolders()).toEqual([next]);
  }, 120_000);

  it("keeps a superseded version for the grace period even when nothing runs", async () => {
    const current = (await db.task.findUniqueOrThrow({ where: { id: taskId } })).datasetVersion!;
    const newer = await importVersion(9, 0);
    expect((await sweepDatasetVersions({ slug })).removed).toEqual([]); // default grace: minutes
    expect(await versionFolders()).toEqual([current, newer].sort());
    expect((await sweepDatasetVersions({ slug, graceMs: 0 })).removed).toEqual([`${slug}/versions/${current}`]);
  });
});

describe("a dataset that is not the version it claims to be", () => {
  it("is a platform fault, never scored: a tampered labels file", async () => {
    const version = (await db.task.findUniqueOrThrow({ where: { id: taskId } })).datasetVersion!;
    const labelsFile = path.join(datasetVersionDir(process.env.DATA_DIR!, slug, version), "labels.npy");
    const bytes = await fs.readFile(labelsFile);
    bytes[bytes.length - 8] ^= 1; // one label changed, still a valid .npy
    await fs.chmod(labelsFile, 0o644).catch(() => undefined);
    await fs.writeFile(labelsFile, bytes);

    const id = await newSubmission();
    // A fresh worker (nothing verified yet): the hash check runs before first use.
    const error = await evaluateSubmission({ ...ctx, datasets: new TaskDatasetCache(process.env.DATA_DIR!) }, id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlatformFault);
    expect((error as PlatformFault).code).toBe("DATASET_MISMATCH");
    expect((error as PlatformFault).message).toMatch(/files changed after the import/);
    expect(await db.result.findUnique({ where: { submissionId: id } })).toBeNull();
  });

  it("is a platform fault when the version is not on this host", async () => {
    const version = (await db.task.findUniqueOrThrow({ where: { id: taskId } })).datasetVersion!;
    await fs.rm(datasetVersionDir(process.env.DATA_DIR!, slug, version), { recursive: true });
    const id = await newSubmission();
    const error = await evaluateSubmission({ ...ctx, datasets: new TaskDatasetCache(process.env.DATA_DIR!) }, id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlatformFault);
    expect((error as PlatformFault).code).toBe("DATASET_UNAVAILABLE");
    expect((error as PlatformFault).message).toMatch(/is not on this host/);
  });
});

describe("an install from before versions (flat files in the task's folder)", () => {
  it("is read as the task's version after its hash is checked, then adopted into versions/ and its flat files removed", async () => {
    const legacy = await taskWithDataset({ ...dataset(6, 2), outputSpec: [{ name: "output", dtype: "float32", shape: [-1, WIDTH] }] });
    const root = taskDatasetDir(process.env.DATA_DIR!, legacy.slug);
    // Turn the import into the old layout: the files flat in the task's folder.
    const versionDir = datasetVersionDir(process.env.DATA_DIR!, legacy.slug, legacy.datasetVersion!);
    for (const name of ["inputs.npy", "labels.npy"]) await fs.copyFile(path.join(versionDir, name), path.join(root, name));
    await fs.rm(path.join(root, "versions"), { recursive: true });
    expect(await datasetFolderVersion(root)).toBe(legacy.datasetVersion);

    const worker = new TaskDatasetCache(process.env.DATA_DIR!);
    const read = await worker.dataset({ slug: legacy.slug, datasetVersion: legacy.datasetVersion!, inputSpecs: [{ name: "input", dtype: "float32", shape: [-1, WIDTH] }] });
    expect({ dir: read.datasetDir, rows: read.rows, labels: Array.from(read.labels.data as BigInt64Array, Number) }).toEqual({ dir: root, rows: 6, labels: [2, 0, 1, 2, 0, 1] });

    const first = await sweepDatasetVersions({ slug: legacy.slug, graceMs: 0 });
    expect(first).toEqual({ adopted: [`${legacy.slug}/${legacy.datasetVersion}`], removed: [`${legacy.slug}/legacy`] });
    expect((await fs.readdir(root)).sort()).toEqual(["versions"]);
    expect(await datasetFolderVersion(versionDir)).toBe(legacy.datasetVersion);
  });
});
