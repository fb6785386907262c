import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SessionUser } from "@/lib/auth/session";
import { db } from "@/lib/db";
import { cancelSubmission, rescoreTask, retrySubmission } from "@/lib/admin/controls";
import { updateTaskScoring } from "@/lib/admin/scoring-edit";
import { failForParticipant, recordPlatformFault } from "../../worker/src/evaluate-submission";
import { ParticipantFault } from "../../worker/src/faults";
import { leaderboardForTask, publicCutoff, type LeaderboardEntry } from "@/lib/leaderboard/board";
import { compareEntries, rankEntries } from "@/lib/leaderboard/ranking";
import { createUser } from "@/lib/accounts/users";
import { int64Labels, participantWithTeam, randomRows, taskWithDataset, uniqueName } from "./support/fixtures";

// The maintained board (leaderboard_entries, kept by Postgres triggers) against the ranking computed
// from scratch over every result, on random data and after every kind of change the platform makes:
// results stored the way the worker stores them, cancels, retries, re-scores, failures of a
// re-scored submission, freeze and direction edits, scoring changes (new scoring versions) and
// failed re-scores that keep their previous result, deleted submissions, concurrent results, final
// selections and their limit, reveals.

/**
 * The from-scratch ranking, written apart from the SQL it checks (docs/ranking.md): every counted
 * result of the task; the public board honours the freeze (lifted to the close by the reveal); the
 * private board counts each team's finals only (its selected ones, else its K best public ones);
 * scores compare by their 9-decimal key, ties going to the earliest submission.
 */
async function boardFromScratch(taskId: number, board: "public" | "private") {
  const task = await db.task.findUniqueOrThrow({ where: { id: taskId } });
  const rows = await db.submission.findMany({
    where: { taskId, status: { in: ["SCORED", "QUEUED", "RUNNING"] }, isReference: false, result: { isNot: null } },
    select: { id: true, teamId: true, createdAt: true, team: { select: { name: true } }, rescoreFailedVersion: true, result: { select: { publicScore: true, privateScore: true, scoringVersion: true } }, finalSelection: { select: { submissionId: true } } },
  });
  // Scoring versions: a result counts when it is of the task's current version, or when it was kept
  // because the submission's re-score under that version failed.
  const current = rows.filter((row) => row.result!.scoringVersion === task.scoringVersion || row.rescoreFailedVersion === task.scoringVersion);
  const byTeam = new Map<number, typeof rows>();
  for (const row of current) byTeam.set(row.teamId, [...(byTeam.get(row.teamId) ?? []), row]);
  const cutoff = publicCutoff(task);
  const entry = (row: (typeof rows)[number], score: number) => ({ teamId: row.teamId, team: row.team.name, score, submissionId: row.id, submittedAt: row.createdAt.toISOString() });
  const best = <T extends { score: number; submittedAt: string; submissionId: number }>(items: T[]) => [...items].sort((a, b) => compareEntries(task.direction, a, b))[0];
  const entries = [];
  for (const own of byTeam.values()) {
    let counted: { row: (typeof rows)[number]; score: number }[];
    let final: "selected" | "default" | undefined;
    if (board === "public") {
      counted = own.filter((row) => cutoff === null || row.createdAt < cutoff).map((row) => ({ row, score: row.result!.publicScore }));
    } else {
      const selected = own.filter((row) => row.finalSelection !== null);
      final = selected.length ? "selected" : "default";
      const finals = selected.length
        ? selected
        : [...own].sort((a, b) => compareEntries(task.direction, entry(a, a.result!.publicScore), entry(b, b.result!.publicScore))).slice(0, task.finalSubmissionLimit);
      counted = finals.map((row) => ({ row, score: row.result!.privateScore }));
    }
    if (!counted.length) continue;
    const top = best(counted.map(({ row, score }) => entry(row, score)));
    const version = own.find((row) => row.id === top.submissionId)!.result!.scoringVersion;
    entries.push({ ...top, submissionCount: counted.length, ...(final ? { final } : {}), scoringVersion: version, olderScoring: version !== task.scoringVersion });
  }
  return rankEntries(task.direction, entries);
}

/** Compares both boards with the from-scratch ranking: the public one as the task is, the private one revealed. */
async function expectBoardsMatch(slug: string, taskId: number, step: string) {
  const { privateRevealedAt } = await db.task.findUniqueOrThrow({ where: { id: taskId }, select: { privateRevealedAt: true } });
  // Intervals and the tied tier are checked in leaderboard-intervals.test.ts (these results have none).
  const ranking = ({ interval: _interval, statisticallyTied: _tied, ...entry }: LeaderboardEntry) => entry;
  expect((await leaderboardForTask(slug, "public")).entries.map(ranking), `public board after ${step}`).toEqual(await boardFromScratch(taskId, "public"));
  if (!privateRevealedAt) await db.task.update({ where: { id: taskId }, data: { privateRevealedAt: new Date() } });
  const [maintainedPublic, maintainedPrivate, scratchPublic, scratchPrivate] = await Promise.all([
    leaderboardForTask(slug, "public"),
    leaderboardForTask(slug, "private"),
    boardFromScratch(taskId, "public"),
    boardFromScratch(taskId, "private"),
  ]);
  expect(maintainedPublic.entries.map(ranking), `revealed public board after ${step}`).toEqual(scratchPublic);
  expect(
    maintainedPrivate.entries.map((entry) => ranking(entry)).map(({ publicRank: _rank, publicScore: _score, ...entry }) => entry),
    `private board after ${step}`,
  ).toEqual(scratchPrivate);
  if (!privateRevealedAt) await db.task.update({ where: { id: taskId }, data: { privateRevealedAt: null } });
}

/** Deterministic pseudo-random numbers, so a failure can be replayed. */
function randomSource(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    return state / 2 ** 32;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(items: T[]) => items[Math.floor(next() * items.length)] };
}

/**
 * A result stored the way worker/src/evaluate-submission.ts stores it: one transaction, RUNNING -> SCORED, the old result
 * replaced, under the task's current scoring version.
 */
async function storeResult(submissionId: number, publicScore: number, privateScore: number): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const { count } = await tx.submission.updateMany({ where: { id: submissionId, status: "RUNNING" }, data: { status: "SCORED", finishedAt: new Date(), rescoreFailedVersion: null } });
    if (count !== 1) return false;
    const { task } = await tx.submission.findUniqueOrThrow({ where: { id: submissionId }, select: { task: { select: { scoringVersion: true } } } });
    await tx.result.deleteMany({ where: { submissionId } });
    await tx.result.create({
      data: {
        submissionId, publicMetrics: {}, privateMetrics: {}, publicScore, privateScore, latencyP50Ms: 1, latencyP95Ms: 1, modelBytes: 1, paramCount: 1, receipt: {},
        scoringVersion: task.scoringVersion,
      },
    });
    return true;
  });
}

async function newSubmission(taskId: number, teamId: number, userId: number, createdAt: Date, isReference = false) {
  const row = await db.submission.create({
    data: { taskId, teamId, userId, fileName: "m.onnx", sha256: "ab".repeat(32), sizeBytes: 1, storageKey: uniqueName("k"), paramCount: 1, createdAt, isReference },
    select: { id: true },
  });
  return row.id;
}

let admin: SessionUser;
let taskId: number;
let slug: string;
let otherTaskId: number;
let teams: { teamId: number; userId: number }[];

beforeAll(async () => {
  const user = await createUser({ email: `${uniqueName("admin")}@test.local`, name: "Organiser", password: "test-password-1" });
  await db.user.update({ where: { id: user.id }, data: { role: "ADMIN" } });
  admin = { id: user.id, email: user.email, name: user.name, role: "ADMIN", team: null };
  const dataset = { inputs: randomRows(20, 4, 1), labels: int64Labels(Array.from({ length: 20 }, (_, i) => i % 3)) };
  const task = await taskWithDataset(dataset);
  taskId = task.id;
  slug = task.slug;
  otherTaskId = (await taskWithDataset(dataset)).id;
  teams = [];
  for (let i = 0; i < 8; i++) {
    const participant = await participantWithTeam();
    teams.push({ teamId: participant.team.id, userId: participant.user.id });
  }
});

afterAll(async () => {
  await db.task.deleteMany({ where: { id: { in: [taskId, otherTaskId] } } });
});

describe("the maintained leaderboard", () => {
  it("equals the from-scratch ranking on random data after every kind of change", async () => {
    const random = randomSource(20261129);
    const start = Date.UTC(2026, 10, 1);
    const at = () => new Date(start + random.int(10 * 24 * 60) * 60_000);
    // Few distinct scores, so ties between and within teams are common; some differ only in the
    // last bits of the float (0.1 + 0.2 against 0.3), which must tie too.
    const score = () => (random.next() < 0.1 ? 0.1 + 0.2 : random.int(8) / 8 + (random.next() < 0.5 ? 0.3 : 0));
    const queued: number[] = [];

    for (let i = 0; i < 60; i++) {
      const team = random.pick(teams);
      const isReference = random.next() < 0.08;
      const id = await newSubmission(random.next() < 0.15 ? otherTaskId : taskId, team.teamId, team.userId, at(), isReference);
      await db.submission.update({ where: { id }, data: { status: "RUNNING" } });
      if (random.next() < 0.85) await storeResult(id, score(), score());
      else queued.push(id);
    }
    await expectBoardsMatch(slug, taskId, "the initial results");

    const statusOf = async (status: "QUEUED" | "RUNNING" | "SCORED" | "FAILED" | "CANCELLED") =>
      (await db.submission.findMany({ where: { taskId, status }, select: { id: true } })).map((row) => row.id);

    for (let step = 0; step < 40; step++) {
      const action = random.int(14);
      let name = "";
      if (action === 0) {
        name = "a new result";
        const team = random.pick(teams);
        const id = await newSubmission(taskId, team.teamId, team.userId, at());
        await db.submission.update({ where: { id }, data: { status: "RUNNING" } });
        await storeResult(id, score(), score());
      } else if (action === 1) {
        name = "a cancel";
        const candidates = [...(await statusOf("QUEUED")), ...(await statusOf("RUNNING"))];
        if (candidates.length) await cancelSubmission(admin, random.pick(candidates));
      } else if (action === 2) {
        name = "a re-score of the task";
        await rescoreTask(admin, slug);
      } else if (action === 3) {
        name = "a re-scored submission's new result";
        const candidates = await statusOf("QUEUED");
        if (candidates.length) {
          const id = random.pick(candidates);
          await db.submission.update({ where: { id }, data: { status: "RUNNING" } });
          await storeResult(id, score(), score());
        }
      } else if (action === 4) {
        name = "a re-scored submission failing (the worker's own failure paths)";
        const candidates = await statusOf("QUEUED");
        if (candidates.length) {
          const id = random.pick(candidates);
          await db.submission.update({ where: { id }, data: { status: "RUNNING" } });
          if (random.next() < 0.5) await failForParticipant(db, id, new ParticipantFault("BAD_OUTPUT", "The model produced no output."));
          else await recordPlatformFault(db, id, true);
        }
      } else if (action === 5) {
        name = "a retry";
        const candidates = [...(await statusOf("FAILED")), ...(await statusOf("CANCELLED"))];
        if (candidates.length) await retrySubmission(admin, random.pick(candidates));
      } else if (action === 6) {
        name = "a freeze edit";
        const closesAt = random.next() < 0.2 ? null : new Date(start + random.int(12 * 24 * 60) * 60_000);
        await db.task.update({ where: { id: taskId }, data: { closesAt, publicFreezeMinutes: random.pick([0, 60, 24 * 60, 3 * 24 * 60]) } });
      } else if (action === 7) {
        name = "a direction edit";
        const { direction } = await db.task.findUniqueOrThrow({ where: { id: taskId }, select: { direction: true } });
        await db.task.update({ where: { id: taskId }, data: { direction: direction === "MAXIMIZE" ? "MINIMIZE" : "MAXIMIZE" } });
      } else if (action === 8) {
        name = "a team's final selection";
        const team = random.pick(teams);
        const scored = await db.submission.findMany({ where: { taskId, teamId: team.teamId, status: "SCORED", isReference: false }, select: { id: true } });
        const { finalSubmissionLimit } = await db.task.findUniqueOrThrow({ where: { id: taskId }, select: { finalSubmissionLimit: true } });
        const chosen = scored.filter(() => random.next() < 0.4).slice(0, finalSubmissionLimit).map((row) => row.id);
        await db.$transaction([
          db.finalSelection.deleteMany({ where: { taskId, teamId: team.teamId } }),
          db.finalSelection.createMany({ data: chosen.map((submissionId) => ({ submissionId, taskId, teamId: team.teamId })) }),
        ]);
      } else if (action === 9) {
        name = "a change of the number of finals";
        await db.task.update({ where: { id: taskId }, data: { finalSubmissionLimit: random.pick([1, 2, 3, 5]) } });
      } else if (action === 10) {
        name = "a reveal or a hide";
        const { privateRevealedAt } = await db.task.findUniqueOrThrow({ where: { id: taskId }, select: { privateRevealedAt: true } });
        await db.task.update({ where: { id: taskId }, data: { privateRevealedAt: privateRevealedAt ? null : new Date() } });
      } else if (action === 12 || action === 13) {
        name = "a scoring change (a new scoring version, every evaluated submission re-queued)";
        const { publicFraction } = await db.task.findUniqueOrThrow({ where: { id: taskId }, select: { publicFraction: true } });
        await updateTaskScoring(slug, { publicFraction: publicFraction === 0.5 ? 0.6 : 0.5 }, { confirmRescore: true });
      } else {
        name = "a deleted submission";
        const candidates = await statusOf("SCORED");
        if (candidates.length) await db.submission.delete({ where: { id: random.pick(candidates) } });
      }
      await expectBoardsMatch(slug, taskId, `step ${step}: ${name}`);
    }
    // A last scoring change, re-scored to the end: one team's re-scores all fail (its previous
    // result stays, marked as of the older version), every other submission gets a new result.
    await updateTaskScoring(slug, { topK: 2, metrics: ["accuracy", "top_k"] }, { confirmRescore: true });
    const { scoringVersion } = await db.task.findUniqueOrThrow({ where: { id: taskId }, select: { scoringVersion: true } });
    const requeued = await db.submission.findMany({ where: { taskId, status: "QUEUED", isReference: false, result: { isNot: null } }, select: { id: true, teamId: true } });
    const failingTeam = requeued[0].teamId;
    for (const { id, teamId } of requeued) {
      await db.submission.update({ where: { id }, data: { status: "RUNNING" } });
      if (teamId === failingTeam) await failForParticipant(db, id, new ParticipantFault("BAD_OUTPUT", "The model produced no output."));
      else await storeResult(id, score(), score());
    }
    await expectBoardsMatch(slug, taskId, "the last re-score, finished");
    const finished = await leaderboardForTask(slug);
    expect(finished.rescoring).toBeNull();
    expect(finished.entries.find((entry) => entry.teamId === failingTeam)).toMatchObject({ olderScoring: true });
    expect(finished.entries.find((entry) => entry.teamId === failingTeam)?.scoringVersion).toBeLessThan(scoringVersion);
    expect(finished.entries.filter((entry) => entry.teamId !== failingTeam).every((entry) => entry.scoringVersion === scoringVersion)).toBe(true);
    // The other task's board is its own, and matched too.
    const other = await db.task.findUniqueOrThrow({ where: { id: otherTaskId }, select: { slug: true } });
    await expectBoardsMatch(other.slug, otherTaskId, "all the steps on the first task");
    // Every step changed the board at least once: the comparison is not of two empty lists.
    expect((await leaderboardForTask(slug)).entries.length).toBeGreaterThan(3);
  });

  it("keeps one row per team when results of the same team are stored concurrently", async () => {
    const team = teams[0];
    const ids: number[] = [];
    for (let i = 0; i < 12; i++) {
      const id = await newSubmission(taskId, team.teamId, team.userId, new Date(Date.UTC(2026, 10, 2, 0, i)));
      await db.submission.update({ where: { id }, data: { status: "RUNNING" } });
      ids.push(id);
    }
    await db.task.update({ where: { id: taskId }, data: { direction: "MAXIMIZE", closesAt: null } });
    const stored = await Promise.all(ids.map((id, i) => storeResult(id, 2 + i / 100, 2 + i / 100)));
    expect(stored.every(Boolean)).toBe(true);
    const board = await leaderboardForTask(slug);
    expect(board.entries[0]).toMatchObject({ teamId: team.teamId, submissionId: ids[11], score: 2.11, rank: 1 });
    await expectBoardsMatch(slug, taskId, "concurrent results");
  });

  it("never ranks a reference model, and reads the board without scanning results", async () => {
    const team = teams[1];
    const id = await newSubmission(taskId, team.teamId, team.userId, new Date(Date.UTC(2026, 10, 3)), true);
    await db.submission.update({ where: { id }, data: { status: "RUNNING" } });
    await storeResult(id, 99, 99);
    const rows = await db.leaderboardEntry.findMany({ where: { submissionId: id } });
    expect(rows).toEqual([]);
    const plan = await db.$queryRawUnsafe<{ "QUERY PLAN": string }[]>(
      `EXPLAIN SELECT * FROM leaderboard_entries WHERE task_id = ${taskId} AND board = 'PUBLIC' ORDER BY score DESC`,
    );
    expect(plan.map((row) => row["QUERY PLAN"]).join("\n")).not.toMatch(/results|submissions/);
  });
});
