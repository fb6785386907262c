import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publicPrivateSplit } from "@goat/contracts/dataset/split";
import { db } from "@/lib/db";
import { evaluationQueue } from "@/lib/queue/evaluation-queue";
import { buildLinearClassifier } from "@/tools/onnx/build-model";
import { buildAllocatingModel, buildHangingModel, buildNaNModel, buildThrowingModel, buildWrongOutputRowsModel } from "@/tests/support/onnx/failing-models";
import { int64Labels, participantWithTeam, randomRows, taskWithDataset } from "./support/fixtures";
import { firstColumns, referenceClassification, referenceRegression, selectColumnsModel } from "./support/exact-models";
import { leaderboard, queueStatus, submissionStatus, upload } from "./support/upload";
import { dropJobsLeftByEarlierFiles } from "./support/shared-queue";
import { waitForFinalStatus } from "./support/wait";
import { startWorker, type WorkerProcess } from "./support/worker-process";
import { bootstrapInterval, decodeSplitOutcomes, metricsOfClassifiedRows } from "../../worker/src/metrics/index";

// Upload -> queue -> a real worker process with onnxruntime-node -> metrics -> result, end to end.

const ROWS = 400;
const CLASSES = 10;
let worker: WorkerProcess;
let alpha: Awaited<ReturnType<typeof participantWithTeam>>;
let beta: Awaited<ReturnType<typeof participantWithTeam>>;

beforeAll(async () => {
  alpha = await participantWithTeam();
  beta = await participantWithTeam();
  // The attempts and the worker of each submission are asserted: this worker takes no job of an
  // earlier file (a re-score of dataset-versions.test.ts, say) before this file's own.
  await dropJobsLeftByEarlierFiles();
  worker = await startWorker("pipeline-worker");
});

afterAll(async () => {
  await worker?.stop();
  await evaluationQueue().close();
});

async function submitAndWait(task: string, token: string, model: Uint8Array) {
  const accepted = await upload(task, token, model);
  expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
  return { id: accepted.body.id as number, final: await waitForFinalStatus(accepted.body.id) };
}

describe("a classification task", () => {
  const inputs = randomRows(ROWS, 784, 99);
  // 70% of the labels agree with the argmax of the first ten columns, so that model scores about 0.7.
  const labels = Array.from({ length: ROWS }, (_, i) => {
    const row = Array.from((inputs.data as Float32Array).subarray(i * 784, i * 784 + CLASSES));
    const argmax = row.indexOf(Math.max(...row));
    return i % 10 < 7 ? argmax : (argmax + 1 + (i % 9)) % CLASSES;
  });
  let slug: string;

  beforeAll(async () => {
    const task = await taskWithDataset({
      inputs,
      labels: int64Labels(labels),
      outputSpec: [{ name: "output", dtype: "float32", shape: [-1, CLASSES] }],
      metrics: ["accuracy", "macro_f1", "top_k"],
      topK: 3,
      publicFraction: 0.4,
      splitSeed: 1234,
      batchSize: 64,
      evalTimeoutMs: 4_000,
      evalMemoryMb: 768,
      dailySubmissionLimit: 100,
    });
    slug = task.slug;
  });

  it("scores a model with exactly the metrics computed independently, on the public and private parts", async () => {
    const { id, final } = await submitAndWait(slug, alpha.token, selectColumnsModel(784, CLASSES));
    // The worker's log in the message: a second attempt says why (a platform fault, a lost lock).
    expect(final, `the worker's log:\n${worker.output().slice(-6_000)}`).toMatchObject({ status: "SCORED", attempts: 1, workerId: "pipeline-worker" });

    const split = publicPrivateSplit(ROWS, 0.4, 1234);
    expect(split.publicRows.length).toBe(160);
    const scores = firstColumns(inputs, CLASSES);
    const expectedPublic = referenceClassification(scores, CLASSES, labels, split.publicRows, 3);
    const expectedPrivate = referenceClassification(scores, CLASSES, labels, split.privateRows, 3);

    const result = await db.result.findUniqueOrThrow({ where: { submissionId: id } });
    // Ratios of counts match exactly; macro-F1 sums per-class F1 in another order (last-bit rounding).
    for (const [stored, expected] of [[result.publicMetrics, expectedPublic], [result.privateMetrics, expectedPrivate]] as const) {
      const metrics = stored as Record<string, number>;
      expect(Object.keys(metrics).sort()).toEqual(["accuracy", "macro_f1", "top_k"]);
      expect(metrics.accuracy).toBe(expected.accuracy);
      expect(metrics.top_k).toBe(expected.top_k);
      expect(metrics.macro_f1).toBeCloseTo(expected.macro_f1, 12);
    }
    expect(result.publicScore).toBe(expectedPublic.accuracy);
    expect(result.privateScore).toBe(expectedPrivate.accuracy);
    expect(result.latencyP95Ms).toBeGreaterThanOrEqual(result.latencyP50Ms);
    expect(result.receipt).toMatchObject({ executionProvider: "cpu", rows: ROWS, batchSize: 64, workerId: "pipeline-worker", onnxruntimeVersion: "1.30.0" });

    const status = await submissionStatus(slug, id, alpha.token);
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ id, status: "SCORED", queuePosition: null, result: { score: expectedPublic.accuracy, metrics: result.publicMetrics } });
    expect(status.body.result.privateMetrics).toBeUndefined(); // not revealed yet
    // Peak memory: measured over the sandbox's baseline, within the task's limit; no GPU here.
    expect(result.peakMemoryBytes).not.toBeNull();
    expect(result.peakMemoryBytes! >= 0n && result.peakMemoryBytes! < 768n * 1048576n).toBe(true);
    expect(result.peakGpuMemoryBytes).toBeNull();
    expect(status.body.result).toMatchObject({ peakMemoryBytes: Number(result.peakMemoryBytes), peakGpuMemoryBytes: null });
  });

  it("stores each split's per-row outcomes and the bootstrap intervals of its scores (docs/ranking.md)", async () => {
    const submission = await db.submission.findFirstOrThrow({ where: { task: { slug }, status: "SCORED" }, orderBy: { id: "asc" } });
    const result = await db.result.findUniqueOrThrow({ where: { submissionId: submission.id }, include: { rowOutcomes: { orderBy: { split: "asc" } } } });
    const split = publicPrivateSplit(ROWS, 0.4, 1234);
    expect(result.rowOutcomes.map((stored) => [stored.split, stored.rows])).toEqual([["PUBLIC", 160], ["PRIVATE", 240]]);
    for (const [stored, rows, metrics, low, high] of [
      [result.rowOutcomes[0], split.publicRows, result.publicMetrics, result.publicIntervalLow, result.publicIntervalHigh],
      [result.rowOutcomes[1], split.privateRows, result.privateMetrics, result.privateIntervalLow, result.privateIntervalHigh],
    ] as const) {
      const outcomes = decodeSplitOutcomes(stored.data);
      if (outcomes.kind !== "CLASSIFICATION") throw new Error("expected classification outcomes");
      expect(Array.from(outcomes.labels)).toEqual(Array.from(rows, (row) => labels[row]));
      // The stored rows reproduce the stored metrics, and the stored interval is their bootstrap.
      expect(metricsOfClassifiedRows(outcomes)).toEqual(metrics);
      expect(await bootstrapInterval(outcomes, "accuracy")).toEqual({ low, high });
      expect(low!).toBeLessThan((metrics as Record<string, number>).accuracy);
      expect(high!).toBeGreaterThan((metrics as Record<string, number>).accuracy);
    }
  });

  it("shows private scores only after the organisers reveal them", async () => {
    const last = await db.submission.findFirstOrThrow({ where: { task: { slug }, status: "SCORED" }, include: { result: true } });
    await db.task.update({ where: { slug }, data: { privateRevealedAt: new Date() } });
    const status = await submissionStatus(slug, last.id, alpha.token);
    expect(status.body.result.privateScore).toBe(last.result!.privateScore);
    await db.task.update({ where: { slug }, data: { privateRevealedAt: null } });
  });

  it("hides a team's submission from another team (404) and from its queue status", async () => {
    const alphaSubmission = await db.submission.findFirstOrThrow({ where: { teamId: alpha.team.id } });
    const seenByBeta = await submissionStatus(slug, alphaSubmission.id, beta.token);
    expect(seenByBeta.status).toBe(404);
    expect(seenByBeta.body.error.code).toBe("NOT_FOUND");
    const betaQueue = await queueStatus(beta.token);
    expect(betaQueue.status).toBe(200);
    expect(betaQueue.body.yourSubmissions).toEqual([]);
    expect(betaQueue.body.workersOnline).toBeGreaterThanOrEqual(1);
  });

  it.each([
    ["throws at run time", () => buildThrowingModel(), /"Gather" node: an index is out of range/],
    ["returns NaN", () => buildNaNModel(), /NaN/],
    ["returns the wrong number of rows", () => buildWrongOutputRowsModel(), /rows|shape/i],
    // Declares the task's [N, 10] but returns 12 values per row: refused at the first batch.
    [
      "returns rows of the wrong width",
      () => buildLinearClassifier({ weights: new Float32Array(784 * 12), bias: new Float32Array(12), inDim: 784, outDim: 12, outputShape: ["N", CLASSES] }),
      /does not have the expected shape \[\d+, 10\]/,
    ],
    ["hangs past the time limit", () => buildHangingModel(), /longer than the 4 s limit|time limit/i],
    ["allocates past the memory limit", () => buildAllocatingModel({ bytes: 3 * 1024 ** 3 }), /more than 768 MB/],
  ])("a model that %s ends FAILED with the reason, without retry, and the same worker scores the next one", async (_, build, reason) => {
    const bad = await submitAndWait(slug, alpha.token, build());
    expect(bad.final).toMatchObject({ status: "FAILED", failureKind: "PARTICIPANT", attempts: 1, workerId: "pipeline-worker" });
    expect(bad.final.message).toMatch(reason);
    const status = await submissionStatus(slug, bad.id, alpha.token);
    expect(status.body).toMatchObject({ status: "FAILED", failureKind: "PARTICIPANT", result: null });
    expect(status.body.message).not.toMatch(/\n\s+at /); // never a stack trace

    const next = await submitAndWait(slug, alpha.token, selectColumnsModel(784, CLASSES));
    expect(next.final).toMatchObject({ status: "SCORED", workerId: "pipeline-worker" });
  });

  it("ranks teams by their best public score; equal scores share a rank, the earlier listed first", async () => {
    // beta submits the same model as alpha (an equal score, later), then a worse one.
    await submitAndWait(slug, beta.token, selectColumnsModel(784, CLASSES));
    await submitAndWait(slug, beta.token, buildWorseModel());
    const board = await leaderboard(slug);
    expect(board.status).toBe(200);
    expect(board.body).toMatchObject({ task: slug, metric: "accuracy", direction: "MAXIMIZE", board: "public" });
    const [first, second] = board.body.entries;
    expect(first).toMatchObject({ rank: 1, teamId: alpha.team.id });
    expect(second).toMatchObject({ rank: 1, teamId: beta.team.id, submissionCount: 2 });
    expect(first.score).toBe(second.score);
    expect(Date.parse(first.submittedAt)).toBeLessThan(Date.parse(second.submittedAt));
  });
});

/** Predicts from columns 10..19 instead of 0..9: a different accuracy. */
function buildWorseModel(): Uint8Array {
  const weights = new Float32Array(784 * CLASSES);
  for (let j = 0; j < CLASSES; j++) weights[(j + 10) * CLASSES + j] = 1;
  return buildLinearClassifier({ weights, bias: new Float32Array(CLASSES), inDim: 784, outDim: CLASSES });
}

describe("a regression task", () => {
  it("scores MSE, MAE, RMSE and R² exactly as computed independently, ranked ascending by MSE", async () => {
    const rows = 300;
    const inputs = randomRows(rows, 4, 5);
    const target = new Float32Array(rows);
    for (let r = 0; r < rows; r++) target[r] = (inputs.data as Float32Array)[r * 4] * 0.8 + 0.05 * Math.sin(r);
    const task = await taskWithDataset({
      kind: "REGRESSION",
      inputs,
      labels: { dtype: "float32", shape: [rows], data: target },
      outputSpec: [{ name: "output", dtype: "float32", shape: [-1, 1] }],
      metrics: ["mse", "mae", "rmse", "r2"],
      rankMetric: "mse",
      publicFraction: 0.5,
      splitSeed: 77,
    });
    const { id, final } = await submitAndWait(task.slug, alpha.token, selectColumnsModel(4, 1));
    expect(final.status).toBe("SCORED");
    const split = publicPrivateSplit(rows, 0.5, 77);
    const predicted = firstColumns(inputs, 1);
    const expected = referenceRegression(predicted, target, split.publicRows);
    const result = await db.result.findUniqueOrThrow({ where: { submissionId: id } });
    const metrics = result.publicMetrics as Record<string, number>;
    for (const name of ["mse", "mae", "rmse", "r2"] as const) expect(metrics[name]).toBeCloseTo(expected[name], 12);
    expect(result.publicScore).toBeCloseTo(expected.mse, 12);
    const board = await leaderboard(task.slug);
    expect(board.body).toMatchObject({ metric: "mse", direction: "MINIMIZE" });
  });
});
