import IORedis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SessionUser } from "@/lib/auth/session";
import { createUser } from "@/lib/accounts/users";
import { setBoardSettings } from "@/lib/admin/board-settings";
import { setPrivateRevealed } from "@/lib/admin/controls";
import { saveTask, taskFormValues } from "@/lib/tasks/editor";
import { db } from "@/lib/db";
import { env } from "@/lib/env";
import { GET as leaderboardEventsRoute } from "@/app/api/tasks/[task]/leaderboard/events/route";
import { openLeaderboardStreams } from "@/lib/events/leaderboard-stream";
import { boardExtras } from "@/lib/leaderboard/extras";
import { markOwnBin } from "@/lib/leaderboard/score-histogram";
import { leaderboardViewer } from "@/lib/leaderboard/viewer";
import { forgetLeaderboards, leaderboardSnapshot, pageOfBoard } from "@/lib/leaderboard/cache";
import { dayStartRanks, takeDayStarts, utcDayStart } from "@/lib/leaderboard/day-start";
import { int64Labels, participantWithTeam, randomRows, taskWithDataset, uniqueName } from "./support/fixtures";
import { readEvents } from "./support/server-sent-events";
import { waitFor } from "./support/wait";

// The leaderboard's extras against the real Postgres and Redis: the start-of-day ranks (taken once
// per task and day, the freeze respected, never re-read per view), the shake-up of a revealed
// private board, the reference row (an organiser's choice, never ranked, placed by its score, frozen
// like any entry), the histogram (public scores only), and a reveal reaching open streams.

const redis = new IORedis(process.env.REDIS_URL!);
let admin: SessionUser;
let userId: number;

async function newTask(overrides: { closesAt?: Date; publicFreezeMinutes?: number; direction?: "MAXIMIZE" | "MINIMIZE" } = {}) {
  const task = await taskWithDataset({
    inputs: randomRows(12, 4, 7),
    labels: int64Labels(Array.from({ length: 12 }, (_, i) => i % 3)),
    closesAt: overrides.closesAt ?? null,
    direction: overrides.direction,
  });
  if (overrides.publicFreezeMinutes) await db.task.update({ where: { id: task.id }, data: { publicFreezeMinutes: overrides.publicFreezeMinutes } });
  return task;
}

async function team(name = uniqueName("team")) {
  return db.team.create({ data: { name, inviteCode: uniqueName("invite") }, select: { id: true, name: true } });
}

/** A scored submission stored as the worker stores it (RUNNING -> SCORED with its result, one transaction). */
async function scored(taskId: number, teamId: number, publicScore: number, privateScore = publicScore, options: { createdAt?: Date; reference?: boolean; name?: string } = {}) {
  const { id } = await db.submission.create({
    data: {
      taskId, teamId, userId, fileName: "m.onnx", sha256: "ab".repeat(32), sizeBytes: 1, storageKey: uniqueName("k"), paramCount: 1, status: "RUNNING",
      isReference: options.reference ?? false, name: options.name, ...(options.createdAt ? { createdAt: options.createdAt } : {}),
    },
  });
  await db.$transaction(async (tx) => {
    await tx.submission.update({ where: { id }, data: { status: "SCORED", finishedAt: new Date() } });
    await tx.result.create({
      data: { submissionId: id, publicMetrics: {}, privateMetrics: {}, publicScore, privateScore, latencyP50Ms: 1, latencyP95Ms: 1, modelBytes: 1, paramCount: 1, receipt: {} },
    });
  });
  return id;
}

/** As a fresh web process would be: no start-of-day ranks in memory. */
function forgetDayStartsInMemory() {
  (globalThis as { goatDayStarts?: Map<string, unknown> }).goatDayStarts?.clear();
}

/** The page extras as the leaderboard page asks for them (first page, 100 rows). */
async function extrasOf(slug: string, board: "public" | "private", now = new Date(), pageSize = 100, page = 1) {
  forgetLeaderboards(slug);
  const revealed = board === "private";
  const snapshot = await leaderboardSnapshot(slug, board, revealed);
  const leaderboard = pageOfBoard(snapshot, { board, page, pageSize, search: "" }, null);
  return { leaderboard, extras: await boardExtras(snapshot, leaderboard, now) };
}

beforeAll(async () => {
  const user = await createUser({ email: `${uniqueName("admin")}@test.local`, name: "Organiser", password: "test-password-1", role: "ADMIN" });
  admin = { id: user.id, email: user.email, name: "Organiser", role: "ADMIN", team: null };
  userId = (await participantWithTeam()).user.id;
});

afterAll(async () => {
  await redis.quit();
});

describe("rank change since the start of the UTC day", () => {
  it("takes the public board's ranks once per day and shows each team's move against them", async () => {
    const task = await newTask();
    const [a, b, c] = [await team(), await team(), await team()];
    await scored(task.id, a.id, 0.9);
    await scored(task.id, b.id, 0.8);
    const morning = new Date("2026-11-29T00:00:30Z");
    expect(Object.fromEntries(await dayStartRanks(task.slug, morning))).toEqual({ [a.id]: 1, [b.id]: 2 });
    expect(await db.leaderboardDayStart.count({ where: { taskId: task.id } })).toBe(1);

    // During the day: b overtakes a, c arrives. The day's ranks stay those taken at its start.
    await scored(task.id, b.id, 0.95);
    await scored(task.id, c.id, 0.85);
    const noon = new Date("2026-11-29T12:00:00Z");
    const { leaderboard, extras } = await extrasOf(task.slug, "public", noon);
    expect(leaderboard.entries.map((entry) => [entry.team, entry.rank])).toEqual([[b.name, 1], [a.name, 2], [c.name, 3]]);
    expect(extras.dayStartRanks).toEqual({ [a.id]: 1, [b.id]: 2 });

    // The stored row is the day's, even for a process that has not cached it yet.
    forgetDayStartsInMemory();
    expect(Object.fromEntries(await dayStartRanks(task.slug, noon))).toEqual({ [a.id]: 1, [b.id]: 2 });

    // The next day starts from the board as it then is.
    const nextDay = new Date("2026-11-30T00:01:00Z");
    expect(Object.fromEntries(await dayStartRanks(task.slug, nextDay))).toEqual({ [b.id]: 1, [a.id]: 2, [c.id]: 3 });
    expect((await db.leaderboardDayStart.findMany({ where: { taskId: task.id }, orderBy: { day: "asc" }, select: { day: true } })).map((row) => row.day.toISOString())).toEqual([
      "2026-11-29T00:00:00.000Z",
      "2026-11-30T00:00:00.000Z",
    ]);
  });

  it("respects the public freeze: a score submitted after it neither moves nor enters the day's ranks", async () => {
    const closesAt = new Date(Date.now() + 30 * 60_000);
    const task = await newTask({ closesAt, publicFreezeMinutes: 60 });
    const [early, late] = [await team(), await team()];
    await scored(task.id, early.id, 0.5, 0.5, { createdAt: new Date(Date.now() - 2 * 3600_000) });
    await scored(task.id, late.id, 0.99);
    forgetLeaderboards(task.slug);
    expect(Object.fromEntries(await dayStartRanks(task.slug, new Date("2026-12-01T00:00:10Z")))).toEqual({ [early.id]: 1 });
  });

  it("the periodic pass takes every task's missing day once, and concurrent takers store one row", async () => {
    const task = await newTask();
    const only = await team();
    await scored(task.id, only.id, 0.7);
    const day = new Date("2026-12-05T00:00:20Z");
    forgetDayStartsInMemory();
    const first = await takeDayStarts(day);
    expect(first).toBeGreaterThanOrEqual(1);
    expect(await db.leaderboardDayStart.findUnique({ where: { taskId_day: { taskId: task.id, day: utcDayStart(day) } }, select: { ranks: true } })).toEqual({ ranks: { [only.id]: 1 } });
    expect(await takeDayStarts(day)).toBe(0);

    const raceDay = new Date("2026-12-06T00:00:05Z");
    forgetDayStartsInMemory();
    const takers = Array.from({ length: 5 }, () => {
      forgetDayStartsInMemory();
      return dayStartRanks(task.slug, raceDay);
    });
    for (const ranks of await Promise.all(takers)) expect(Object.fromEntries(ranks)).toEqual({ [only.id]: 1 });
    expect(await db.leaderboardDayStart.count({ where: { taskId: task.id, day: utcDayStart(raceDay) } })).toBe(1);
  });
});

describe("the shake-up on reveal", () => {
  it("sums up how the private board differs from the public one", async () => {
    const task = await newTask();
    const teams = await Promise.all(["Alpha", "Bravo", "Charlie", "Delta", "Echo"].map((name) => team(uniqueName(name))));
    // Public order: Alpha, Bravo, Charlie, Delta, Echo. Private: Echo jumps 4 places to the top.
    const publicScores = [0.9, 0.8, 0.7, 0.6, 0.5];
    const privateScores = [0.8, 0.7, 0.6, 0.5, 0.95];
    for (const [index, each] of teams.entries()) await scored(task.id, each.id, publicScores[index], privateScores[index]);
    await setPrivateRevealed(admin, task.slug, true);
    const { leaderboard, extras } = await extrasOf(task.slug, "private");
    expect(leaderboard.entries.map((entry) => [entry.team, entry.rank, entry.publicRank])).toEqual([
      [teams[4].name, 1, 5],
      [teams[0].name, 2, 1],
      [teams[1].name, 3, 2],
      [teams[2].name, 4, 3],
      [teams[3].name, 5, 4],
    ]);
    expect(extras.shakeUp?.text).toBe(`The top 3 changed; largest move: ${teams[4].name} up 4 places.`);
    expect(extras.dayStartRanks).toBeUndefined();
  });
});

describe("reference rows", () => {
  it("shows the latest scored reference model, unranked, only when the organiser chose to, frozen like any entry", async () => {
    const closesAt = new Date(Date.now() + 30 * 60_000);
    const task = await newTask({ closesAt, publicFreezeMinutes: 60 });
    const organisers = await team(uniqueName("organisers"));
    const [a, b] = [await team(), await team()];
    const beforeFreeze = new Date(Date.now() - 2 * 3600_000);
    await scored(task.id, a.id, 0.9, 0.9, { createdAt: beforeFreeze });
    await scored(task.id, b.id, 0.6, 0.6, { createdAt: beforeFreeze });
    await scored(task.id, organisers.id, 0.75, 0.7, { createdAt: beforeFreeze, reference: true, name: "logistic baseline" });
    // A newer reference model, uploaded after the freeze: on the private board only.
    await scored(task.id, organisers.id, 0.8, 0.65, { reference: true });

    expect((await extrasOf(task.slug, "public")).extras.reference).toBeNull();

    // The organiser turns it on in the task editor; the form reads it back.
    const form = (await taskFormValues(admin, task.slug))!;
    expect(form.showReferenceOnBoards).toBe("hidden");
    expect(await saveTask(admin, { ...form, showReferenceOnBoards: "shown" }, task.slug)).toEqual({ ok: true, slug: task.slug, rescoring: 0 });
    expect((await taskFormValues(admin, task.slug))!.showReferenceOnBoards).toBe("shown");

    const onPublic = await extrasOf(task.slug, "public");
    expect(onPublic.extras.reference).toMatchObject({ label: "Reference: logistic baseline", score: 0.75 });
    // Never ranked, never a team: the board still has exactly the two teams.
    expect(onPublic.leaderboard.entries.map((entry) => [entry.team, entry.rank])).toEqual([[a.name, 1], [b.name, 2]]);

    await setPrivateRevealed(admin, task.slug, true);
    const onPrivate = await extrasOf(task.slug, "private");
    expect(onPrivate.extras.reference).toMatchObject({ label: "Reference: baseline", score: 0.65 });
    expect(onPrivate.leaderboard.entries).toHaveLength(2);
  });

  it("goes on the page where its score falls, and not on the others; the admin API turns it on", async () => {
    const task = await newTask();
    const organisers = await team(uniqueName("organisers"));
    for (let index = 0; index < 5; index++) await scored(task.id, (await team()).id, 0.9 - index * 0.1);
    await scored(task.id, organisers.id, 0.65, 0.65, { reference: true });
    const participant = { id: userId, email: "p@test.local", name: "P", role: "PARTICIPANT" as const, team: null };
    await expect(setBoardSettings(participant, task.slug, { showReferenceOnBoards: true })).rejects.toMatchObject({ status: 403 });
    await expect(setBoardSettings(admin, "no-such-task", { showReferenceOnBoards: true })).rejects.toMatchObject({ status: 404 });
    await expect(setBoardSettings(admin, task.slug, { showReferenceOnBoards: "yes" })).rejects.toThrow();
    expect(await setBoardSettings(admin, task.slug, { showReferenceOnBoards: true })).toEqual({ task: task.slug, showReferenceOnBoards: true });
    expect(await db.auditLogEntry.findFirst({ where: { action: "task.board_settings", target: `task:${task.slug}` }, select: { actorId: true, details: true } })).toEqual({
      actorId: admin.id,
      details: { showReferenceOnBoards: true },
    });
    // Scores 0.9, 0.8 | 0.7, 0.6 | 0.5 in pages of two: the reference (0.65) is on page 2.
    const pages = await Promise.all([1, 2, 3].map(async (page) => (await extrasOf(task.slug, "public", new Date(), 2, page)).extras));
    expect(pages.map((extras) => extras.reference?.score ?? null)).toEqual([null, 0.65, null]);
    expect(pages.map((extras) => extras.endsBoard)).toEqual([false, false, true]);
  });
});

describe("the score distribution", () => {
  it("bins the teams' best public scores and marks the caller's team, from the public board only", async () => {
    const closesAt = new Date(Date.now() + 30 * 60_000);
    const task = await newTask({ closesAt, publicFreezeMinutes: 60 });
    const early = new Date(Date.now() - 2 * 3600_000);
    const teams = await Promise.all([0, 1, 2, 3].map(() => team()));
    for (const [index, each] of teams.entries()) await scored(task.id, each.id, 0.1 + index * 0.2, 0.5, { createdAt: early });
    // After the freeze: a far better score that the public board (and so the histogram) does not show.
    await scored(task.id, teams[0].id, 5, 5);
    const { extras } = await extrasOf(task.slug, "public");
    expect(extras.histogram.map((bin) => bin.teams)).toEqual([2, 2]);
    expect(extras.histogram.map((bin) => bin.own)).toEqual([false, false]); // the page is the same for every reader
    expect(extras.histogram[1].to).toBeCloseTo(0.7);
    // The reader's own part (the browser marks the bin from it): team 0's best public score is its frozen one.
    const reader = (each: { id: number; name: string }): SessionUser => ({ id: userId, email: "reader@test.local", name: "Reader", role: "PARTICIPANT", team: each });
    const second = await leaderboardViewer(task.slug, "public", reader(teams[1]));
    expect(second.ownPublicScore).toBeCloseTo(0.3);
    expect(markOwnBin(extras.histogram, second.ownPublicScore).map((bin) => bin.own)).toEqual([true, false]);
    const first = await leaderboardViewer(task.slug, "public", reader(teams[0]));
    expect(first.ownPublicScore).toBeCloseTo(0.1);
    expect(first.ownScores!.map((point) => point.score)).toEqual([0.1, 5]); // its own submissions, the one after the freeze too
    expect(markOwnBin(extras.histogram, first.ownPublicScore).map((bin) => bin.own)).toEqual([true, false]);
    expect(markOwnBin(extras.histogram, (await leaderboardViewer(task.slug, "public", reader(teams[3]))).ownPublicScore).map((bin) => bin.own)).toEqual([false, true]);
  });
});

describe("the reveal reaches open pages", () => {
  it("one publish tells every open stream of the task that the private board was revealed, then hidden", async () => {
    const task = await newTask();
    await scored(task.id, (await team()).id, 0.5);
    const aborts = [new AbortController(), new AbortController()];
    const streams = await Promise.all(aborts.map((abort) => leaderboardEventsRoute(new Request("http://x/", { signal: abort.signal }), { params: Promise.resolve({ task: task.slug }) })));
    await waitFor("the reveal subscription", async () => {
      const [, subscribers] = (await redis.pubsub("NUMSUB", `${env().QUEUE_PREFIX}:board-reveal-events`)) as [string, number];
      return Number(subscribers) >= 1;
    });
    const reading = streams.map((stream) => readEvents(stream, 2, 10_000));
    await setPrivateRevealed(admin, task.slug, true);
    await setPrivateRevealed(admin, task.slug, false);
    for (const events of await Promise.all(reading)) {
      expect(events.map((event) => [event.event, event.data.taskSlug, event.data.revealed])).toEqual([
        ["revealed", task.slug, true],
        ["hidden", task.slug, false],
      ]);
    }
    for (const abort of aborts) abort.abort();
    await waitFor("the streams to close", async () => openLeaderboardStreams() === 0);
  });
});
