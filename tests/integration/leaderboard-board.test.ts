import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SessionUser } from "@/lib/auth/session";
import { db } from "@/lib/db";
import { Prisma } from "@goat/contracts/db";
import { cancelSubmission, rescoreTask, retrySubmission } from "@/lib/admin/controls";
import { leaderboardForTask, publicFreezeStart, type LeaderboardEntry } from "@/lib/leaderboard";
import { assignRanks } from "@/lib/leaderboard-ranking";
import { createUser } from "@/lib/accounts";
import { int64Labels, participantWithTeam, randomRows, taskWithDataset, uniqueName } from "./support/fixtures";

// The maintained board (leaderboard_entries, kept by Postgres triggers) against the ranking computed
// from scratch over every result, on random data and after every kind of change the platform makes:
// results stored the way the worker stores them, cancels, retries, re-scores, failures of a
// re-scored submission, freeze and direction edits, deleted submissions, concurrent results.

/** The from-scratch ranking the table replaces: every counted result of the task, best per team. */
async function boardFromScratch(taskId: number, board: "public" | "private") {
  const task = await db.task.findUniqueOrThrow({ where: { id: taskId } });
  const column = Prisma.raw(board === "public" ? "r.public_score" : "r.private_score");
  const order = Prisma.raw(task.direction === "MAXIMIZE" ? "DESC" : "ASC");
  const createdBefore = board === "public" ? publicFreezeStart(task) : null;
  const frozen = createdBefore ? Prisma.sql`AND s.created_at < ${createdBefore}` : Prisma.empty;
  const rows = await db.$queryRaw<{ team_id: number; team_name: string; score: number; submission_id: number; created_at: Date; entries: bigint }[]>`
    SELECT * FROM (
      SELECT DISTINCT ON (s.team_id)
        s.team_id, t.name AS team_name, ${column} AS score, s.id AS submission_id, s.created_at,
        COUNT(*) OVER (PARTITION BY s.team_id) AS entries
      FROM submissions s
      JOIN results r ON r.submission_id = s.id
      JOIN teams t ON t.id = s.team_id
      WHERE s.task_id = ${taskId} AND s.status IN ('SCORED', 'QUEUED', 'RUNNING') AND NOT s.is_reference ${frozen}
      ORDER BY s.team_id, ${column} ${order}, s.created_at ASC, s.id ASC
    ) best
    ORDER BY best.score ${order}, best.created_at ASC, best.submission_id ASC`;
  return assignRanks(
    rows.map((row) => ({
      teamId: row.team_id,
      team: row.team_name,
      score: row.score,
      submissionId: row.submission_id,
      submittedAt: row.created_at.toISOString(),
      entries: Number(row.entries),
    })),
  );
}

async function expectBoardsMatch(slug: string, taskId: number, step: string) {
  await db.task.update({ where: { id: taskId }, data: { privateRevealedAt: new Date() } });
  const [maintainedPublic, maintainedPrivate, scratchPublic, scratchPrivate] = await Promise.all([
    leaderboardForTask(slug, "public"),
    leaderboardForTask(slug, "private"),
    boardFromScratch(taskId, "public"),
    boardFromScratch(taskId, "private"),
  ]);
  // Intervals and the tied tier are checked in leaderboard-intervals.test.ts (these results have none).
  const ranking = ({ interval: _interval, statisticallyTied: _tied, ...entry }: LeaderboardEntry) => entry;
  expect(maintainedPublic.entries.map(ranking), `public board after ${step}`).toEqual(scratchPublic);
  expect(
    maintainedPrivate.entries.map((entry) => ranking(entry)).map(({ publicRank: _rank, publicScore: _score, ...entry }) => entry),
    `private board after ${step}`,
  ).toEqual(scratchPrivate);
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

/** A result stored the way worker/src/evaluate-submission.ts stores it: one transaction, RUNNING -> SCORED, the old result replaced. */
async function storeResult(submissionId: number, publicScore: number, privateScore: number): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const { count } = await tx.submission.updateMany({ where: { id: submissionId, status: "RUNNING" }, data: { status: "SCORED", finishedAt: new Date() } });
    if (count !== 1) return false;
    await tx.result.deleteMany({ where: { submissionId } });
    await tx.result.create({
      data: { submissionId, publicMetrics: {}, privateMetrics: {}, publicScore, privateScore, latencyP50Ms: 1, latencyP95Ms: 1, modelBytes: 1, paramCount: 1, receipt: {} },
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
    // Few distinct scores, so ties between and within teams are common.
    const score = () => random.int(8) / 8;
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
      const action = random.int(9);
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
        name = "a re-scored submission failing";
        const candidates = await statusOf("QUEUED");
        if (candidates.length) {
          const id = random.pick(candidates);
          await db.submission.update({ where: { id }, data: { status: "RUNNING" } });
          await db.submission.updateMany({ where: { id, status: "RUNNING" }, data: { status: "FAILED", failureKind: "PARTICIPANT", message: "bad" } });
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
      } else {
        name = "a deleted submission";
        const candidates = await statusOf("SCORED");
        if (candidates.length) await db.submission.delete({ where: { id: random.pick(candidates) } });
      }
      await expectBoardsMatch(slug, taskId, `step ${step}: ${name}`);
    }
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
