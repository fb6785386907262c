import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publicPrivateSplit } from "@goat/contracts/dataset/split";
import { writeNpyFile } from "@goat/contracts/dataset/npy";
import { createModelStorage } from "@goat/contracts/model-storage";
import type { ScoringSettings } from "@goat/contracts/scoring-version";
import type { SessionUser } from "@/lib/auth/session";
import { createUser } from "@/lib/accounts/users";
import { RescoreConfirmationNeeded } from "@/lib/admin/scoring-edit";
import { saveTask, taskFormValues, updateTaskFromApi } from "@/lib/tasks/editor";
import { db } from "@/lib/db";
import { errorResponse } from "@/lib/errors";
import { leaderboardForTask } from "@/lib/leaderboard/board";
import { forgetLeaderboards } from "@/lib/leaderboard/cache";
import { bestScoreOverTime } from "@/lib/leaderboard/history";
import { evaluationQueue } from "@/lib/queue/evaluation-queue";
import { importDataset } from "@/lib/tasks/admin";
import { buildLinearClassifier } from "@/tools/onnx/build-model";
import { buildNaNModel } from "@/tests/support/onnx/failing-models";
import { evaluateSubmission, type EvaluationContext } from "../../worker/src/evaluate-submission";
import { SandboxPool } from "../../worker/src/sandbox/pool";
import { TaskDatasetCache } from "../../worker/src/task-datasets";
import { referenceClassification } from "./support/exact-models";
import { int64Labels, participantWithTeam, randomRows, taskWithDataset, uniqueName } from "./support/fixtures";
import { upload } from "./support/upload";
import { waitFor, waitForFinalStatus } from "./support/wait";
import { startWorker, type WorkerProcess } from "./support/worker-process";

// Versioned scoring (docs/ranking.md, "When the organisers change the scoring"), with a real
// worker process and onnxruntime: each scoring edit is refused without confirmation, then bumps
// the version, hides older results, re-scores every submission to values computed here by hand,
// and records the settings on each result. A failed re-score keeps the previous result; a result
// computed while the scoring changed is never stored as current; fractions that empty a side of
// the split are refused at save and at import.

const ROWS = 100;
const CLASSES = 3;
const inputs = randomRows(ROWS, 4, 7);
const labels = Array.from({ length: ROWS }, (_, i) => (i * 7) % CLASSES);

/** A model whose output column j is input column perm[j]: its metrics can be computed exactly. */
function permutedColumnsModel(perm: number[]): Uint8Array {
  const weights = new Float32Array(4 * CLASSES);
  perm.forEach((column, j) => (weights[column * CLASSES + j] = 1));
  return buildLinearClassifier({ weights, bias: new Float32Array(CLASSES), inDim: 4, outDim: CLASSES });
}

function permutedColumns(perm: readonly number[]): Float32Array {
  const data = inputs.data as Float32Array;
  const out = new Float32Array(ROWS * CLASSES);
  for (let r = 0; r < ROWS; r++) perm.forEach((column, j) => (out[r * CLASSES + j] = data[r * 4 + column]));
  return out;
}

const TEAMS = [
  { perm: [0, 1, 2], name: "alpha" },
  { perm: [2, 0, 3], name: "beta" },
] as const;

let admin: SessionUser;
let worker: WorkerProcess;
let slug: string;
let teams: { id: number; token: string; submissionId: number; perm: readonly number[]; paramCount: number }[];

/** What the worker must store for a team under `settings`, computed here from the dataset. */
function expectedScores(perm: readonly number[], paramCount: number, settings: Pick<ScoringSettings, "publicFraction" | "splitSeed" | "rankMetric" | "topK" | "scoreFormula">) {
  const split = publicPrivateSplit(ROWS, settings.publicFraction, settings.splitSeed);
  const scores = permutedColumns(perm);
  const at = (rows: Uint32Array) => {
    const metrics = referenceClassification(scores, CLASSES, labels, rows, settings.topK);
    // The one formula these cases use, written out by hand.
    if (settings.scoreFormula === "accuracy - 0.01 * log10(params)") return metrics.accuracy - 0.01 * Math.log10(paramCount);
    return metrics[settings.rankMetric as "accuracy" | "macro_f1" | "top_k"];
  };
  return { publicScore: at(split.publicRows), privateScore: at(split.privateRows) };
}

async function scoringOf(taskSlug: string) {
  return db.task.findUniqueOrThrow({
    where: { slug: taskSlug },
    select: { scoringVersion: true, datasetVersion: true, splitSeed: true, publicFraction: true, metrics: true, rankMetric: true, direction: true, topK: true, scoreFormula: true },
  });
}

async function waitUntilRescored(ids: number[]) {
  for (const id of ids) await waitFor(`submission ${id} re-scored`, async () => (await db.submission.findUniqueOrThrow({ where: { id } })).status === "SCORED" && !(await leaderboardForTask(slug)).rescoring?.total, 60_000);
}

beforeAll(async () => {
  const user = await createUser({ email: `${uniqueName("admin")}@test.local`, name: "Organiser", password: "test-password-1" });
  await db.user.update({ where: { id: user.id }, data: { role: "ADMIN" } });
  admin = { id: user.id, email: user.email, name: user.name, role: "ADMIN", team: null };
  const task = await taskWithDataset({
    inputs,
    labels: int64Labels(labels),
    outputSpec: [{ name: "output", dtype: "float32", shape: [-1, CLASSES] }],
    metrics: ["accuracy", "macro_f1", "top_k"],
    topK: 2,
    publicFraction: 0.5,
    splitSeed: 99,
    dailySubmissionLimit: 100,
    evalTimeoutMs: 20_000,
  });
  slug = task.slug;
  worker = await startWorker("scoring-versions-worker");
  teams = [];
  for (const team of TEAMS) {
    const participant = await participantWithTeam(uniqueName(team.name));
    const accepted = await upload(slug, participant.token, permutedColumnsModel([...team.perm]));
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    expect((await waitForFinalStatus(accepted.body.id)).status).toBe("SCORED");
    const { paramCount } = await db.submission.findUniqueOrThrow({ where: { id: accepted.body.id }, select: { paramCount: true } });
    teams.push({ id: participant.team.id, token: participant.token, submissionId: accepted.body.id, perm: team.perm, paramCount: Number(paramCount) });
  }
});

afterAll(async () => {
  await worker?.stop();
  await evaluationQueue().resume();
  await evaluationQueue().close();
});

describe("a scoring edit on a task with scored submissions", () => {
  const edits: [string, Record<string, unknown>, string[]][] = [
    ["the public fraction 0.5 -> 0.6", { publicFraction: 0.6 }, ["publicFraction"]],
    ["the ranking metric", { rankMetric: "macro_f1" }, ["rankMetric"]],
    ["top-k, which the top_k metric uses", { rankMetric: "top_k", topK: 1 }, ["rankMetric", "topK"]],
    ["a score formula", { rankMetric: "accuracy", scoreFormula: "accuracy - 0.01 * log10(params)" }, ["rankMetric", "scoreFormula"]],
    ["the direction", { direction: "MINIMIZE" }, ["direction"]],
  ];

  it.each(edits)("%s: refused without confirmation (409), then a new version re-scores every submission", async (_what, change, fields) => {
    const before = await scoringOf(slug);
    const results = await db.result.findMany({ where: { submissionId: { in: teams.map((team) => team.submissionId) } }, orderBy: { submissionId: "asc" } });

    // Without confirmRescore: 409 with what would change and how many submissions, nothing written.
    const refusal = await updateTaskFromApi(admin, slug, change).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(RescoreConfirmationNeeded);
    const answer = errorResponse(refusal);
    expect(answer.status).toBe(409);
    const body = (await answer.json()) as { error: { reason: string; submissions: number; changes: { field: string }[] } };
    expect(body.error.reason).toBe("RESCORE_NEEDS_CONFIRMATION");
    expect(body.error.submissions).toBe(2);
    expect(body.error.changes.map((each) => each.field)).toEqual(fields);
    expect(await scoringOf(slug)).toEqual(before);
    expect(await db.result.findMany({ where: { submissionId: { in: teams.map((team) => team.submissionId) } }, orderBy: { submissionId: "asc" } })).toEqual(results);

    // Confirmed, with the queue paused so that the board can be read before the worker starts.
    await evaluationQueue().pause();
    const applied = await updateTaskFromApi(admin, slug, { ...change, confirmRescore: true });
    expect(applied).toEqual({ slug, scoringVersion: before.scoringVersion + 1, changed: fields, rescoring: 2, warnings: [] });
    const during = await leaderboardForTask(slug);
    expect(during.scoringVersion).toBe(before.scoringVersion + 1);
    expect(during.rescoring).toEqual({ done: 0, total: 2 });
    expect(during.entries).toEqual([]);
    await evaluationQueue().resume();

    await waitUntilRescored(teams.map((team) => team.submissionId));
    const after = await scoringOf(slug);
    const board = await leaderboardForTask(slug);
    expect(board.rescoring).toBeNull();
    expect(board.entries).toHaveLength(2);
    for (const team of teams) {
      const result = await db.result.findUniqueOrThrow({ where: { submissionId: team.submissionId } });
      const expected = expectedScores(team.perm, team.paramCount, after);
      expect(result.scoringVersion).toBe(after.scoringVersion);
      expect(result.publicScore).toBeCloseTo(expected.publicScore, 12);
      expect(result.privateScore).toBeCloseTo(expected.privateScore, 12);
      const { scoringVersion, ...settings } = after;
      expect(result.scoring).toEqual({ ...settings, version: scoringVersion });
      expect(board.entries.find((entry) => entry.teamId === team.id)).toMatchObject({ score: result.publicScore, scoringVersion: after.scoringVersion, olderScoring: false });
    }
    const ordered = [...board.entries].map((entry) => entry.score);
    expect(ordered).toEqual([...ordered].sort((a, b) => (after.direction === "MAXIMIZE" ? b - a : a - b)));
  });

  it("an edit that changes no scoring setting needs no confirmation and re-scores nothing", async () => {
    const before = await scoringOf(slug);
    const applied = await updateTaskFromApi(admin, slug, { title: "Renamed", dailySubmissionLimit: 50 });
    expect(applied).toEqual({ slug, scoringVersion: before.scoringVersion, changed: [], rescoring: 0, warnings: [] });
    expect(await db.submission.count({ where: { taskId: (await db.task.findUniqueOrThrow({ where: { slug } })).id, status: "QUEUED" } })).toBe(0);
  });

  it("the task editor asks for the same confirmation and applies the edit once confirmed", async () => {
    const before = await scoringOf(slug);
    const form = (await taskFormValues(admin, slug))!;
    const unconfirmed = await saveTask(admin, { ...form, direction: "MAXIMIZE" }, slug);
    expect(unconfirmed).toMatchObject({ ok: false, confirm: { submissions: 2, changes: [{ field: "direction", from: "MINIMIZE", to: "MAXIMIZE" }] } });
    expect((await scoringOf(slug)).scoringVersion).toBe(before.scoringVersion);
    const confirmed = await saveTask(admin, { ...form, direction: "MAXIMIZE" }, slug, { confirmRescore: true });
    expect(confirmed).toEqual({ ok: true, slug, rescoring: 2 });
    expect((await scoringOf(slug)).scoringVersion).toBe(before.scoringVersion + 1);
    await waitUntilRescored(teams.map((team) => team.submissionId));
  });
});

describe("a score formula that cannot be used", () => {
  const formulas: [string, string][] = [
    ["mse", 'unknown variable "mse"'],
    ["accuracy -", "syntax error"],
    ["process.exit()", "only these functions may be called"],
    ["accuracy.constructor", "member access"],
    ["accuracy / (params - params)", "division by zero"], // on the task's current results (the preview)
    ["log10(latency_p50_ms - latency_p50_ms)", "infinite"],
  ];
  it.each(formulas)("%s: refused at save with a field message in the editor and the API, nothing saved", async (formula, message) => {
    const before = await scoringOf(slug);
    const form = (await taskFormValues(admin, slug))!;
    const saved = await saveTask(admin, { ...form, scoreFormula: formula }, slug, { confirmRescore: true });
    expect(saved.ok).toBe(false);
    expect((saved.ok ? "" : (saved.fieldErrors.scoreFormula?.join(" ") ?? "")).toLowerCase()).toContain(message);
    const api = await updateTaskFromApi(admin, slug, { scoreFormula: formula, confirmRescore: true }).then(
      () => null,
      (error: unknown) => errorResponse(error),
    );
    expect(api?.status).toBe(422);
    const body = (await api!.json()) as { error: { fields: { path: string; message: string }[] } };
    expect(body.error.fields.find((field) => field.path === "scoreFormula")?.message.toLowerCase()).toContain(message);
    expect(await scoringOf(slug)).toEqual(before);
  });
});

describe("a re-score that fails", () => {
  it("keeps the team's previous result on the board, marked with its older version, and tells the team", async () => {
    const [failing, passing] = teams;
    const previous = await db.result.findUniqueOrThrow({ where: { submissionId: failing.submissionId } });
    // The stored model is replaced by one whose output is NaN: a participant fault when re-scored.
    const { storageKey } = await db.submission.findUniqueOrThrow({ where: { id: failing.submissionId }, select: { storageKey: true } });
    await fs.writeFile(path.join(process.env.STORAGE_DIR!, storageKey), buildNaNModel());
    const before = await scoringOf(slug);
    await updateTaskFromApi(admin, slug, { publicFraction: 0.7, confirmRescore: true });
    await waitUntilRescored(teams.map((team) => team.submissionId));

    const submission = await db.submission.findUniqueOrThrow({ where: { id: failing.submissionId }, include: { result: true } });
    expect(submission.status).toBe("SCORED");
    expect(submission.rescoreFailedVersion).toBe(before.scoringVersion + 1);
    expect(submission.message).toMatch(/^Re-scoring failed: .*Your previous result stays on the leaderboard/);
    expect(submission.result).toEqual(previous);
    const board = await leaderboardForTask(slug);
    expect(board.rescoring).toBeNull();
    expect(board.entries.find((entry) => entry.teamId === failing.id)).toMatchObject({ score: previous.publicScore, scoringVersion: previous.scoringVersion, olderScoring: true });
    expect(board.entries.find((entry) => entry.teamId === passing.id)).toMatchObject({ scoringVersion: before.scoringVersion + 1, olderScoring: false });
  });
});

describe("a result computed while the scoring changed", () => {
  it("is evaluated again under the new version, never stored as current under the old one", async () => {
    await worker.stop();
    const participant = await participantWithTeam(uniqueName("gamma"));
    const accepted = await upload(slug, participant.token, permutedColumnsModel([1, 2, 0]));
    expect(accepted.status).toBe(202);
    const id = accepted.body.id as number;
    const start = await scoringOf(slug);

    // A labels cache that commits a scoring edit the first time the worker reads the test set,
    // as an organiser saving the editor mid-evaluation would.
    let reads = 0;
    class EditingDatasetCache extends TaskDatasetCache {
      override async labels(task: Parameters<TaskDatasetCache["labels"]>[0]) {
        reads++;
        if (reads === 1) await db.task.update({ where: { slug }, data: { publicFraction: 0.4, scoringVersion: { increment: 1 } } });
        return super.labels(task);
      }
    }
    const sandbox = new SandboxPool({ maxSpare: 0 });
    const ctx: EvaluationContext = {
      db,
      storage: createModelStorage({ backend: "directory", root: process.env.STORAGE_DIR! }),
      sandbox,
      datasets: new EditingDatasetCache(process.env.DATA_DIR!),
      workerId: "in-process",
      executionProvider: { provider: "cpu", deviceId: 0, intraOpThreads: 1 },
    };
    try {
      const outcome = await evaluateSubmission(ctx, id);
      expect(outcome.outcome).toBe("scored");
    } finally {
      await sandbox.close();
    }
    expect(reads).toBe(2);
    const result = await db.result.findUniqueOrThrow({ where: { submissionId: id } });
    expect(result.scoringVersion).toBe(start.scoringVersion + 1);
    expect(result.scoring).toMatchObject({ version: start.scoringVersion + 1, publicFraction: 0.4 });
    const paramCount = Number((await db.submission.findUniqueOrThrow({ where: { id } })).paramCount);
    expect(result.publicScore).toBeCloseTo(expectedScores([1, 2, 0], paramCount, { ...start, publicFraction: 0.4 }).publicScore, 12);
    // The other teams' results are of the older version (this edit queued no re-score): neither the
    // board nor its "best score over time" chart shows them.
    forgetLeaderboards(slug);
    expect((await leaderboardForTask(slug)).entries.map((entry) => entry.teamId)).toEqual([participant.team.id]);
    const series = await bestScoreOverTime(slug);
    expect(series.map((each) => each.teamId)).toEqual([participant.team.id]);
    expect(series[0].points.map((point) => point.best)).toEqual([result.publicScore]);
    worker = await startWorker("scoring-versions-worker-2");
  });
});

describe("a public fraction that leaves a side of the split empty", () => {
  let small: string;
  beforeAll(async () => {
    small = (await taskWithDataset({ inputs, labels: int64Labels(labels), outputSpec: [{ name: "output", dtype: "float32", shape: [-1, CLASSES] }], publicFraction: 0.02 })).slug;
  });

  const fractions: [number, string | null][] = [
    [0.0001, "leaves the public leaderboard no rows of the 100 test rows (0 public, 100 private)"],
    [0.004, "leaves the public leaderboard no rows of the 100 test rows (0 public, 100 private)"],
    [0.995, "leaves the private leaderboard no rows of the 100 test rows (100 public, 0 private)"],
    [0, "must leave rows on the public leaderboard (more than 0)"],
    [1, "must leave rows on the private leaderboard (less than 1)"],
    [0.005, null],
  ];

  it.each(fractions)("%d of 100 rows: refused at save in the editor and the API with a field message (or saved)", async (fraction, message) => {
    const form = (await taskFormValues(admin, small))!;
    const saved = await saveTask(admin, { ...form, publicFraction: String(fraction) }, small, { confirmRescore: true });
    const api = await updateTaskFromApi(admin, small, { publicFraction: fraction, confirmRescore: true }).then(
      () => null,
      (error: unknown) => errorResponse(error),
    );
    if (message === null) {
      expect(saved).toMatchObject({ ok: true });
      expect(api).toBeNull();
      return;
    }
    expect(saved).toMatchObject({ ok: false });
    expect((saved.ok ? "" : (saved.fieldErrors.publicFraction?.join(" ") ?? "")).toLowerCase()).toContain(message);
    expect(api?.status).toBe(422);
    const body = (await api!.json()) as { error: { fields: { path: string; message: string }[] } };
    expect(body.error.fields).toContainEqual({ path: "publicFraction", message: expect.stringContaining(message) });
  });

  it("refuses a dataset import whose row count empties a side, and keeps the current dataset", async () => {
    await updateTaskFromApi(admin, small, { publicFraction: 0.02, confirmRescore: true });
    const before = await db.task.findUniqueOrThrow({ where: { slug: small }, select: { datasetVersion: true, datasetRows: true, scoringVersion: true } });
    expect(before.datasetRows).toBe(100);
    const staging = path.join(process.env.GOAT_TEST_ROOT!, "staging", `${small}-shrunk`);
    await fs.mkdir(staging, { recursive: true });
    // 20 rows at 0.02: round(0.4) = 0 public rows.
    await writeNpyFile(path.join(staging, "inputs.npy"), randomRows(20, 4, 3));
    await writeNpyFile(path.join(staging, "labels.npy"), int64Labels(labels.slice(0, 20)));
    const refused = await importDataset(small, { inputs: path.join(staging, "inputs.npy"), labels: path.join(staging, "labels.npy") }).then(
      () => null,
      (error: unknown) => errorResponse(error),
    );
    expect(refused?.status).toBe(422);
    expect(((await refused!.json()) as { error: { message: string } }).error.message).toContain("leaves the public leaderboard no rows of the 20 test rows");
    expect(await db.task.findUniqueOrThrow({ where: { slug: small }, select: { datasetVersion: true, datasetRows: true, scoringVersion: true } })).toEqual(before);
  });
});

describe("a dataset re-import", () => {
  it("with the same content keeps the scoring version; with new content bumps it and re-scores the task's submissions", async () => {
    const before = await scoringOf(slug);
    const staging = path.join(process.env.GOAT_TEST_ROOT!, "staging", `${slug}-again`);
    await fs.mkdir(staging, { recursive: true });
    const files = { inputs: path.join(staging, "inputs.npy"), labels: path.join(staging, "labels.npy") };
    await writeNpyFile(files.inputs, inputs);
    await writeNpyFile(files.labels, int64Labels(labels));
    expect(await importDataset(slug, files)).toMatchObject({ rows: ROWS, version: before.datasetVersion, rescoring: 0 });
    expect((await scoringOf(slug)).scoringVersion).toBe(before.scoringVersion);

    await writeNpyFile(files.labels, int64Labels(labels.map((label) => (label + 1) % CLASSES)));
    const evaluated = await db.submission.count({ where: { task: { slug }, status: { in: ["SCORED", "FAILED"] } } });
    await evaluationQueue().pause();
    const imported = await importDataset(slug, files);
    expect(imported.version).not.toBe(before.datasetVersion);
    expect(evaluated).toBe(3);
    expect(imported.rescoring).toBe(evaluated);
    const after = await scoringOf(slug);
    expect(after).toMatchObject({ scoringVersion: before.scoringVersion + 1, datasetVersion: imported.version });
    const during = await leaderboardForTask(slug);
    expect(during.rescoring).toEqual({ done: 0, total: 3 });
    expect(during.entries).toEqual([]);
    await evaluationQueue().resume();
    const ids = (await db.submission.findMany({ where: { task: { slug } }, select: { id: true } })).map((row) => row.id);
    await waitUntilRescored(ids);
    const results = await db.result.findMany({ where: { submissionId: { in: ids } } });
    // Two re-scored under the new dataset; the NaN model's re-score failed and kept its older result.
    expect(results.filter((result) => result.scoringVersion === after.scoringVersion)).toHaveLength(2);
    expect(results.filter((result) => result.scoringVersion < after.scoringVersion)).toHaveLength(1);
    const board = await leaderboardForTask(slug);
    expect(board.entries.map((entry) => entry.olderScoring).sort()).toEqual([false, false, true]);
  });
});
